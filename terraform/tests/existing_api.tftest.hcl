# For configurations that add their routes to an existing HTTP API
# (ingress.http_api_name): the name must find exactly one API.

mock_provider "aws" {
  source          = "./tests/mocks"
  override_during = plan
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
