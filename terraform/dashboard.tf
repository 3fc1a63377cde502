# The service's CloudWatch dashboard: a row for what the routes share (the
# queue, the DLQ, the three Lambdas), then one row per route (ingress,
# executions, deliveries, latency, attempts). A dashboard holds 500 widgets,
# so a service with more routes than fit (tfgen.RoutesPerDashboard) gets more
# dashboards, each with the shared row: local.webhookq.dashboards says which
# routes go where. Their URLs are the dashboard_urls output, which
# cmd/generate prints too.
#
# Every metric is one AWS publishes for these resources or one the Lambdas
# publish (local.webhookq.metrics, from internal/lambda/metrics); the
# terraform test checks each against those lists. AWS's metrics:
#   AWS/ApiGateway (HTTP APIs): Count, 4xx, 5xx by ApiId, Stage, Route — the
#     per-route ones only with detailed metrics on the stage
#     (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-metrics.html);
#   AWS/SQS: ApproximateNumberOfMessagesVisible / NotVisible,
#     ApproximateAgeOfOldestMessage by QueueName
#     (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html);
#   AWS/States: ExecutionsStarted / Succeeded / Failed / TimedOut by
#     StateMachineArn (https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html);
#   AWS/Lambda: Errors, Throttles by FunctionName
#     (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html),
#     ConcurrentExecutions by FunctionName, read with Maximum
#     (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-concurrency.html).

locals {
  backlog_alarm = one([for a in values(local.webhookq.alarms) : a if a.kind == "backlog_age"])

  # A graph widget: a title, its metrics (each [namespace, name, dimension
  # name, value, …, {options}]) and where it sits on the 24-column grid.
  dashboard_service_row = [
    {
      type = "text", x = 0, y = 0, width = 24, height = 2
      properties = {
        markdown = join("\n", [
          "## webhookq: ${local.service}",
          "Queue ${aws_sqs_queue.main.name}, DLQ ${aws_sqs_queue.dlq.name}. Metrics of the Lambdas are in ${local.metrics.namespace}; what each means: docs/operations.md (Metrics). Per-route ingress metrics need detailed metrics on the API stage.",
        ])
      }
    },
    {
      type = "metric", x = 0, y = 2, width = 8, height = 6
      properties = {
        title = "Backlog (queue depth)", region = local.region, view = "timeSeries", stat = "Maximum", period = 60
        metrics = [
          ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.main.name, { label = "waiting" }],
          ["AWS/SQS", "ApproximateNumberOfMessagesNotVisible", "QueueName", aws_sqs_queue.main.name, { label = "in flight or backing off" }],
        ]
      }
    },
    {
      type = "metric", x = 8, y = 2, width = 8, height = 6
      properties = {
        title = "Age of the oldest webhook (s)", region = local.region, view = "timeSeries", stat = "Maximum", period = 60
        metrics = [
          ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", aws_sqs_queue.main.name, { label = "oldest" }],
        ]
        annotations = { horizontal = [{ label = "alarm ${local.backlog_alarm.name}", value = local.backlog_alarm.threshold }] }
      }
    },
    {
      type = "metric", x = 16, y = 2, width = 8, height = 6
      properties = {
        title = "DLQ depth and parked by reason", region = local.region, view = "timeSeries", stat = "Sum", period = 300
        metrics = concat(
          [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.dlq.name, { label = "in the DLQ", stat = "Maximum" }]],
          [for r in local.metrics.reasons : [local.metrics.namespace, local.emitted.parked.name, "Reason", r, { label = "parked: ${r}" }]],
        )
      }
    },
    {
      type = "metric", x = 0, y = 8, width = 8, height = 6
      properties = {
        title   = "Lambda errors", region = local.region, view = "timeSeries", stat = "Sum", period = 60
        metrics = [for name, fn in local.functions : ["AWS/Lambda", "Errors", "FunctionName", aws_lambda_function.function[name].function_name, { label = name }]]
      }
    },
    {
      type = "metric", x = 8, y = 8, width = 8, height = 6
      properties = {
        title   = "Lambda throttles", region = local.region, view = "timeSeries", stat = "Sum", period = 60
        metrics = [for name, fn in local.functions : ["AWS/Lambda", "Throttles", "FunctionName", aws_lambda_function.function[name].function_name, { label = name }]]
      }
    },
    {
      type = "metric", x = 16, y = 8, width = 8, height = 6
      properties = {
        title   = "Lambda concurrency", region = local.region, view = "timeSeries", stat = "Maximum", period = 60
        metrics = [for name, fn in local.functions : ["AWS/Lambda", "ConcurrentExecutions", "FunctionName", aws_lambda_function.function[name].function_name, { label = name }]]
      }
    },
  ]

  dashboard_route_rows = { for d in local.webhookq.dashboards : d.name => flatten([
    for i, name in d.routes : [
      {
        type = "metric", x = 0, y = 14 + 6 * i, width = 5, height = 6
        properties = {
          title = "${name}: ingress", region = local.region, view = "timeSeries", stat = "Sum", period = 60
          metrics = [
            for m in ["Count", "4xx", "5xx"] :
            ["AWS/ApiGateway", m, "ApiId", local.api_id, "Stage", local.stage_name, "Route", "POST ${local.webhookq.routes[name].path}", { label = m == "Count" ? "requests" : m }]
          ]
        }
      },
      {
        type = "metric", x = 5, y = 14 + 6 * i, width = 5, height = 6
        properties = {
          title = "${name}: executions", region = local.region, view = "timeSeries", stat = "Sum", period = 60
          metrics = [
            for m in ["ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut"] :
            ["AWS/States", m, "StateMachineArn", aws_sfn_state_machine.route[name].arn, { label = trimprefix(m, "Executions") }]
          ]
        }
      },
      {
        type = "metric", x = 10, y = 14 + 6 * i, width = 5, height = 6
        properties = {
          title = "${name}: delivered, failed attempts, parked", region = local.region, view = "timeSeries", stat = "Sum", period = 60
          metrics = concat(
            [[local.metrics.namespace, local.emitted.delivered.name, "Route", name, { label = "delivered" }]],
            [for c in local.metrics.classes : [local.metrics.namespace, local.emitted.failed_attempts.name, "Route", name, "Class", c, { label = "failed: ${c}" }]],
            [for r in local.metrics.reasons : [local.metrics.namespace, local.emitted.parked.name, "Route", name, "Reason", r, { label = "parked: ${r}" }]],
          )
        }
      },
      {
        type = "metric", x = 15, y = 14 + 6 * i, width = 5, height = 6
        properties = {
          title = "${name}: latency (ms)", region = local.region, view = "timeSeries", period = 60
          metrics = [
            [local.metrics.namespace, local.emitted.delivery_latency.name, "Route", name, { stat = "p50", label = "ingress → delivered p50" }],
            [local.metrics.namespace, local.emitted.delivery_latency.name, "Route", name, { stat = "p99", label = "ingress → delivered p99" }],
            [local.metrics.namespace, local.emitted.target_response_time.name, "Route", name, { stat = "p50", label = "target answer p50" }],
            [local.metrics.namespace, local.emitted.target_response_time.name, "Route", name, { stat = "p99", label = "target answer p99" }],
          ]
        }
      },
      {
        type = "metric", x = 20, y = 14 + 6 * i, width = 4, height = 6
        properties = {
          title = "${name}: attempts per delivery", region = local.region, view = "timeSeries", period = 60
          metrics = [
            [local.metrics.namespace, local.emitted.attempts.name, "Route", name, { stat = "Average", label = "attempts (avg)" }],
            [local.metrics.namespace, local.emitted.attempts.name, "Route", name, { stat = "Maximum", label = "attempts (max)" }],
            [local.metrics.namespace, local.emitted.receives.name, "Route", name, { stat = "Maximum", label = "receives (max)" }],
          ]
        }
      },
    ]
  ]) }
}

resource "aws_cloudwatch_dashboard" "main" {
  for_each = { for d in local.webhookq.dashboards : d.name => d }

  dashboard_name = each.key
  dashboard_body = jsonencode({ widgets = concat(local.dashboard_service_row, local.dashboard_route_rows[each.key]) })
}
