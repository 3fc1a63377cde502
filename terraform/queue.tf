# The FIFO queue orders webhooks per message group; the forwarder parks a
# webhook whose retry window ran out in the FIFO dead-letter queue, where
# cmd/redrive finds it (alarms.tf watches both). SQS's redrive policy is a
# backstop whose maxReceiveCount the generator derives from the retry policy
# (docs/config.md). Both are encrypted at rest with SQS-managed keys (which
# API Gateway and Lambda can use without a KMS grant).
#
# Message sizes (config.QueueMaxMessageBytes): the DLQ takes the largest the
# provider allows (256 KiB); the queue that less the failure record the
# forwarder adds when it parks, so every message the queue accepted fits the
# DLQ. SQS refuses a larger request at ingress, before anything is queued.

locals {
  queue = local.webhookq.queue
  # High-throughput FIFO (the default; queue.high_throughput: false opts out):
  # deduplication and throughput quotas per message group.
  fifo_deduplication_scope = local.queue.high_throughput ? "messageGroup" : "queue"
  fifo_throughput_limit    = local.queue.high_throughput ? "perMessageGroupId" : "perQueue"
}

resource "aws_sqs_queue" "dlq" {
  name                        = local.queue.dlq_name
  fifo_queue                  = true
  content_based_deduplication = true
  deduplication_scope         = local.fifo_deduplication_scope
  fifo_throughput_limit       = local.fifo_throughput_limit
  max_message_size            = local.queue.dlq_max_message_bytes
  message_retention_seconds   = local.queue.dlq_retention_seconds
  sqs_managed_sse_enabled     = true
}

resource "aws_sqs_queue" "main" {
  name                        = local.queue.name
  fifo_queue                  = true
  content_based_deduplication = true
  deduplication_scope         = local.fifo_deduplication_scope
  fifo_throughput_limit       = local.fifo_throughput_limit
  max_message_size            = local.queue.max_message_bytes
  message_retention_seconds   = local.queue.retention_seconds
  # From the derived budget: at least 6 × the forward Lambda's timeout.
  visibility_timeout_seconds = local.queue.visibility_timeout_seconds
  sqs_managed_sse_enabled    = true

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq.arn
    maxReceiveCount     = local.queue.max_receive_count
  })
}

# Only the main queue may use the DLQ, and a redrive may move messages back to it.
resource "aws_sqs_queue_redrive_allow_policy" "dlq" {
  queue_url = aws_sqs_queue.dlq.id

  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.main.arn]
  })
}
