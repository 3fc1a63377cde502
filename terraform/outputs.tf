output "ingress_urls" {
  description = "Route name → the URL the webhook provider POSTs to."
  value       = { for name, route in local.routes : name => "${local.api_endpoint}${local.stage_path}${route.path}" }
}

output "api_id" {
  description = "The HTTP API the routes are on."
  value       = local.api_id
}

output "ingress_stage" {
  description = "The stage of the API that serves the routes (cmd/check reads it)."
  value       = local.stage_name
}

output "ingress_deploy_command" {
  description = "On an existing stage that does not auto-deploy (existing_api_stage_auto_deploy = false): the command that makes the routes live; run it after every apply that changes routes. null otherwise."
  value       = local.ingress_deploy_command
}

output "ingress_access_log_command" {
  description = "On an existing API: the commands that give its stage the access log the created API has (the only place a request API Gateway refused shows up). cmd/check says whether it is on. null when webhookq created the API."
  value = local.webhookq.ingress.create_api ? null : format(
    "aws logs create-log-group --region %s --log-group-name '%s' && aws apigatewayv2 update-stage --region %s --api-id %s --stage-name '%s' --access-log-settings '%s'",
    local.region, local.existing_access_log_group, local.region, local.api_id, local.stage_name,
    jsonencode({
      DestinationArn = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.existing_access_log_group}"
      Format         = local.access_log_format
    }),
  )
}

output "queue_url" {
  description = "The FIFO queue's URL."
  value       = aws_sqs_queue.main.url
}

output "queue_arn" {
  description = "The FIFO queue's ARN."
  value       = aws_sqs_queue.main.arn
}

output "dlq_url" {
  description = "The dead-letter queue's URL (cmd/redrive --dlq-url; --terraform-dir reads it from here)."
  value       = aws_sqs_queue.dlq.url
}

output "dlq_arn" {
  description = "The dead-letter queue's ARN."
  value       = aws_sqs_queue.dlq.arn
}

output "state_machine_arns" {
  description = "Route name → its Express state machine's ARN."
  value       = { for name, sm in aws_sfn_state_machine.route : name => sm.arn }
}

output "forward_event_source_mapping_uuid" {
  description = "The queue → forward event source mapping (disable it to pause delivery)."
  value       = aws_lambda_event_source_mapping.forward.uuid
}

output "execution_console_urls" {
  description = "Route name → the Step Functions console page listing its executions."
  value = {
    for name, sm in aws_sfn_state_machine.route :
    name => "https://${local.region}.console.aws.amazon.com/states/home?region=${local.region}#/statemachines/view/${urlencode(sm.arn)}"
  }
}

output "dashboard_urls" {
  description = "The service's CloudWatch dashboards (one, unless its routes need more than one dashboard holds); cmd/generate prints the same URLs."
  value       = [for d in local.webhookq.dashboards : d.url]
  depends_on  = [aws_cloudwatch_dashboard.main]
}

output "alarm_names" {
  description = "Alarm key (routes.yaml alarms.<key>, per route <key>/<route>) → the CloudWatch alarm's name."
  value       = { for key, a in aws_cloudwatch_metric_alarm.alarm : key => a.alarm_name }
}

output "probe_key_arn" {
  description = "The KMS HMAC key post-deploy probes are MACed with (cmd/check makes them with kms:GenerateMac; deliver checks them)."
  value       = aws_kms_key.probe.arn
}

output "function_names" {
  description = "Function role (forward, deliver, notify) → Lambda function name; its logs are in /aws/lambda/<name> (cmd/check reads them)."
  value       = { for key, fn in aws_lambda_function.function : key => fn.function_name }
}
