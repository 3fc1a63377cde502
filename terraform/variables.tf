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
  description = "Stage of the existing HTTP API (ingress.http_api_name) that serves the routes; used for the ingress URLs. The stage must auto-deploy, or be redeployed after apply, for new routes to go live."
  type        = string
  default     = "$default"
}

variable "secrets_kms_key_arns" {
  description = "Customer managed KMS keys that encrypt the SSM parameters or Secrets Manager secrets routes.yaml references. Leave empty when they use the AWS managed keys (aws/ssm, aws/secretsmanager), which need no grant here."
  type        = list(string)
  default     = []
}
