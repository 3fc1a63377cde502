# Ingress: each route is a POST on an HTTP API whose integration sends the raw
# body straight to the FIFO queue (no Lambda in the request path).
#
# The API is either the existing one routes.yaml names (ingress.http_api_name,
# looked up here and required to be unique) or one created here with a
# $default stage that auto-deploys. On an existing API the routes are added to
# it, and its stage must auto-deploy (or be redeployed after apply) for them to
# go live.

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

  # A request refused before it reached SQS (a mapped header missing, say)
  # shows here with API Gateway's reason, and nowhere else.
  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.ingress[0].arn
    format = jsonencode({
      requestId         = "$context.requestId"
      requestTime       = "$context.requestTime"
      routeKey          = "$context.routeKey"
      status            = "$context.status"
      error             = "$context.error.message"
      integrationError  = "$context.integrationErrorMessage"
      integrationStatus = "$context.integrationStatus"
    })
  }
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
}

locals {
  api_id       = local.webhookq.ingress.create_api ? aws_apigatewayv2_api.created[0].id : data.aws_apigatewayv2_api.existing[0].id
  api_endpoint = local.webhookq.ingress.create_api ? aws_apigatewayv2_api.created[0].api_endpoint : data.aws_apigatewayv2_api.existing[0].api_endpoint
  # The $default stage is served at the API's root; any other stage under its name.
  stage_path = (local.webhookq.ingress.create_api || var.existing_api_stage == "$default") ? "" : "/${var.existing_api_stage}"

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
