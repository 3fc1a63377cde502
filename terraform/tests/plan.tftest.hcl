# Asserts the module's wiring for whatever generated.tf.json holds, against a
# mocked AWS provider (no credentials, nothing created). cmd/generate's tests
# run this for several configurations; run it by hand with
#   terraform -chdir=terraform init && terraform -chdir=terraform test
# (needs dist/*.zip and workflows/*.asl.json, i.e. after go run ./cmd/generate).
# Every run is a plan whose mocked values are known at plan time
# (override_during = plan), so nothing is applied, not even to the mocks.

mock_provider "aws" {
  source          = "./tests/mocks"
  override_during = plan
}

variables {
  # The example adds its routes to an existing API: its stage auto-deploys
  # here (existing_api.tftest.hcl covers the other answers). Ignored when the
  # configuration creates its API.
  existing_api_stage_auto_deploy = true

  # The metrics AWS publishes for the resources the module creates, as
  # "namespace name dimension-names" (sorted), from AWS's metric lists cited in
  # dashboard.tf and alarms.tf. The dashboard and the alarms may name only
  # these and the ones the Lambdas publish (local.webhookq.metrics).
  aws_metrics = [
    "AWS/ApiGateway Count ApiId,Route,Stage",
    "AWS/ApiGateway 4xx ApiId,Route,Stage",
    "AWS/ApiGateway 5xx ApiId,Route,Stage",
    "AWS/SQS ApproximateNumberOfMessagesVisible QueueName",
    "AWS/SQS ApproximateNumberOfMessagesNotVisible QueueName",
    "AWS/SQS ApproximateAgeOfOldestMessage QueueName",
    "AWS/States ExecutionsStarted StateMachineArn",
    "AWS/States ExecutionsSucceeded StateMachineArn",
    "AWS/States ExecutionsFailed StateMachineArn",
    "AWS/States ExecutionsTimedOut StateMachineArn",
    "AWS/Lambda Errors FunctionName",
    "AWS/Lambda Throttles FunctionName",
    "AWS/Lambda ConcurrentExecutions FunctionName",
  ]
}

# The two queues, the three functions and their log groups get distinct ARNs,
# so the assertions can tell which one a policy names. (The state machines are
# one per route of whatever config is generated, so they share the mock's ARN:
# an assertion cannot tell them apart.)
override_resource {
  target          = aws_sqs_queue.main
  override_during = plan
  values = {
    arn = "arn:aws:sqs:ap-northeast-1:123456789012:main.fifo"
    id  = "https://sqs.ap-northeast-1.amazonaws.com/123456789012/main.fifo"
    url = "https://sqs.ap-northeast-1.amazonaws.com/123456789012/main.fifo"
  }
}

override_resource {
  target          = aws_sqs_queue.dlq
  override_during = plan
  values = {
    arn = "arn:aws:sqs:ap-northeast-1:123456789012:dlq.fifo"
    id  = "https://sqs.ap-northeast-1.amazonaws.com/123456789012/dlq.fifo"
    url = "https://sqs.ap-northeast-1.amazonaws.com/123456789012/dlq.fifo"
  }
}

override_resource {
  target          = aws_lambda_function.function["deliver"]
  override_during = plan
  values = {
    arn = "arn:aws:lambda:ap-northeast-1:123456789012:function:deliver"
  }
}

override_resource {
  target          = aws_cloudwatch_log_group.function["deliver"]
  override_during = plan
  values = {
    arn = "arn:aws:logs:ap-northeast-1:123456789012:log-group:/aws/lambda/deliver"
  }
}

override_resource {
  target          = aws_lambda_function.function["forward"]
  override_during = plan
  values = {
    arn = "arn:aws:lambda:ap-northeast-1:123456789012:function:forward"
  }
}

override_resource {
  target          = aws_cloudwatch_log_group.function["forward"]
  override_during = plan
  values = {
    arn = "arn:aws:logs:ap-northeast-1:123456789012:log-group:/aws/lambda/forward"
  }
}

override_resource {
  target          = aws_lambda_function.function["notify"]
  override_during = plan
  values = {
    arn = "arn:aws:lambda:ap-northeast-1:123456789012:function:notify"
  }
}

override_resource {
  target          = aws_cloudwatch_log_group.function["notify"]
  override_during = plan
  values = {
    arn = "arn:aws:logs:ap-northeast-1:123456789012:log-group:/aws/lambda/notify"
  }
}

run "queues" {
  command = plan
  assert {
    condition     = aws_sqs_queue.main.name == local.webhookq.queue.name && aws_sqs_queue.dlq.name == local.webhookq.queue.dlq_name
    error_message = "queue names must come from the generated locals"
  }
  assert {
    condition     = aws_sqs_queue.main.fifo_queue && aws_sqs_queue.dlq.fifo_queue
    error_message = "queue and DLQ must both be FIFO"
  }
  assert {
    condition     = aws_sqs_queue.main.content_based_deduplication && aws_sqs_queue.dlq.content_based_deduplication
    error_message = "content-based deduplication must be on (routes with dedup: content send no id)"
  }
  assert {
    condition     = aws_sqs_queue.main.sqs_managed_sse_enabled && aws_sqs_queue.dlq.sqs_managed_sse_enabled
    error_message = "queues must be encrypted at rest"
  }
  assert {
    condition     = jsondecode(aws_sqs_queue.main.redrive_policy).deadLetterTargetArn == aws_sqs_queue.dlq.arn
    error_message = "the main queue's redrive policy must name the DLQ"
  }
  assert {
    condition     = jsondecode(aws_sqs_queue.main.redrive_policy).maxReceiveCount == local.webhookq.queue.max_receive_count
    error_message = "maxReceiveCount must be the backstop generate derived"
  }
  assert {
    condition = (
      jsondecode(aws_sqs_queue_redrive_allow_policy.dlq.redrive_allow_policy).redrivePermission == "byQueue" &&
      jsondecode(aws_sqs_queue_redrive_allow_policy.dlq.redrive_allow_policy).sourceQueueArns == [aws_sqs_queue.main.arn] &&
      aws_sqs_queue_redrive_allow_policy.dlq.queue_url == aws_sqs_queue.dlq.url
    )
    error_message = "the DLQ must allow exactly the main queue as its source"
  }
  assert {
    condition = (
      aws_sqs_queue.main.visibility_timeout_seconds == local.webhookq.queue.visibility_timeout_seconds &&
      aws_sqs_queue.main.visibility_timeout_seconds >= 6 * aws_lambda_function.function["forward"].timeout
    )
    error_message = "visibility timeout must be the budget's, at least 6 × the forward timeout"
  }
  assert {
    condition = (
      aws_sqs_queue.main.message_retention_seconds == local.webhookq.queue.retention_seconds &&
      aws_sqs_queue.dlq.message_retention_seconds == local.webhookq.queue.dlq_retention_seconds
    )
    error_message = "retention must come from the config"
  }
  assert {
    condition = (
      aws_sqs_queue.main.max_message_size == local.webhookq.queue.max_message_bytes &&
      aws_sqs_queue.dlq.max_message_size == local.webhookq.queue.dlq_max_message_bytes &&
      aws_sqs_queue.main.max_message_size < aws_sqs_queue.dlq.max_message_size
    )
    error_message = "the queue's message size must leave room in the DLQ for the failure record a parked message gains"
  }
  assert {
    condition = alltrue([
      local.webhookq.queue.high_throughput ? (
        aws_sqs_queue.main.deduplication_scope == "messageGroup" && aws_sqs_queue.main.fifo_throughput_limit == "perMessageGroupId"
        ) : (
        aws_sqs_queue.main.deduplication_scope == "queue" && aws_sqs_queue.main.fifo_throughput_limit == "perQueue"
      ),
      aws_sqs_queue.dlq.deduplication_scope == aws_sqs_queue.main.deduplication_scope,
      aws_sqs_queue.dlq.fifo_throughput_limit == aws_sqs_queue.main.fifo_throughput_limit,
    ])
    error_message = "high-throughput mode (the default; high_throughput: false opts out) must set per-message-group deduplication and throughput, and the DLQ the same"
  }
}

run "functions" {
  command = plan
  assert {
    condition = alltrue([
      for key, fn in aws_lambda_function.function :
      fn.runtime == "provided.al2023" && one(fn.architectures) == "arm64" && fn.handler == "bootstrap" &&
      fn.function_name == local.webhookq.functions[key].name &&
      fn.timeout == local.webhookq.functions[key].timeout_seconds
    ])
    error_message = "every Lambda is a provided.al2023 arm64 bootstrap with the generated name and timeout"
  }
  assert {
    condition     = toset(keys(aws_lambda_function.function)) == toset(["deliver", "forward", "notify"])
    error_message = "exactly the three functions forward, deliver and notify"
  }
  assert {
    condition = alltrue([
      for key, fn in aws_lambda_function.function :
      aws_cloudwatch_log_group.function[key].name == "/aws/lambda/${fn.function_name}" &&
      aws_cloudwatch_log_group.function[key].retention_in_days == local.webhookq.logging.retention_days
    ])
    error_message = "each function logs to /aws/lambda/<name> with the configured retention"
  }
  assert {
    condition = (
      aws_lambda_function.function["forward"].environment[0].variables[local.webhookq.env.queue_url] == aws_sqs_queue.main.url &&
      aws_lambda_function.function["forward"].environment[0].variables[local.webhookq.env.dlq_url] == aws_sqs_queue.dlq.url &&
      aws_lambda_function.function["forward"].environment[0].variables[local.webhookq.env.state_machine_arn_prefix] == "arn:aws:states:${local.webhookq.region}:123456789012:stateMachine:${local.webhookq.service}-" &&
      aws_lambda_function.function["forward"].environment[0].variables[local.webhookq.env.notify_function] == aws_lambda_function.function["notify"].function_name
    )
    error_message = "forward must know the queue and DLQ URLs, the state machine ARN prefix and the notify function"
  }
  assert {
    condition = (
      aws_lambda_function_event_invoke_config.notify.function_name == aws_lambda_function.function["notify"].function_name &&
      aws_lambda_function_event_invoke_config.notify.maximum_retry_attempts == 0
    )
    error_message = "an asynchronous notify must not be retried (each retry would notify again)"
  }
  assert {
    condition = (
      aws_lambda_event_source_mapping.forward.event_source_arn == aws_sqs_queue.main.arn &&
      aws_lambda_event_source_mapping.forward.function_name == aws_lambda_function.function["forward"].arn
    )
    error_message = "the event source mapping must connect the main queue to forward"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.forward.function_response_types == toset(["ReportBatchItemFailures"])
    error_message = "the event source mapping must report batch item failures"
  }
  assert {
    condition = (
      aws_lambda_event_source_mapping.forward.batch_size == local.webhookq.queue.batch_size &&
      aws_lambda_event_source_mapping.forward.scaling_config[0].maximum_concurrency == local.webhookq.queue.max_concurrency
    )
    error_message = "batch size and maximum concurrency must come from the config"
  }
}

run "state_machines" {
  command = plan
  assert {
    condition     = toset(keys(aws_sfn_state_machine.route)) == toset(keys(local.webhookq.routes))
    error_message = "one state machine per route"
  }
  assert {
    condition = alltrue([
      for key, sm in aws_sfn_state_machine.route :
      sm.type == "EXPRESS" && sm.name == local.webhookq.routes[key].state_machine_name
    ])
    error_message = "every state machine is EXPRESS and named <service>-<route>"
  }
  assert {
    condition = alltrue([
      for key, sm in aws_sfn_state_machine.route :
      sm.logging_configuration[0].level == local.webhookq.logging.level &&
      sm.logging_configuration[0].include_execution_data == local.webhookq.logging.include_execution_data &&
      sm.logging_configuration[0].log_destination == "${aws_cloudwatch_log_group.state_machine[key].arn}:*" &&
      aws_cloudwatch_log_group.state_machine[key].name == "/aws/vendedlogs/states/${sm.name}"
    ])
    error_message = "every state machine logs to its /aws/vendedlogs/states/ group at the configured level"
  }
  assert {
    condition = alltrue([
      for key, sm in aws_sfn_state_machine.route :
      can(jsondecode(sm.definition).StartAt) &&
      strcontains(sm.definition, "\"${aws_lambda_function.function["deliver"].arn}\"") &&
      !strcontains(sm.definition, "$${")
    ])
    error_message = "each definition is its workflow's JSON with the placeholders filled in with the function ARNs"
  }
}

run "iam_scoping" {
  command = plan
  assert {
    condition     = toset(jsondecode(aws_iam_role_policy.function["forward"].policy).Statement[1].Resource) == toset([for sm in aws_sfn_state_machine.route : sm.arn])
    error_message = "forward may start exactly the route state machines"
  }
  assert {
    condition = anytrue([
      for s in jsondecode(aws_iam_role_policy.function["forward"].policy).Statement :
      s.Action == ["states:StartSyncExecution"] && s.Resource == [for sm in aws_sfn_state_machine.route : sm.arn]
    ])
    error_message = "forward's StartSyncExecution statement must name exactly the state machines"
  }
  assert {
    condition = anytrue([
      for s in jsondecode(aws_iam_role_policy.function["forward"].policy).Statement :
      s.Action == ["sqs:SendMessage"] && s.Resource == [aws_sqs_queue.dlq.arn]
    ])
    error_message = "forward may send (park) only to the DLQ"
  }
  assert {
    condition = (
      toset(flatten([for s in jsondecode(aws_iam_role_policy.function["forward"].policy).Statement : s.Resource if contains(flatten([s.Action]), "lambda:InvokeFunction")])) ==
      toset([aws_lambda_function.function["notify"].arn])
    )
    error_message = "forward may invoke exactly the notify function"
  }
  assert {
    condition = alltrue([
      for key in ["deliver", "notify"] :
      !anytrue([for s in jsondecode(aws_iam_role_policy.function[key].policy).Statement : contains(flatten([s.Action]), "lambda:InvokeFunction")])
    ])
    error_message = "only forward invokes a function directly"
  }
  assert {
    condition = alltrue([
      for policy in concat(
        [for p in aws_iam_role_policy.function : p.policy],
        [for p in aws_iam_role_policy.state_machine : p.policy],
        [aws_iam_role_policy.ingress.policy],
      ) :
      alltrue([
        for s in jsondecode(policy).Statement :
        s.Sid == "VendedLogDelivery" || !contains(flatten([s.Resource]), "*") ||
        (s.Sid == "ManageVPCNetworkInterfaces" && policy == aws_iam_role_policy.function["deliver"].policy)
      ])
    ])
    error_message = "no statement may have Resource \"*\" except the commented log-delivery and deliver's VPC network-interface ones"
  }
  assert {
    condition = alltrue([
      for p in aws_iam_role_policy.state_machine :
      toset(flatten([for s in jsondecode(p.policy).Statement : s.Resource if s.Sid == "InvokeDeliverAndNotify"])) == toset([
        aws_lambda_function.function["deliver"].arn, "${aws_lambda_function.function["deliver"].arn}:*",
        aws_lambda_function.function["notify"].arn, "${aws_lambda_function.function["notify"].arn}:*",
      ])
    ])
    error_message = "state machines may invoke only deliver and notify"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.ingress.policy).Statement[0].Resource == [aws_sqs_queue.main.arn] && jsondecode(aws_iam_role_policy.ingress.policy).Statement[0].Action == ["sqs:SendMessage"]
    error_message = "the ingress role may only send to the main queue"
  }
  assert {
    condition = alltrue([
      for key, p in aws_iam_role_policy.function :
      jsondecode(p.policy).Statement[0].Resource == ["${aws_cloudwatch_log_group.function[key].arn}:*"]
    ])
    error_message = "each function writes only its own log group"
  }
  assert {
    condition = (
      length(local.webhookq.secrets.ssm_parameters) ==
      length(flatten([for s in jsondecode(aws_iam_role_policy.function["deliver"].policy).Statement : s.Resource if s.Sid == "ReadSecretParameters"]))
    )
    error_message = "deliver reads exactly the referenced parameters"
  }
  assert {
    # A name gets its ARN with the random suffix's wildcard; an ARN, which may
    # be complete or partial, is granted as written and with the wildcard.
    condition = (
      toset(flatten([for s in jsondecode(aws_iam_role_policy.function["deliver"].policy).Statement : s.Resource if s.Sid == "ReadSecrets"])) ==
      toset(flatten([
        for n in local.webhookq.secrets.secrets_manager :
        startswith(n, "arn:") ? [n, "${n}-??????"] : ["arn:aws:secretsmanager:${local.webhookq.region}:123456789012:secret:${n}-??????"]
      ]))
    )
    error_message = "deliver reads exactly the referenced secrets, a partial ARN included"
  }
}

run "ingress" {
  command = plan
  assert {
    condition = alltrue([
      for key, route in local.webhookq.routes :
      aws_apigatewayv2_route.route[key].route_key == "POST ${route.path}" &&
      aws_apigatewayv2_route.route[key].target == "integrations/${aws_apigatewayv2_integration.route[key].id}"
    ])
    error_message = "each route is POST <base_path><path> on its own integration"
  }
  assert {
    condition = alltrue([
      for key, i in aws_apigatewayv2_integration.route :
      i.integration_type == "AWS_PROXY" && i.integration_subtype == "SQS-SendMessage" &&
      i.credentials_arn == aws_iam_role.ingress.arn &&
      i.request_parameters.QueueUrl == aws_sqs_queue.main.url &&
      i.request_parameters.MessageBody == "$request.body"
    ])
    error_message = "each integration sends the raw body to the main queue with the ingress role"
  }
  assert {
    condition = alltrue([
      for key, route in local.webhookq.routes :
      aws_apigatewayv2_integration.route[key].request_parameters.MessageGroupId == (
        route.group.source == "static" ? route.group.value : "$request.${route.group.source}.${route.group.value}"
      )
    ])
    error_message = "MessageGroupId must follow the route's group"
  }
  assert {
    condition = alltrue([
      for key, route in local.webhookq.routes :
      lookup(aws_apigatewayv2_integration.route[key].request_parameters, "MessageDeduplicationId", "") == {
        content    = ""
        header     = "$request.header.${route.dedup.header}"
        request_id = "$context.requestId"
      }[route.dedup.source]
    ])
    error_message = "MessageDeduplicationId must follow the route's dedup policy (none for content)"
  }
  assert {
    condition = alltrue([
      for key, route in local.webhookq.routes :
      jsondecode(aws_apigatewayv2_integration.route[key].request_parameters.MessageAttributes) == merge(
        {
          (local.webhookq.attributes.webhook_id)  = { DataType = "String", StringValue = "$${context.requestId}" }
          (local.webhookq.attributes.route)       = { DataType = "String", StringValue = key }
          (local.webhookq.attributes.received_at) = { DataType = "Number", StringValue = "$${context.requestTimeEpoch}" }
        },
        { for h in route.headers : "h-${h}" => { DataType = "String", StringValue = "$${request.header.${h}}" } },
      )
    ])
    error_message = "MessageAttributes must carry the webhook id, the route, the receive time and each carried header"
  }
  assert {
    condition = alltrue([
      for key, route in local.webhookq.routes :
      output.ingress_urls[key] == "${local.webhookq.ingress.create_api ? "https://f6g7h8i9j0.execute-api.us-east-1.amazonaws.com" : "https://a1b2c3d4e5.execute-api.ap-northeast-1.amazonaws.com"}${route.path}"
    ])
    error_message = "ingress URLs are the API endpoint plus the route path"
  }
  assert {
    condition     = output.ingress_stage == "$default" && output.ingress_deploy_command == null
    error_message = "the routes are served by the $default stage, which deploys by itself"
  }
  assert {
    condition = (
      local.webhookq.ingress.create_api ?
      output.ingress_access_log_command == null :
      strcontains(output.ingress_access_log_command, "aws apigatewayv2 update-stage") && strcontains(output.ingress_access_log_command, "$context.integrationErrorMessage")
    )
    error_message = "an existing API gets the command that turns on its stage's access log (a created one has it already)"
  }
  assert {
    condition = (
      local.webhookq.ingress.create_api ?
      length(aws_apigatewayv2_api.created) == 1 && aws_apigatewayv2_stage.created[0].name == "$default" && aws_apigatewayv2_stage.created[0].auto_deploy && length(data.aws_apigatewayv2_apis.existing) == 0 :
      length(aws_apigatewayv2_api.created) == 0 && length(aws_apigatewayv2_stage.created) == 0 && data.aws_apigatewayv2_apis.existing[0].name == local.webhookq.ingress.api_name
    )
    error_message = "the API is created with an auto-deploying $default stage, or the existing one is looked up by name"
  }
  assert {
    condition = (
      local.webhookq.ingress.create_api ?
      aws_apigatewayv2_stage.created[0].access_log_settings[0].destination_arn == aws_cloudwatch_log_group.ingress[0].arn &&
      strcontains(aws_apigatewayv2_stage.created[0].access_log_settings[0].format, "$context.integrationErrorMessage") :
      length(aws_cloudwatch_log_group.ingress) == 0
    )
    error_message = "a created API logs every request, with the integration error, to its access log group"
  }
  assert {
    condition = alltrue([
      for key, i in aws_apigatewayv2_integration.route :
      i.api_id == (local.webhookq.ingress.create_api ? "f6g7h8i9j0" : "a1b2c3d4e5") && aws_apigatewayv2_route.route[key].api_id == i.api_id
    ])
    error_message = "routes and integrations must be on the ingress API"
  }
}

# Only deliver reaches the target, so only deliver is ever in a VPC, and
# only when routes.yaml sets target.vpc; the network-interface permissions
# Lambda needs for it come with it.
run "vpc" {
  command = plan
  assert {
    condition = (
      length(local.webhookq.functions.deliver.vpc.subnet_ids) == 0 ?
      length(aws_lambda_function.function["deliver"].vpc_config) == 0 :
      (
        toset(aws_lambda_function.function["deliver"].vpc_config[0].subnet_ids) == toset(local.webhookq.functions.deliver.vpc.subnet_ids) &&
        toset(aws_lambda_function.function["deliver"].vpc_config[0].security_group_ids) == toset(local.webhookq.functions.deliver.vpc.security_group_ids)
      )
    )
    error_message = "deliver has a vpc_config exactly when target.vpc is set, with its subnets and security groups"
  }
  assert {
    condition     = length(aws_lambda_function.function["forward"].vpc_config) == 0 && length(aws_lambda_function.function["notify"].vpc_config) == 0
    error_message = "forward and notify never run in a VPC"
  }
  assert {
    condition = (
      length([for s in jsondecode(aws_iam_role_policy.function["deliver"].policy).Statement : s if s.Sid == "ManageVPCNetworkInterfaces"]) ==
      (length(local.webhookq.functions.deliver.vpc.subnet_ids) == 0 ? 0 : 1)
    )
    error_message = "deliver may manage network interfaces only when it is in a VPC"
  }
  assert {
    condition = alltrue([
      for key in ["forward", "notify"] :
      !strcontains(aws_iam_role_policy.function[key].policy, "ec2:")
    ])
    error_message = "forward and notify have no EC2 permissions"
  }
}

# Confused deputy: every service role may be assumed only by its service acting
# for this account, and a state machine's role only by that state machine.
run "trust_policies" {
  command = plan
  assert {
    condition = alltrue([
      for role in concat(values(aws_iam_role.function), values(aws_iam_role.state_machine), [aws_iam_role.ingress]) :
      alltrue([
        for s in jsondecode(role.assume_role_policy).Statement :
        try(s.Condition.StringEquals["aws:SourceAccount"] == "123456789012", false)
      ])
    ])
    error_message = "every service role's trust policy must carry aws:SourceAccount = the account"
  }
  assert {
    condition = alltrue([
      for key, role in aws_iam_role.state_machine :
      alltrue([
        for s in jsondecode(role.assume_role_policy).Statement :
        try(s.Condition.ArnLike["aws:SourceArn"] == "arn:aws:states:${local.webhookq.region}:123456789012:stateMachine:${aws_sfn_state_machine.route[key].name}", false) &&
        s.Principal.Service == "states.amazonaws.com"
      ])
    ])
    error_message = "a state machine's role must be assumable only by that state machine (aws:SourceArn)"
  }
  assert {
    condition = (
      alltrue([for role in aws_iam_role.function : jsondecode(role.assume_role_policy).Statement[0].Principal.Service == "lambda.amazonaws.com"]) &&
      jsondecode(aws_iam_role.ingress.assume_role_policy).Statement[0].Principal.Service == "apigateway.amazonaws.com"
    )
    error_message = "the function roles trust Lambda, the ingress role API Gateway, and nothing else"
  }
}

# A created API throttles every route on its stage: the route's own limits
# (routes.yaml overrides) and the ingress default for anything else.
run "ingress_throttling" {
  command = plan
  assert {
    condition = (
      local.webhookq.ingress.create_api ?
      aws_apigatewayv2_stage.created[0].default_route_settings[0].throttling_rate_limit == local.webhookq.ingress.throttle.rate &&
      aws_apigatewayv2_stage.created[0].default_route_settings[0].throttling_burst_limit == local.webhookq.ingress.throttle.burst :
      length(aws_apigatewayv2_stage.created) == 0
    )
    error_message = "a created stage's default route throttle must be routes.yaml's ingress.throttle"
  }
  assert {
    condition = (
      local.webhookq.ingress.create_api ?
      length(aws_apigatewayv2_stage.created[0].route_settings) == length(local.webhookq.routes) &&
      alltrue([
        for key, route in local.webhookq.routes :
        anytrue([
          for s in aws_apigatewayv2_stage.created[0].route_settings :
          s.route_key == "POST ${route.path}" && s.throttling_rate_limit == route.throttle.rate && s.throttling_burst_limit == route.throttle.burst
        ])
      ]) :
      length(aws_apigatewayv2_stage.created) == 0
    )
    error_message = "a created stage must throttle each route at its own rate and burst"
  }
}

run "alarms" {
  command = plan
  assert {
    condition = alltrue([
      for key, a in local.webhookq.alarms :
      aws_cloudwatch_metric_alarm.alarm[key].alarm_name == a.name &&
      aws_cloudwatch_metric_alarm.alarm[key].threshold == a.threshold &&
      aws_cloudwatch_metric_alarm.alarm[key].comparison_operator == "GreaterThanOrEqualToThreshold" &&
      aws_cloudwatch_metric_alarm.alarm[key].treat_missing_data == "notBreaching"
    ])
    error_message = "every generated alarm exists with its name and threshold"
  }
  assert {
    condition = alltrue([
      for name in keys(local.webhookq.routes) : contains(keys(aws_cloudwatch_metric_alarm.alarm), "execution_failures/${name}")
    ])
    error_message = "every route has its execution-failures alarm"
  }
  assert {
    condition = alltrue([
      for a in aws_cloudwatch_metric_alarm.alarm :
      local.webhookq.notify.sns_topic_arn == "" ?
      length(a.alarm_actions) == 0 && length(a.ok_actions) == 0 :
      a.alarm_actions == toset([local.webhookq.notify.sns_topic_arn]) && a.ok_actions == toset([local.webhookq.notify.sns_topic_arn])
    ])
    error_message = "every alarm notifies the configured SNS topic when it fires and when it recovers, and nothing else"
  }
  assert {
    condition = alltrue([
      for a in aws_cloudwatch_metric_alarm.alarm : length([for q in a.metric_query : q if q.return_data]) == 1
    ])
    error_message = "every alarm evaluates exactly one series"
  }
  assert {
    condition = alltrue(flatten([
      for a in aws_cloudwatch_metric_alarm.alarm : [
        for q in a.metric_query : [
          for m in q.metric : contains(concat(var.aws_metrics, flatten([
            for e in local.webhookq.metrics.emitted : [for set in e.dimension_sets : "${local.webhookq.metrics.namespace} ${e.name} ${join(",", sort(set))}"]
          ])), "${m.namespace} ${m.metric_name} ${join(",", sort(keys(m.dimensions)))}")
        ]
      ]
    ]))
    error_message = "an alarm watches a metric that neither AWS nor the Lambdas publish under those dimensions"
  }
  assert {
    condition = alltrue(flatten([
      for key, a in aws_cloudwatch_metric_alarm.alarm : [
        for q in a.metric_query : [
          for m in q.metric : (
            m.namespace != local.webhookq.metrics.namespace ||
            (local.webhookq.alarms[key].kind == "rejected_signatures") == (lookup(m.dimensions, "Reason", "") == "signature")
          )
        ]
      ]
    ]))
    error_message = "rejected_signatures watches Parked with reason signature, and parked every other reason"
  }
}

run "dashboard" {
  command = plan
  assert {
    condition = alltrue([
      for d in local.webhookq.dashboards :
      can(jsondecode(aws_cloudwatch_dashboard.main[d.name].dashboard_body).widgets) &&
      length(jsondecode(aws_cloudwatch_dashboard.main[d.name].dashboard_body).widgets) == d.widgets &&
      d.widgets <= 500
    ])
    error_message = "every dashboard body is JSON with the widgets tfgen counts on, within CloudWatch's 500 a dashboard holds"
  }
  assert {
    condition = alltrue([
      for m in concat([for d in aws_cloudwatch_dashboard.main : concat([for w in jsondecode(d.dashboard_body).widgets : try(w.properties.metrics, [])]...)]...) :
      contains(concat(var.aws_metrics, flatten([
        for e in local.webhookq.metrics.emitted : [for set in e.dimension_sets : "${local.webhookq.metrics.namespace} ${e.name} ${join(",", sort(set))}"]
        ])),
        "${m[0]} ${m[1]} ${join(",", sort([for i, x in [for v in m : v if can(tostring(v))] : x if i >= 2 && i % 2 == 0]))}"
      )
    ])
    error_message = "a dashboard metric is neither one AWS publishes for these resources nor one the Lambdas publish, under those dimensions"
  }
  assert {
    condition = alltrue(flatten([
      for m in concat([for d in aws_cloudwatch_dashboard.main : concat([for w in jsondecode(d.dashboard_body).widgets : try(w.properties.metrics, [])]...)]...) : [
        for i, v in [for v in m : v if can(tostring(v))] : contains(lookup({
          "QueueName"       = [aws_sqs_queue.main.name, aws_sqs_queue.dlq.name]
          "FunctionName"    = [for fn in aws_lambda_function.function : fn.function_name]
          "StateMachineArn" = [for sm in aws_sfn_state_machine.route : sm.arn]
          "ApiId"           = [local.api_id]
          "Stage"           = [local.stage_name]
          "Class"           = local.webhookq.metrics.classes
          "Reason"          = local.webhookq.metrics.reasons
          "Route"           = m[0] == "AWS/ApiGateway" ? [for r in aws_apigatewayv2_route.route : r.route_key] : keys(local.webhookq.routes)
        }, [for v in m : v if can(tostring(v))][i - 1], [v]), v) if i >= 3 && i % 2 == 1
      ]
    ]))
    error_message = "a dashboard metric's dimension value names no resource, route, class or reason of this module"
  }
  assert {
    condition = alltrue([
      for name in keys(local.webhookq.routes) : length([
        for w in concat([for d in aws_cloudwatch_dashboard.main : jsondecode(d.dashboard_body).widgets]...) : w if startswith(try(w.properties.title, ""), "${name}: ")
      ]) == 5
    ])
    error_message = "every route has its row of five widgets, on one dashboard"
  }
  assert {
    condition = alltrue(concat(
      [for st in aws_apigatewayv2_stage.created : st.default_route_settings[0].detailed_metrics_enabled],
      flatten([for st in aws_apigatewayv2_stage.created : [for r in st.route_settings : r.detailed_metrics_enabled]]),
    ))
    error_message = "the stage the module creates publishes per-route metrics (detailed metrics), which the ingress widgets read"
  }
  assert {
    condition = (
      output.dashboard_urls == [for d in local.webhookq.dashboards : d.url] &&
      alltrue([
        for d in local.webhookq.dashboards :
        endswith(d.url, "#dashboards/dashboard/${aws_cloudwatch_dashboard.main[d.name].dashboard_name}") &&
        startswith(d.url, "https://${local.region}.console.aws.amazon.com/cloudwatch/")
      ])
    )
    error_message = "the dashboard_urls output opens each dashboard in the config's region"
  }
}

# The forwarder verifies before any execution: it reads the routes' inbound
# verification secrets, and only those.
run "forward_secrets" {
  command = plan
  assert {
    condition = (
      toset(flatten([for s in jsondecode(aws_iam_role_policy.function["forward"].policy).Statement : s.Resource if s.Sid == "ReadVerificationSecretParameters"])) ==
      toset([for n in local.webhookq.verify_secrets.ssm_parameters : "arn:aws:ssm:${local.webhookq.region}:123456789012:parameter/${trimprefix(n, "/")}"]) &&
      toset(flatten([for s in jsondecode(aws_iam_role_policy.function["forward"].policy).Statement : s.Resource if s.Sid == "ReadVerificationSecrets"])) ==
      toset(flatten([
        for n in local.webhookq.verify_secrets.secrets_manager :
        startswith(n, "arn:") ? [n, "${n}-??????"] : ["arn:aws:secretsmanager:${local.webhookq.region}:123456789012:secret:${n}-??????"]
      ]))
    )
    error_message = "forward reads exactly the routes' verification secrets"
  }
  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.function["forward"].policy).Statement :
      !contains(flatten([s.Action]), "ssm:GetParameter") || alltrue([
        for arn in flatten([s.Resource]) :
        contains([for n in local.webhookq.verify_secrets.ssm_parameters : "arn:aws:ssm:${local.webhookq.region}:123456789012:parameter/${trimprefix(n, "/")}"], arn)
      ])
    ])
    error_message = "forward may read no other parameter (the outbound signing secret, say)"
  }
}

# The probe key: an HMAC key whose MACs deliver may only check, named to
# deliver by its environment.
run "probe_key" {
  command = plan
  assert {
    condition     = aws_kms_key.probe.key_usage == "GENERATE_VERIFY_MAC" && aws_kms_key.probe.customer_master_key_spec == "HMAC_256"
    error_message = "the probe key is a KMS HMAC_256 key for MACs"
  }
  assert {
    condition     = aws_lambda_function.function["deliver"].environment[0].variables[local.webhookq.env.probe_key] == aws_kms_key.probe.arn
    error_message = "deliver knows the probe key by its environment"
  }
  assert {
    condition = anytrue([
      for s in jsondecode(aws_iam_role_policy.function["deliver"].policy).Statement :
      s.Action == ["kms:VerifyMac"] && s.Resource == [aws_kms_key.probe.arn]
    ])
    error_message = "deliver may check MACs with exactly the probe key"
  }
  assert {
    condition = alltrue([
      for p in aws_iam_role_policy.function : !strcontains(p.policy, "kms:GenerateMac")
    ])
    error_message = "no function may make probe MACs"
  }
  assert {
    condition     = output.probe_key_arn == aws_kms_key.probe.arn && output.function_names["deliver"] == local.webhookq.functions.deliver.name
    error_message = "cmd/check finds the probe key and the functions in the outputs"
  }
}
