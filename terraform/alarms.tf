# Alarms that reach someone: every alarm notifies the notify SNS topic
# (routes.yaml notify.sns_topic_arn) when it fires and when it recovers.
# Which alarms exist, their names, thresholds and periods come from
# local.webhookq.alarms (config.AlarmSpecs); this file says what each kind
# watches. terraform/README.md ("Alarms") says what to do when one fires.
#
# Metrics: SQS publishes ApproximateAgeOfOldestMessage and
# ApproximateNumberOfMessagesVisible per QueueName every minute
# (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html);
# a FIFO queue never reorders, so a stuck head keeps the age growing.
# Step Functions publishes ExecutionsFailed / ExecutionsTimedOut per
# StateMachineArn (https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html),
# Lambda Throttles per FunctionName
# (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html).
# Parked is the forwarder's own EMF metric (internal/lambda/metrics), which
# reaches CloudWatch once its log line is processed: hence 5-minute windows
# (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Alarms.html).

locals {
  alarm_actions = local.webhookq.notify.sns_topic_arn == "" ? [] : [local.webhookq.notify.sns_topic_arn]
  metrics       = local.webhookq.metrics
  emitted       = local.webhookq.metrics.emitted

  # Parked of every reason but signature: a flood of forged webhooks is
  # rejected_signatures' business and must not drown real failures.
  undelivered_reasons = [for r in local.metrics.reasons : r if r != "signature"]

  # What each alarm instance watches: its metric queries (id → metric) and,
  # when there are several, the expression that adds them up. merge() keeps
  # each kind's shape of its own.
  alarm_watches = merge(
    {
      for key, a in local.webhookq.alarms : key => {
        expression = null
        metrics = {
          age = { namespace = "AWS/SQS", name = "ApproximateAgeOfOldestMessage", stat = "Maximum", dimensions = { QueueName = aws_sqs_queue.main.name } }
        }
      } if a.kind == "backlog_age"
    },
    {
      for key, a in local.webhookq.alarms : key => {
        expression = "SUM([${join(", ", [for r in local.undelivered_reasons : "parked_${r}"])}])"
        metrics = {
          for r in local.undelivered_reasons : "parked_${r}" => {
            namespace = local.metrics.namespace, name = local.emitted.parked.name, stat = "Sum", dimensions = { Reason = r }
          }
        }
      } if a.kind == "parked"
    },
    {
      for key, a in local.webhookq.alarms : key => {
        expression = null
        metrics = {
          depth = { namespace = "AWS/SQS", name = "ApproximateNumberOfMessagesVisible", stat = "Maximum", dimensions = { QueueName = aws_sqs_queue.dlq.name } }
        }
      } if a.kind == "dlq_depth"
    },
    {
      for key, a in local.webhookq.alarms : key => {
        expression = "SUM([failed, timed_out])"
        metrics = {
          failed    = { namespace = "AWS/States", name = "ExecutionsFailed", stat = "Sum", dimensions = { StateMachineArn = aws_sfn_state_machine.route[a.route].arn } }
          timed_out = { namespace = "AWS/States", name = "ExecutionsTimedOut", stat = "Sum", dimensions = { StateMachineArn = aws_sfn_state_machine.route[a.route].arn } }
        }
      } if a.kind == "execution_failures"
    },
    {
      for key, a in local.webhookq.alarms : key => {
        expression = null
        metrics = {
          throttles = { namespace = "AWS/Lambda", name = "Throttles", stat = "Sum", dimensions = { FunctionName = aws_lambda_function.function["deliver"].function_name } }
        }
      } if a.kind == "deliver_throttles"
    },
    {
      for key, a in local.webhookq.alarms : key => {
        expression = null
        metrics = {
          rejected = { namespace = local.metrics.namespace, name = local.emitted.parked.name, stat = "Sum", dimensions = { Reason = "signature" } }
        }
      } if a.kind == "rejected_signatures"
    },
  )
}

resource "aws_cloudwatch_metric_alarm" "alarm" {
  for_each = local.webhookq.alarms

  alarm_name          = each.value.name
  alarm_description   = each.value.description
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = each.value.threshold
  evaluation_periods  = 1
  datapoints_to_alarm = 1
  # No datapoint means nothing happened: no webhook waiting, none parked,
  # no execution failed.
  treat_missing_data = "notBreaching"
  alarm_actions      = local.alarm_actions
  ok_actions         = local.alarm_actions

  dynamic "metric_query" {
    for_each = local.alarm_watches[each.key].metrics
    content {
      id          = metric_query.key
      return_data = local.alarm_watches[each.key].expression == null
      metric {
        namespace   = metric_query.value.namespace
        metric_name = metric_query.value.name
        dimensions  = metric_query.value.dimensions
        stat        = metric_query.value.stat
        period      = each.value.period_seconds
      }
    }
  }

  dynamic "metric_query" {
    for_each = local.alarm_watches[each.key].expression == null ? [] : [local.alarm_watches[each.key].expression]
    content {
      id          = "watched"
      expression  = metric_query.value
      label       = each.value.kind
      return_data = true
    }
  }
}
