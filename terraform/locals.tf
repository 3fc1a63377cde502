locals {
  service    = local.webhookq.service
  region     = local.webhookq.region
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  dist_dir   = coalesce(var.dist_dir, "${path.module}/../dist")

  # The forwarder appends a route name to this to get its state machine's ARN.
  state_machine_arn_prefix = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${local.service}-"

  # Secrets are referenced by name in routes.yaml (an SSM parameter only by
  # name, never by ARN); IAM wants ARNs. A Secrets Manager ARN ends in a
  # random 6-character suffix, hence "-??????". An ARN in routes.yaml may be
  # complete (suffix included) or partial (without it, which GetSecretValue
  # accepts); IAM matches the complete ARN, and the two cannot be told apart
  # (a name may end in "-abcdef"), so both are granted.
  ssm_arn_prefix    = "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter/"
  secret_arn_prefix = "arn:${local.partition}:secretsmanager:${local.region}:${local.account_id}:secret:"

  # The secrets each function reads, by store (generated.tf.json): forward
  # the routes' inbound verification secrets (it verifies before any
  # execution), deliver those and the outbound ones, notify the Slack URL.
  function_secret_refs = {
    forward = local.webhookq.verify_secrets
    deliver = local.webhookq.secrets
    notify  = local.webhookq.notify.slack_webhook_url
  }
  function_secret_arns = {
    for fn, refs in local.function_secret_refs : fn => {
      ssm_parameters = [for name in refs.ssm_parameters : "${local.ssm_arn_prefix}${trimprefix(name, "/")}"]
      secrets_manager = flatten([
        for name in refs.secrets_manager :
        startswith(name, "arn:") ? [name, "${name}-??????"] : ["${local.secret_arn_prefix}${name}-??????"]
      ])
    }
  }
}
