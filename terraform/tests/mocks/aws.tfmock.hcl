# Mock AWS data for terraform test: real-looking ARNs and ids, so the
# assertions can compare the values policies and integrations are built from.

mock_data "aws_caller_identity" {
  defaults = {
    account_id = "123456789012"
    arn        = "arn:aws:iam::123456789012:user/terraform-test"
    user_id    = "AIDAEXAMPLEUSERID"
  }
}

mock_data "aws_partition" {
  defaults = {
    partition  = "aws"
    dns_suffix = "amazonaws.com"
  }
}

mock_data "aws_apigatewayv2_apis" {
  defaults = {
    ids = ["a1b2c3d4e5"]
  }
}

mock_data "aws_apigatewayv2_api" {
  defaults = {
    id           = "a1b2c3d4e5"
    api_endpoint = "https://a1b2c3d4e5.execute-api.ap-northeast-1.amazonaws.com"
  }
}

mock_resource "aws_apigatewayv2_api" {
  defaults = {
    id           = "f6g7h8i9j0"
    api_endpoint = "https://f6g7h8i9j0.execute-api.us-east-1.amazonaws.com"
  }
}

mock_resource "aws_iam_role" {
  defaults = {
    arn = "arn:aws:iam::123456789012:role/mock-role"
  }
}

mock_resource "aws_cloudwatch_log_group" {
  defaults = {
    arn = "arn:aws:logs:ap-northeast-1:123456789012:log-group:mock"
  }
}

mock_resource "aws_lambda_function" {
  defaults = {
    arn = "arn:aws:lambda:ap-northeast-1:123456789012:function:mock"
  }
}

mock_resource "aws_sfn_state_machine" {
  defaults = {
    arn = "arn:aws:states:ap-northeast-1:123456789012:stateMachine:mock"
  }
}

mock_resource "aws_apigatewayv2_integration" {
  defaults = {
    id = "abc1234"
  }
}

# A route setting's logging_level is computed (it is for WebSocket APIs), which
# would leave the planned set of route settings unknown.
mock_resource "aws_apigatewayv2_stage" {
  defaults = {
    route_settings = { logging_level = "OFF" }
  }
}

mock_resource "aws_kms_key" {
  defaults = {
    arn    = "arn:aws:kms:ap-northeast-1:123456789012:key/0b1c2d3e-probe"
    key_id = "0b1c2d3e-probe"
  }
}
