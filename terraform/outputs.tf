output "ingress_urls" {
  description = "Route name → the URL the webhook provider POSTs to."
  value       = { for name, route in local.routes : name => "${local.api_endpoint}${local.stage_path}${route.path}" }
}

output "api_id" {
  description = "The HTTP API the routes are on."
  value       = local.api_id
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
