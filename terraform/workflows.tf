# One Express state machine per route, "<service>-<route>", running the ASL
# that cmd/generate wrote to workflows/<route>.asl.json. Its two Lambda ARNs
# are template placeholders filled in here.

locals {
  routes = local.webhookq.routes
}

resource "aws_cloudwatch_log_group" "state_machine" {
  for_each = local.routes

  # The /aws/vendedlogs/ prefix keeps the log group's resource policy small
  # when many state machines log (AWS's recommendation for vended logs).
  name              = "/aws/vendedlogs/states/${each.value.state_machine_name}"
  retention_in_days = local.webhookq.logging.retention_days
}

resource "aws_iam_role" "state_machine" {
  for_each = local.routes

  name = each.value.role_name
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "states.amazonaws.com" }
      Action    = "sts:AssumeRole"
      # Confused deputy: only this route's state machine, in this account,
      # may assume the role. The ARN is built from the name, not read from the
      # state machine (which needs the role first). Step Functions documents
      # both keys for a state machine's role
      # (https://docs.aws.amazon.com/step-functions/latest/dg/procedure-create-iam-role.html).
      Condition = {
        StringEquals = { "aws:SourceAccount" = local.account_id }
        ArnLike      = { "aws:SourceArn" = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${each.value.state_machine_name}" }
      }
    }]
  })
}

resource "aws_iam_role_policy" "state_machine" {
  for_each = local.routes

  name = "invoke-and-log"
  role = aws_iam_role.state_machine[each.key].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "InvokeDeliverAndNotify"
        Effect = "Allow"
        Action = ["lambda:InvokeFunction"]
        Resource = flatten([
          for fn in ["deliver", "notify"] : [
            aws_lambda_function.function[fn].arn,
            "${aws_lambda_function.function[fn].arn}:*",
          ]
        ])
      },
      {
        # The documented exception to naming resources: Step Functions sets up
        # CloudWatch Logs delivery with these actions, which do not support
        # resource-level permissions, so AWS requires Resource "*".
        Sid    = "VendedLogDelivery"
        Effect = "Allow"
        Action = [
          "logs:CreateLogDelivery",
          "logs:GetLogDelivery",
          "logs:UpdateLogDelivery",
          "logs:DeleteLogDelivery",
          "logs:ListLogDeliveries",
          "logs:PutResourcePolicy",
          "logs:DescribeResourcePolicies",
          "logs:DescribeLogGroups",
        ]
        Resource = "*"
      },
    ]
  })
}

resource "aws_sfn_state_machine" "route" {
  for_each = local.routes

  name     = each.value.state_machine_name
  type     = "EXPRESS"
  role_arn = aws_iam_role.state_machine[each.key].arn
  definition = templatefile("${path.module}/${each.value.workflow}", {
    deliver_function_arn = aws_lambda_function.function["deliver"].arn
    notify_function_arn  = aws_lambda_function.function["notify"].arn
  })

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.state_machine[each.key].arn}:*"
    level                  = local.webhookq.logging.level
    include_execution_data = local.webhookq.logging.include_execution_data
  }

  # Step Functions checks the log delivery permissions at creation.
  depends_on = [aws_iam_role_policy.state_machine]
}
