package config

import "github.com/webhookq/webhookq/internal/webhook"

// AWS's size limits the pipeline is built against. The body limit itself is
// derived from the generated workflow (asl.RouteLimits), not fixed here.
const (
	// StatePayloadMax is Step Functions' limit on an execution's input, a
	// state's input and output and a task's parameters and result: 262,144
	// bytes of UTF-8 JSON
	// (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html).
	StatePayloadMax = 256 * 1024
	// SQSMaxMessageBytes is the largest message (body plus attributes) SQS
	// takes since August 2025, 1 MiB
	// (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html).
	SQSMaxMessageBytes = 1024 * 1024
	// SQSQueueMaxMessageBytes is the largest MaximumMessageSize the AWS
	// provider the module pins (5.100) lets a queue have, and its default:
	// 262,144 bytes. It, not SQS's 1 MiB, caps the queues.
	SQSQueueMaxMessageBytes = 256 * 1024
	// APIGatewayMaxPayload is an HTTP API's request payload limit, 10 MB
	// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html);
	// the queue's message size binds long before it.
	APIGatewayMaxPayload = 10 * 1000 * 1000
)

// The queues' MaximumMessageSize (terraform/queue.tf, the twin's queues).
// The DLQ takes the largest a queue may have; the queue that much less what
// the forwarder adds when it parks a message (its failure record and, for a
// message moved back from the DLQ, a redrive count), so the DLQ takes
// whatever the queue accepted. SQS refuses a larger request at ingress: API
// Gateway answers the sender with an error and nothing is queued.
const (
	DLQMaxMessageBytes   = SQSQueueMaxMessageBytes
	QueueMaxMessageBytes = DLQMaxMessageBytes - parkedAttributesBytes
	// parkedAttributesBytes: SQS counts an attribute's name, data type and
	// value; a redrive count is at most ten digits.
	parkedAttributesBytes = len(webhook.AttrFailure) + len("String") + webhook.MaxFailureBytes +
		len(webhook.AttrRedriveCount) + len("Number") + 10
)

// High-throughput FIFO: SendMessage calls a second (without batching: ingress
// sends one message per call) a queue takes in high-throughput mode, by
// Region; the other Regions take highThroughputSendDefault. (Amazon SQS
// message quotas, "High throughput for FIFO queues":
// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html)
var highThroughputSendQuotas = map[string]int{
	"us-east-1": 70000, "us-west-2": 70000, "eu-west-1": 70000,
	"us-east-2": 19000, "eu-central-1": 19000,
	"ap-south-1": 9000, "ap-southeast-1": 9000, "ap-southeast-2": 9000, "ap-northeast-1": 9000,
	"eu-west-2": 4500, "sa-east-1": 4500,
}

const highThroughputSendDefault = 2400

// HighThroughputSendQuota is a high-throughput FIFO queue's SendMessage
// quota in region, calls a second. A message group lives in one partition,
// which takes FIFOSendQuota of them: that is one group's ceiling either way.
func HighThroughputSendQuota(region string) int {
	if q, ok := highThroughputSendQuotas[region]; ok {
		return q
	}
	return highThroughputSendDefault
}

// QueueSendQuota is what the configured queue takes: calls a second.
func (c *Config) QueueSendQuota() int {
	if c.Queue.HighThroughput {
		return HighThroughputSendQuota(c.Region)
	}
	return FIFOSendQuota
}
