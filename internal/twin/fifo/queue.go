package fifo

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Queue attribute names, as SQS spells them.
const (
	AttrFifoQueue                     = "FifoQueue"
	AttrContentBasedDeduplication     = "ContentBasedDeduplication"
	AttrVisibilityTimeout             = "VisibilityTimeout"
	AttrMessageRetentionPeriod        = "MessageRetentionPeriod"
	AttrDelaySeconds                  = "DelaySeconds"
	AttrReceiveMessageWaitTimeSeconds = "ReceiveMessageWaitTimeSeconds"
	AttrMaximumMessageSize            = "MaximumMessageSize"
	AttrRedrivePolicy                 = "RedrivePolicy"
	AttrRedriveAllowPolicy            = "RedriveAllowPolicy"
	AttrDeduplicationScope            = "DeduplicationScope"
	AttrFifoThroughputLimit           = "FifoThroughputLimit"
	AttrPolicy                        = "Policy"
	AttrSqsManagedSseEnabled          = "SqsManagedSseEnabled"
	AttrKmsMasterKeyID                = "KmsMasterKeyId"
	AttrKmsDataKeyReusePeriodSeconds  = "KmsDataKeyReusePeriodSeconds"

	// Read-only attributes computed on GetQueueAttributes.
	AttrQueueArn                              = "QueueArn"
	AttrApproximateNumberOfMessages           = "ApproximateNumberOfMessages"
	AttrApproximateNumberOfMessagesNotVisible = "ApproximateNumberOfMessagesNotVisible"
	AttrApproximateNumberOfMessagesDelayed    = "ApproximateNumberOfMessagesDelayed"
	AttrCreatedTimestamp                      = "CreatedTimestamp"
	AttrLastModifiedTimestamp                 = "LastModifiedTimestamp"
)

// defaultAttributes are what SQS reports for a queue created without them.
// MaximumMessageSize follows AWS's 1 MiB default of August 2025.
var defaultAttributes = map[string]string{
	AttrVisibilityTimeout:             "30",
	AttrMessageRetentionPeriod:        "345600",
	AttrDelaySeconds:                  "0",
	AttrReceiveMessageWaitTimeSeconds: "0",
	AttrMaximumMessageSize:            "1048576",
	AttrSqsManagedSseEnabled:          "true",
}

var fifoDefaultAttributes = map[string]string{
	AttrContentBasedDeduplication: "false",
	AttrDeduplicationScope:        "queue",
	AttrFifoThroughputLimit:       "perQueue",
}

var settableAttributes = map[string]bool{
	AttrFifoQueue: true, AttrContentBasedDeduplication: true, AttrVisibilityTimeout: true,
	AttrMessageRetentionPeriod: true, AttrDelaySeconds: true, AttrReceiveMessageWaitTimeSeconds: true,
	AttrMaximumMessageSize: true, AttrRedrivePolicy: true, AttrRedriveAllowPolicy: true,
	AttrDeduplicationScope: true, AttrFifoThroughputLimit: true, AttrPolicy: true,
	AttrSqsManagedSseEnabled: true, AttrKmsMasterKeyID: true, AttrKmsDataKeyReusePeriodSeconds: true,
}

var queueNamePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

// RedrivePolicy is a source queue's dead-letter configuration.
type RedrivePolicy struct {
	DeadLetterTargetArn string
	MaxReceiveCount     int
}

// queueConfig is the parsed form of a queue's attributes.
type queueConfig struct {
	fifo            bool
	contentDedup    bool
	dedupPerGroup   bool // DeduplicationScope messageGroup (high throughput)
	visibility      time.Duration
	retention       time.Duration
	delay           time.Duration
	receiveWait     time.Duration
	maxMessageSize  int
	redrive         *RedrivePolicy
	redriveAllowRaw string
}

func validateQueueName(name string) error {
	base := strings.TrimSuffix(name, ".fifo")
	if len(name) > 80 || !queueNamePattern.MatchString(base) {
		return newError("InvalidParameterValue", "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
	}
	return nil
}

// parseConfig checks attrs (the stored, user-set attributes merged over the
// defaults) and returns their parsed form.
func parseConfig(name string, attrs map[string]string) (queueConfig, error) {
	var c queueConfig
	c.fifo = attrs[AttrFifoQueue] == "true"
	if v, ok := attrs[AttrFifoQueue]; ok && v != "true" && v != "false" {
		return c, newError("InvalidAttributeValue", "Invalid value for the parameter FifoQueue.")
	}
	if c.fifo != strings.HasSuffix(name, ".fifo") {
		return c, newError("InvalidParameterValue", "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.")
	}
	if !c.fifo {
		for _, a := range []string{AttrContentBasedDeduplication, AttrDeduplicationScope, AttrFifoThroughputLimit} {
			if _, ok := attrs[a]; ok {
				return c, newError("InvalidAttributeName", "Unknown Attribute %s.", a)
			}
		}
	}
	c.contentDedup = attrs[AttrContentBasedDeduplication] == "true"
	switch attrs[AttrDeduplicationScope] {
	case "", "queue":
	case "messageGroup":
		c.dedupPerGroup = true
	default:
		return c, newError("InvalidAttributeValue", "Invalid value for the parameter DeduplicationScope.")
	}
	switch attrs[AttrFifoThroughputLimit] {
	case "", "perQueue", "perMessageGroupId":
	default:
		return c, newError("InvalidAttributeValue", "Invalid value for the parameter FifoThroughputLimit.")
	}
	seconds := func(attr string, lo, hi int) (time.Duration, error) {
		n, err := intAttr(attrs, attr, lo, hi)
		return time.Duration(n) * time.Second, err
	}
	var err error
	if c.visibility, err = seconds(AttrVisibilityTimeout, 0, 43200); err != nil {
		return c, err
	}
	if c.retention, err = seconds(AttrMessageRetentionPeriod, 60, 1209600); err != nil {
		return c, err
	}
	if c.delay, err = seconds(AttrDelaySeconds, 0, 900); err != nil {
		return c, err
	}
	if c.receiveWait, err = seconds(AttrReceiveMessageWaitTimeSeconds, 0, 20); err != nil {
		return c, err
	}
	if c.maxMessageSize, err = intAttr(attrs, AttrMaximumMessageSize, 1024, 1048576); err != nil {
		return c, err
	}
	if raw := attrs[AttrRedrivePolicy]; raw != "" {
		p, err := parseRedrivePolicy(raw)
		if err != nil {
			return c, err
		}
		c.redrive = p
	}
	c.redriveAllowRaw = attrs[AttrRedriveAllowPolicy]
	if c.redriveAllowRaw != "" && !json.Valid([]byte(c.redriveAllowRaw)) {
		return c, newError("InvalidAttributeValue", "Invalid value for the parameter RedriveAllowPolicy. Reason: Invalid JSON.")
	}
	return c, nil
}

func intAttr(attrs map[string]string, attr string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(attrs[attr])
	if err != nil || n < lo || n > hi {
		return 0, newError("InvalidAttributeValue", "Invalid value for the parameter %s.", attr)
	}
	return n, nil
}

// parseRedrivePolicy reads {"deadLetterTargetArn": "...", "maxReceiveCount": N};
// SQS accepts maxReceiveCount as a number or a numeric string.
func parseRedrivePolicy(raw string) (*RedrivePolicy, error) {
	var doc struct {
		DeadLetterTargetArn string          `json:"deadLetterTargetArn"`
		MaxReceiveCount     json.RawMessage `json:"maxReceiveCount"`
	}
	bad := newError("InvalidParameterValue", "Value %s for parameter RedrivePolicy is invalid. Reason: Redrive policy is not a valid JSON map with deadLetterTargetArn and maxReceiveCount.", raw)
	if err := json.Unmarshal([]byte(raw), &doc); err != nil || doc.DeadLetterTargetArn == "" || len(doc.MaxReceiveCount) == 0 {
		return nil, bad
	}
	count := strings.Trim(string(doc.MaxReceiveCount), `"`)
	n, err := strconv.Atoi(count)
	if err != nil || n < 1 || n > 1000 {
		return nil, newError("InvalidParameterValue", "Value %s for parameter RedrivePolicy is invalid. Reason: Invalid value for maxReceiveCount: %s, valid values are from 1 to 1000 both inclusive.", raw, count)
	}
	return &RedrivePolicy{DeadLetterTargetArn: doc.DeadLetterTargetArn, MaxReceiveCount: n}, nil
}

// effectiveAttributes merges the user-set attributes over the defaults.
func effectiveAttributes(name string, set map[string]string) map[string]string {
	out := make(map[string]string, len(defaultAttributes)+len(set)+4)
	for k, v := range defaultAttributes {
		out[k] = v
	}
	if set[AttrFifoQueue] == "true" {
		for k, v := range fifoDefaultAttributes {
			out[k] = v
		}
	}
	for k, v := range set {
		out[k] = v
	}
	return out
}
