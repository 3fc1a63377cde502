package config

import (
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Alarm names one of the CloudWatch alarms the Terraform module creates
// (terraform/alarms.tf); its threshold is alarms.<name> in routes.yaml.
type Alarm string

// The alarms; AlarmSpecs says what each watches.
const (
	AlarmBacklogAge         Alarm = "backlog_age"
	AlarmParked             Alarm = "parked"
	AlarmDLQDepth           Alarm = "dlq_depth"
	AlarmExecutionFailures  Alarm = "execution_failures"
	AlarmDeliverThrottles   Alarm = "deliver_throttles"
	AlarmRejectedSignatures Alarm = "rejected_signatures"
)

// AlarmSpec describes one alarm and its threshold.
type AlarmSpec struct {
	Alarm Alarm
	// Age: the threshold is a duration (an age), else a count.
	Age bool
	// Default is the threshold when routes.yaml sets none: seconds for an
	// Age, else a count.
	Default int
	// PerRoute: one alarm per route (named <service>-<route>-<alarm>),
	// else one for the service.
	PerRoute bool
	// Watches says what reaches the threshold, for the alarm's description
	// and the docs.
	Watches string
}

// AlarmWindow is the period a count alarm adds up (one period evaluated).
// EMF metrics reach CloudWatch after the Lambda's log lines are processed,
// so a whole-minutes window rather than a high-resolution one.
const AlarmWindow = 5 * time.Minute

// maxAlarmCount bounds a count threshold; a larger one could never fire.
const maxAlarmCount = 1_000_000

// AlarmSpecs is the one table of alarms: the loader's keys and defaults, the
// generated Terraform locals, docs/config.md and terraform/README.md (both
// checked by tests) read it.
var AlarmSpecs = []AlarmSpec{
	{Alarm: AlarmBacklogAge, Age: true, Default: int((10 * time.Minute).Seconds()),
		Watches: "the oldest webhook in the queue has waited this long (SQS ApproximateAgeOfOldestMessage): the target is down or too slow"},
	{Alarm: AlarmParked, Default: 1,
		Watches: "webhooks parked in the DLQ within 5 minutes for any reason but an invalid signature (Parked): they were not delivered"},
	{Alarm: AlarmDLQDepth, Default: 1,
		Watches: "messages waiting in the DLQ (SQS ApproximateNumberOfMessagesVisible), forged ones and those SQS's redrive policy moved included"},
	{Alarm: AlarmExecutionFailures, Default: 3, PerRoute: true,
		Watches: "a route's workflow executions that failed or timed out within 5 minutes (Step Functions ExecutionsFailed + ExecutionsTimedOut)"},
	{Alarm: AlarmDeliverThrottles, Default: 1,
		Watches: "deliver invocations Lambda throttled within 5 minutes (Lambda Throttles): account or reserved concurrency is exhausted"},
	{Alarm: AlarmRejectedSignatures, Default: 1,
		Watches: "webhooks parked within 5 minutes because their inbound signature did not verify (Parked, reason signature): forged, or the secret is wrong"},
}

// alarmKeys are the keys of the alarms section, in table order.
func alarmKeys() []string {
	keys := make([]string, len(AlarmSpecs))
	for i, s := range AlarmSpecs {
		keys[i] = string(s.Alarm)
	}
	return keys
}

func defaultAlarms() map[Alarm]int {
	m := make(map[Alarm]int, len(AlarmSpecs))
	for _, s := range AlarmSpecs {
		m[s.Alarm] = s.Default
	}
	return m
}

// alarms decodes the alarms section over the defaults in c.Alarms, after
// the queue section (retention is the node of queue.retention, if set). An
// age must stay below the queue's retention: a webhook older than that is
// gone, so the alarm would fire only after the loss.
func (d *decoder) alarms(f fields, c *Config, retention *yaml.Node) {
	for _, s := range AlarmSpecs {
		key := string(s.Alarm)
		if !s.Age {
			v := c.Alarms[s.Alarm]
			f.intRange(key, &v, 1, maxAlarmCount, "a count of events within "+formatDuration(AlarmWindow)+" at which the alarm fires")
			c.Alarms[s.Alarm] = v
			continue
		}
		age := time.Duration(c.Alarms[s.Alarm]) * time.Second
		n := f.durationRange(key, &age, time.Minute, 14*day, true, "SQS publishes the age once a minute")
		switch {
		case age < c.Queue.Retention:
		case n != nil:
			d.report(n, f.child(key), "%s (%s) is not below queue.retention (%s): a webhook that old has expired, so the alarm would fire only after the loss; lower it",
				key, formatDuration(age), formatDuration(c.Queue.Retention))
		default:
			d.report(retention, "queue.retention", "queue.retention (%s) is not above alarms.%s's default (%s), so that alarm would fire only after webhooks expired; set alarms.%s below %s",
				formatDuration(c.Queue.Retention), key, formatDuration(age), key, formatDuration(c.Queue.Retention))
		}
		c.Alarms[s.Alarm] = int(age / time.Second)
	}
}

// AlarmName is the CloudWatch alarm's name: <service>-<alarm> ("_" as
// "-"), or <service>-<route>-<alarm> for a per-route alarm (route empty
// otherwise).
func (c *Config) AlarmName(a Alarm, route string) string {
	name := c.Service
	if route != "" {
		name += "-" + route
	}
	return name + "-" + strings.ReplaceAll(string(a), "_", "-")
}

// FormatThreshold writes a threshold of s as routes.yaml does.
func (s AlarmSpec) FormatThreshold(v int) string {
	if s.Age {
		return formatDuration(time.Duration(v) * time.Second)
	}
	return fmt.Sprint(v)
}
