# Only what the person running `terraform apply` chooses; everything about the
# pipeline itself is in config/routes.yaml.

variable "tags" {
  description = "Tags added to every resource (the provider's default_tags)."
  type        = map(string)
  default     = {}
}

variable "dist_dir" {
  description = "Folder holding forward.zip, deliver.zip and notify.zip as built by cmd/generate. Default: ../dist next to this module."
  type        = string
  default     = null
}

variable "existing_api_stage" {
  description = "Stage of the existing HTTP API (ingress.http_api_name) that serves the routes: \"$default\" (served at the API's root) or a named stage (served under /<name>). It must exist; plan reads it. Ignored when webhookq creates its own API."
  type        = string
  default     = "$default"

  validation {
    # API Gateway's rule for stage names (CreateStage).
    condition     = can(regex("^(\\$default|[A-Za-z0-9_-]{1,128})$", var.existing_api_stage))
    error_message = "existing_api_stage must be \"$default\" or a stage name of 1 to 128 letters, digits, - and _ (it is the first path segment of a named stage's URL)."
  }
}

variable "existing_api_stage_auto_deploy" {
  description = "Whether existing_api_stage deploys API changes by itself (API Gateway's AutoDeploy; read it with aws apigatewayv2 get-stage --api-id <id> --stage-name <stage> --query AutoDeploy). true: the routes apply adds go live at once. false: they answer 404 until the stage is deployed, and the output ingress_deploy_command is the command to run after every apply that changes routes. Unset, plan fails and says how to find out. Ignored when webhookq creates its own API (its stage auto-deploys)."
  type        = bool
  default     = null
}

variable "secrets_kms_key_arns" {
  description = "Customer managed KMS keys that encrypt the SSM parameters or Secrets Manager secrets routes.yaml references. Leave empty when they use the AWS managed keys (aws/ssm, aws/secretsmanager), which need no grant here."
  type        = list(string)
  default     = []
}
