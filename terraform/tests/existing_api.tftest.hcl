# For configurations that add their routes to an existing HTTP API
# (ingress.http_api_name): the name must find exactly one API, the stage must
# be named properly, and plan must know whether the stage deploys by itself
# (the routes are live after apply, or the exact deploy command is output).
# That the stage exists is proven against moto by the apply test (the mock
# provider cannot make a data source fail).

mock_provider "aws" {
  source          = "./tests/mocks"
  override_during = plan
}

variables {
  existing_api_stage_auto_deploy = true
}

run "api_name_finds_nothing" {
  command = plan

  override_data {
    target          = data.aws_apigatewayv2_apis.existing[0]
    override_during = plan
    values          = { ids = [] }
  }

  expect_failures = [data.aws_apigatewayv2_apis.existing]
}

run "api_name_is_ambiguous" {
  command = plan

  override_data {
    target          = data.aws_apigatewayv2_apis.existing[0]
    override_during = plan
    values          = { ids = ["a1b2c3d4e5", "k1l2m3n4o5"] }
  }

  expect_failures = [data.aws_apigatewayv2_apis.existing]
}

run "stage_other_than_default" {
  command = plan
  variables {
    existing_api_stage = "prod"
  }

  override_data {
    target          = data.aws_apigatewayv2_apis.existing[0]
    override_during = plan
    values          = { ids = ["a1b2c3d4e5"] }
  }

  assert {
    condition = alltrue([
      for key, route in local.webhookq.routes :
      output.ingress_urls[key] == "https://a1b2c3d4e5.execute-api.ap-northeast-1.amazonaws.com/prod${route.path}"
    ])
    error_message = "a named stage appears in the ingress URLs"
  }
}

run "stage_auto_deploy_not_stated" {
  command = plan
  variables {
    existing_api_stage_auto_deploy = null
  }

  expect_failures = [data.aws_apigatewayv2_api.existing]
}

run "stage_auto_deploys" {
  command = plan
  variables {
    existing_api_stage             = "live"
    existing_api_stage_auto_deploy = true
  }

  assert {
    condition     = output.ingress_stage == "live" && output.ingress_deploy_command == null
    error_message = "a stage that deploys by itself needs no deploy command"
  }
  assert {
    condition     = length(aws_apigatewayv2_stage.created) == 0
    error_message = "the module never creates or manages a stage on an existing API"
  }
}

run "stage_deployed_by_hand" {
  command = plan
  variables {
    existing_api_stage             = "prod"
    existing_api_stage_auto_deploy = false
  }
  # Plan and apply warn, with the command, that the routes are not live yet.
  expect_failures = [check.routes_live]

  assert {
    condition     = output.ingress_deploy_command == "aws apigatewayv2 create-deployment --region ${local.webhookq.region} --api-id a1b2c3d4e5 --stage-name 'prod' --description 'webhookq routes of ${local.webhookq.service}'"
    error_message = "a stage that does not deploy by itself gets the exact command that deploys it"
  }
  assert {
    condition = alltrue([
      for key, route in local.webhookq.routes :
      output.ingress_urls[key] == "https://a1b2c3d4e5.execute-api.ap-northeast-1.amazonaws.com/prod${route.path}"
    ])
    error_message = "the ingress URLs name the stage"
  }
}

run "stage_name_invalid" {
  command = plan
  variables {
    existing_api_stage = "prod/v1"
  }

  expect_failures = [var.existing_api_stage]
}

run "access_log_command" {
  command = plan
  variables {
    existing_api_stage = "prod"
  }

  assert {
    condition = (
      strcontains(output.ingress_access_log_command, "aws logs create-log-group --region ${local.webhookq.region} --log-group-name '/aws/apigateway/${local.webhookq.ingress.api_name}/prod'") &&
      strcontains(output.ingress_access_log_command, "--api-id a1b2c3d4e5 --stage-name 'prod' --access-log-settings") &&
      strcontains(output.ingress_access_log_command, "log-group:/aws/apigateway/${local.webhookq.ingress.api_name}/prod") &&
      strcontains(output.ingress_access_log_command, jsonencode(local.access_log_format))
    )
    error_message = "the access log command creates the stage's log group and points the stage at it with the created API's format"
  }
}
