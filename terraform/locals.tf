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

  deliver_ssm_parameter_arns = [
    for name in local.webhookq.secrets.ssm_parameters :
    "${local.ssm_arn_prefix}${trimprefix(name, "/")}"
  ]
  deliver_secret_arns = flatten([
    for name in local.webhookq.secrets.secrets_manager :
    startswith(name, "arn:") ? [name, "${name}-??????"] : ["${local.secret_arn_prefix}${name}-??????"]
  ])
  notify_ssm_parameter_arns = [
    for name in local.webhookq.notify.slack_webhook_url.ssm_parameters :
    "${local.ssm_arn_prefix}${trimprefix(name, "/")}"
  ]
  notify_secret_arns = flatten([
    for name in local.webhookq.notify.slack_webhook_url.secrets_manager :
    startswith(name, "arn:") ? [name, "${name}-??????"] : ["${local.secret_arn_prefix}${name}-??????"]
  ])
}
