# The three Lambdas: forward (SQS → StartSyncExecution), deliver (one HTTP
# attempt), notify (failure notification). Go binaries for arm64 on
# provided.al2023; the zips are built by cmd/generate into dist/.

locals {
  functions = local.webhookq.functions

  function_environment = {
    forward = {
      (local.webhookq.env.state_machine_arn_prefix) = local.state_machine_arn_prefix
      (local.webhookq.env.queue_url)                = aws_sqs_queue.main.url
      (local.webhookq.env.dlq_url)                  = aws_sqs_queue.dlq.url
      # By name from the locals: the function's own attribute would make the
      # resource refer to itself.
      (local.webhookq.env.notify_function) = local.functions.notify.name
    }
    deliver = {
      (local.webhookq.env.probe_key) = aws_kms_key.probe.arn
    }
    notify = {}
  }

  # Each function's permissions beyond writing its own logs. Every statement
  # names its resources.
  function_statements = {
    forward = concat([
      {
        Sid      = "StartRouteWorkflows"
        Effect   = "Allow"
        Action   = ["states:StartSyncExecution"]
        Resource = [for sm in aws_sfn_state_machine.route : sm.arn]
      },
      {
        Sid    = "ConsumeQueue"
        Effect = "Allow"
        Action = [
          "sqs:ReceiveMessage",
          "sqs:DeleteMessage",
          "sqs:GetQueueAttributes",
          "sqs:ChangeMessageVisibility",
        ]
        Resource = [aws_sqs_queue.main.arn]
      },
      {
        # The forwarder parks a message that failed for good in the DLQ
        # itself, with the failure recorded on it (SQS's redrive policy stays
        # the backstop).
        Sid      = "ParkInDeadLetterQueue"
        Effect   = "Allow"
        Action   = ["sqs:SendMessage"]
        Resource = [aws_sqs_queue.dlq.arn]
      },
      {
        # A message it parks without the workflow having notified (one that
        # can never run, or whose final execution never reached Notify) is
        # announced by invoking notify asynchronously.
        Sid      = "AnnounceParkedMessages"
        Effect   = "Allow"
        Action   = ["lambda:InvokeFunction"]
        Resource = [aws_lambda_function.function["notify"].arn]
      },
      ],
      # The forwarder verifies inbound signatures before any execution:
      # it reads the routes' verification secrets, and only those.
      local.secret_read_statements.forward,
    )
    deliver = concat(
      local.secret_read_statements.deliver,
      [{
        # deliver only checks probe MACs; making one (kms:GenerateMac) is
        # the operator's (cmd/check), so deliver cannot mint probes.
        Sid      = "CheckProbeMACs"
        Effect   = "Allow"
        Action   = ["kms:VerifyMac"]
        Resource = [aws_kms_key.probe.arn]
      }],
      length(local.functions.deliver.vpc.subnet_ids) == 0 ? [] : [{
        # The documented exception to naming resources: Lambda itself creates,
        # reuses and deletes deliver's network interfaces in the VPC with
        # these actions (AWSLambdaVPCAccessExecutionRole grants the same), the
        # interfaces' ids are not known in advance, and
        # ec2:DescribeNetworkInterfaces works only on "*": AWS requires
        # Resource "*" (docs/config.md#private-targets).
        Sid    = "ManageVPCNetworkInterfaces"
        Effect = "Allow"
        Action = [
          "ec2:CreateNetworkInterface",
          "ec2:DescribeNetworkInterfaces",
          "ec2:DescribeSubnets",
          "ec2:DeleteNetworkInterface",
          "ec2:AssignPrivateIpAddresses",
          "ec2:UnassignPrivateIpAddresses",
        ]
        Resource = "*"
      }],
    )
    notify = concat(
      local.webhookq.notify.sns_topic_arn == "" ? [] : [{
        Sid      = "PublishFailures"
        Effect   = "Allow"
        Action   = ["sns:Publish"]
        Resource = [local.webhookq.notify.sns_topic_arn]
      }],
      local.secret_read_statements.notify,
    )
  }

  # Each function's read access to exactly the secrets it reads
  # (local.function_secret_arns), with the customer managed keys that
  # decrypt them.
  secret_statement_sids = {
    forward = { ssm = "ReadVerificationSecretParameters", secrets_manager = "ReadVerificationSecrets" }
    deliver = { ssm = "ReadSecretParameters", secrets_manager = "ReadSecrets" }
    notify  = { ssm = "ReadSlackWebhookParameter", secrets_manager = "ReadSlackWebhookSecret" }
  }
  secret_read_statements = {
    for fn, arns in local.function_secret_arns : fn => concat(
      length(arns.ssm_parameters) == 0 ? [] : [{
        Sid      = local.secret_statement_sids[fn].ssm
        Effect   = "Allow"
        Action   = ["ssm:GetParameter"]
        Resource = arns.ssm_parameters
      }],
      length(arns.secrets_manager) == 0 ? [] : [{
        Sid      = local.secret_statement_sids[fn].secrets_manager
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue"]
        Resource = arns.secrets_manager
      }],
      length(arns.ssm_parameters) + length(arns.secrets_manager) == 0 ? [] : local.secrets_kms_statement,
    )
  }

  # SecureString parameters and secrets under the AWS managed keys decrypt
  # through SSM / Secrets Manager without a KMS grant; customer managed keys
  # must be named (var.secrets_kms_key_arns).
  secrets_kms_statement = length(var.secrets_kms_key_arns) == 0 ? [] : [{
    Sid      = "DecryptSecrets"
    Effect   = "Allow"
    Action   = ["kms:Decrypt"]
    Resource = var.secrets_kms_key_arns
  }]
}

resource "aws_cloudwatch_log_group" "function" {
  for_each = local.functions

  name              = "/aws/lambda/${each.value.name}"
  retention_in_days = local.webhookq.logging.retention_days
}

resource "aws_iam_role" "function" {
  for_each = local.functions

  name = each.value.role_name
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
      # Confused deputy: only Lambda acting for this account may assume the
      # role. (No aws:SourceArn: Lambda also assumes an execution role outside
      # the function — the event source mapping's polling, KMS — and does not
      # document the source ARN it gives there; see terraform/README.md.)
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })
}

resource "aws_iam_role_policy" "function" {
  for_each = local.functions

  name = "${each.key}-permissions"
  role = aws_iam_role.function[each.key].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [{
        Sid      = "WriteOwnLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = ["${aws_cloudwatch_log_group.function[each.key].arn}:*"]
      }],
      local.function_statements[each.key],
    )
  })
}

resource "aws_lambda_function" "function" {
  for_each = local.functions

  function_name    = each.value.name
  role             = aws_iam_role.function[each.key].arn
  runtime          = "provided.al2023"
  architectures    = ["arm64"]
  handler          = "bootstrap"
  filename         = "${local.dist_dir}/${each.value.zip}"
  source_code_hash = filebase64sha256("${local.dist_dir}/${each.value.zip}")
  timeout          = each.value.timeout_seconds
  memory_size      = each.value.memory_mb

  # Only deliver is ever in a VPC (target.vpc): it is the one that reaches
  # the target; forward and notify reach only AWS APIs, Slack and SNS.
  dynamic "vpc_config" {
    for_each = length(each.value.vpc.subnet_ids) == 0 ? [] : [each.value.vpc]
    content {
      subnet_ids         = vpc_config.value.subnet_ids
      security_group_ids = vpc_config.value.security_group_ids
    }
  }

  dynamic "environment" {
    for_each = length(local.function_environment[each.key]) == 0 ? [] : [local.function_environment[each.key]]
    content {
      variables = environment.value
    }
  }

  # The log group exists (with its retention) before the function first logs.
  depends_on = [aws_cloudwatch_log_group.function]
}

# The forwarder invokes notify asynchronously. Lambda retries a failed
# asynchronous invocation twice by default; each retry would send the same
# notification again, so notify gets none (a throttled event still waits in
# Lambda's queue, up to six hours, without running twice).
resource "aws_lambda_function_event_invoke_config" "notify" {
  function_name          = aws_lambda_function.function["notify"].function_name
  maximum_retry_attempts = 0
}

# SQS → forward. A record whose execution did not succeed is reported as a
# batch item failure, so SQS redelivers it while the rest of the batch is
# deleted; the forwarder parks what failed for good in the DLQ itself.
resource "aws_lambda_event_source_mapping" "forward" {
  event_source_arn        = aws_sqs_queue.main.arn
  function_name           = aws_lambda_function.function["forward"].arn
  batch_size              = local.queue.batch_size
  function_response_types = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = local.queue.max_concurrency
  }

  # The mapping checks at creation that the function may read the queue.
  depends_on = [aws_iam_role_policy.function]
}
