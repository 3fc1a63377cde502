# webhookq on AWS: API Gateway HTTP API → SQS FIFO (+ DLQ) → forward Lambda →
# one Express state machine per route (deliver, notify Lambdas).
#
# The resources are written out here by hand; the values that depend on
# config/routes.yaml (names, timeouts, routes) come from local.webhookq in
# generated.tf.json, which `go run ./cmd/generate` writes. Edit routes.yaml and
# regenerate instead of editing generated.tf.json.

terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.67, < 6"
    }
  }
}

provider "aws" {
  region = local.webhookq.region

  default_tags {
    tags = var.tags
  }
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}
