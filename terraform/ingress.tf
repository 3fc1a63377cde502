# Ingress: each route is a POST on an HTTP API whose integration sends the raw
# body straight to the FIFO queue (no Lambda in the request path).
#
# The API is either the existing one routes.yaml names (ingress.http_api_name,
# looked up here and required to be unique) or one created here with a
# $default stage that auto-deploys and writes an access log.
#
# On an existing API the routes are added to it and its stage
# (var.existing_api_stage) is left alone: API changes take effect only when a
# stage is deployed, and a stage auto-deploys only when its owner says so
# (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-stages.html).
# Terraform cannot read a stage's AutoDeploy, so the operator states it
# (var.existing_api_stage_auto_deploy) and plan refuses to guess; the stage
# must exist (plan exports it); cmd/check verifies both after apply.

resource "aws_apigatewayv2_api" "created" {
  count = local.webhookq.ingress.create_api ? 1 : 0

  name          = local.webhookq.ingress.api_name
  protocol_type = "HTTP"
  description   = "webhookq ingress for ${local.service}"
}

resource "aws_apigatewayv2_stage" "created" {
  count = local.webhookq.ingress.create_api ? 1 : 0

  api_id      = aws_apigatewayv2_api.created[0].id
  name        = "$default"
  auto_deploy = true

  # Throttling (routes.yaml ingress.throttle and each route's overrides): a
  # token bucket per route; beyond it API Gateway answers 429 and nothing is
  # queued, so a flood on the public URL costs little and stays within the
  # account-level quota every API of the account shares
  # (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-throttling.html).
  # Detailed metrics: per-route Count, 4xx and 5xx (the Route dimension) for
  # the dashboard; API Gateway publishes them only with these on.
  default_route_settings {
    detailed_metrics_enabled = true
    throttling_rate_limit    = local.webhookq.ingress.throttle.rate
    throttling_burst_limit   = local.webhookq.ingress.throttle.burst
  }

  dynamic "route_settings" {
    for_each = local.webhookq.routes
    content {
      route_key                = "POST ${route_settings.value.path}"
      detailed_metrics_enabled = true
      throttling_rate_limit    = route_settings.value.throttle.rate
      throttling_burst_limit   = route_settings.value.throttle.burst
    }
  }

  # A request refused before it reached SQS (a mapped header missing, say)
  # shows here with API Gateway's reason, and nowhere else.
  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.ingress[0].arn
    format          = local.access_log_format
  }

  # Route settings name routes, which must exist first.
  depends_on = [aws_apigatewayv2_route.route]
}

resource "aws_cloudwatch_log_group" "ingress" {
  count = local.webhookq.ingress.create_api ? 1 : 0

  name              = "/aws/apigateway/${local.webhookq.ingress.api_name}"
  retention_in_days = local.webhookq.logging.retention_days
}

data "aws_apigatewayv2_apis" "existing" {
  count = local.webhookq.ingress.create_api ? 0 : 1

  name          = local.webhookq.ingress.api_name
  protocol_type = "HTTP"

  lifecycle {
    postcondition {
      condition     = length(self.ids) == 1
      error_message = "ingress.http_api_name \"${local.webhookq.ingress.api_name}\" must name exactly one HTTP API in ${local.region}; found ${length(self.ids)}."
    }
  }
}

data "aws_apigatewayv2_api" "existing" {
  count = local.webhookq.ingress.create_api ? 0 : 1

  api_id = one(data.aws_apigatewayv2_apis.existing[0].ids)

  lifecycle {
    precondition {
      condition     = var.existing_api_stage_auto_deploy != null
      error_message = <<-EOT
        ingress.http_api_name adds the routes to the existing HTTP API "${local.webhookq.ingress.api_name}" (${one(data.aws_apigatewayv2_apis.existing[0].ids)}), whose stage "${var.existing_api_stage}" serves them only once it is deployed. Say whether it deploys by itself, or the routes may answer 404 after a successful apply. Find out with:
          aws apigatewayv2 get-stage --region ${local.region} --api-id ${one(data.aws_apigatewayv2_apis.existing[0].ids)} --stage-name '${var.existing_api_stage}' --query AutoDeploy
        then set existing_api_stage_auto_deploy = true (or false) in terraform/terraform.tfvars. With false, apply outputs ingress_deploy_command, to run after every apply that changes routes; or turn automatic deployment on:
          aws apigatewayv2 update-stage --region ${local.region} --api-id ${one(data.aws_apigatewayv2_apis.existing[0].ids)} --stage-name '${var.existing_api_stage}' --auto-deploy
      EOT
    }
  }
}

# Plan fails here when var.existing_api_stage does not exist on the API
# (API Gateway answers NotFoundException): set existing_api_stage to one of
# the API's stages (aws apigatewayv2 get-stages --api-id <id>), "$default"
# for the one served at the API's root. The export itself is not used.
data "aws_apigatewayv2_export" "existing_stage" {
  count = local.webhookq.ingress.create_api ? 0 : 1

  api_id             = data.aws_apigatewayv2_api.existing[0].id
  stage_name         = var.existing_api_stage
  specification      = "OAS30"
  output_type        = "JSON"
  include_extensions = false
}

locals {
  api_id       = local.webhookq.ingress.create_api ? aws_apigatewayv2_api.created[0].id : data.aws_apigatewayv2_api.existing[0].id
  api_endpoint = local.webhookq.ingress.create_api ? aws_apigatewayv2_api.created[0].api_endpoint : data.aws_apigatewayv2_api.existing[0].api_endpoint
  # The stage serving the routes: the created API's $default, or the
  # existing one (whose existence the export above proves).
  stage_name = local.webhookq.ingress.create_api ? aws_apigatewayv2_stage.created[0].name : data.aws_apigatewayv2_export.existing_stage[0].stage_name
  # The $default stage is served at the API's root; any other stage under its name.
  stage_path = local.stage_name == "$default" ? "" : "/${local.stage_name}"
  # An existing stage that does not deploy by itself serves the routes only
  # once deployed; the module does not own the stage, so it cannot point it
  # at a new deployment (aws_apigatewayv2_deployment has no stage): this is
  # the command that does, for the output and the check below.
  ingress_deploy_command = (local.webhookq.ingress.create_api || var.existing_api_stage_auto_deploy != false) ? null : format(
    "aws apigatewayv2 create-deployment --region %s --api-id %s --stage-name '%s' --description 'webhookq routes of %s'",
    local.region, local.api_id, local.stage_name, local.service,
  )

  # One access log line per request, with API Gateway's reason for a request
  # it refused before SQS. The created stage writes it; an existing stage's
  # owner turns it on with output.ingress_access_log_command.
  access_log_format = jsonencode({
    requestId         = "$context.requestId"
    requestTime       = "$context.requestTime"
    routeKey          = "$context.routeKey"
    status            = "$context.status"
    error             = "$context.error.message"
    integrationError  = "$context.integrationErrorMessage"
    integrationStatus = "$context.integrationStatus"
  })
  existing_access_log_group = "/aws/apigateway/${local.webhookq.ingress.api_name}/${trimprefix(var.existing_api_stage, "$")}"

  attrs = local.webhookq.attributes

  # SQS-SendMessage request parameters per route. A value is either static
  # text or a mapping expression: "$request.header.X", "$request.body.a.b"
  # (a JSON path) or "$context.requestId". Inside static text, such as the
  # MessageAttributes JSON, a mapping is written in braces: "${request.header.X}"
  # (escaped "$${…}" in HCL).
  #
  # Constraint: a header or body field that a mapping names must be present.
  # API Gateway cannot resolve the mapping otherwise, does not call SQS, and
  # answers the sender with an error, so nothing is queued and the sender's own
  # retry applies. Carry, group by and deduplicate on headers the provider
  # always sends. A carried header's value is placed verbatim in a JSON
  # string, so a value containing a double quote also fails the request.
  ingress_request_parameters = {
    for name, route in local.webhookq.routes : name => merge(
      {
        QueueUrl    = aws_sqs_queue.main.url
        MessageBody = "$request.body"
        MessageGroupId = {
          static = route.group.value
          header = "$request.header.${route.group.value}"
          body   = "$request.body.${route.group.value}"
        }[route.group.source]
        MessageAttributes = jsonencode(merge(
          {
            (local.attrs.webhook_id)  = { DataType = "String", StringValue = "$${context.requestId}" }
            (local.attrs.route)       = { DataType = "String", StringValue = name }
            (local.attrs.received_at) = { DataType = "Number", StringValue = "$${context.requestTimeEpoch}" }
          },
          {
            for header in route.headers :
            "${local.attrs.header_prefix}${header}" => { DataType = "String", StringValue = "$${request.header.${header}}" }
          },
        ))
      },
      # content: no id is sent; the queue's content-based deduplication hashes the body.
      route.dedup.source == "header" ? { MessageDeduplicationId = "$request.header.${route.dedup.header}" } : {},
      route.dedup.source == "request_id" ? { MessageDeduplicationId = "$context.requestId" } : {},
    )
  }
}

resource "aws_iam_role" "ingress" {
  name = local.webhookq.ingress.role_name
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "apigateway.amazonaws.com" }
      Action    = "sts:AssumeRole"
      # Confused deputy: only API Gateway acting for this account may assume
      # the role. (No aws:SourceArn: API Gateway does not document the source
      # ARN it gives for an integration's credentials; see terraform/README.md.)
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })
}

resource "aws_iam_role_policy" "ingress" {
  name = "send-to-queue"
  role = aws_iam_role.ingress.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "SendToQueue"
      Effect   = "Allow"
      Action   = ["sqs:SendMessage"]
      Resource = [aws_sqs_queue.main.arn]
    }]
  })
}

resource "aws_apigatewayv2_integration" "route" {
  for_each = local.webhookq.routes

  api_id                 = local.api_id
  description            = "webhookq route ${each.key}: to ${aws_sqs_queue.main.name}"
  integration_type       = "AWS_PROXY"
  integration_subtype    = "SQS-SendMessage"
  payload_format_version = "1.0"
  credentials_arn        = aws_iam_role.ingress.arn
  request_parameters     = local.ingress_request_parameters[each.key]
}

resource "aws_apigatewayv2_route" "route" {
  for_each = local.webhookq.routes

  api_id    = local.api_id
  route_key = "POST ${each.value.path}"
  target    = "integrations/${aws_apigatewayv2_integration.route[each.key].id}"
}

# Every plan and apply against a stage that does not deploy by itself ends
# with this warning and the exact command: apply succeeds, and the routes
# answer 404 until the stage is deployed (cmd/check says so too).
check "routes_live" {
  assert {
    # Terraform renders error_message even when the condition holds, and a
    # null in a template is an error: coalesce stands in for the command then.
    condition     = local.ingress_deploy_command == null
    error_message = "The routes are on the existing stage \"${local.stage_name}\", which does not deploy by itself: senders get 404 until it is deployed. After this apply (and every apply that changes routes) run:\n  ${coalesce(local.ingress_deploy_command, "-")}\nor turn automatic deployment on (docs/deploy.md, An existing API)."
  }
}
