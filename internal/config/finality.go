package config

import (
	"fmt"
	"time"
)

// The forwarder's retry policy, in one sentence (the budget summary prints
// it): a webhook is retried until retry_window after it was queued; the
// execution that could run past that is its last and notifies, and if it
// fails the forwarder parks the webhook in the DLQ.
//
// "Queued" is SQS's SentTimestamp, so a redrive (a new message) opens a new
// window. Time, not SQS's receive count, is the clock: a FIFO batch hands a
// group's followers over with their failing head, so a follower's receive
// count climbs without it ever being tried. SQS's redrive policy stays as a
// backstop whose maxReceiveCount is derived here so that the policy never
// reaches it in normal operation.
const RetryPolicy = "A webhook is retried until retry_window after it was queued; the execution that could run past that is its last and notifies, and if it fails the forwarder parks the webhook in the DLQ."

const (
	// DefaultRetryWindow is queue.retry_window's default: long enough to ride
	// out a deploy or a short outage, far inside the default 4-day retention.
	DefaultRetryWindow = time.Hour

	// SQSMaxReceiveCount is the largest maxReceiveCount a redrive policy
	// takes: "valid values are from 1 to 1000"
	// (Maximum receives, https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-configure-dead-letter-queue.html;
	// SetQueueAttributes refuses more with InvalidParameterValue).
	SQSMaxReceiveCount = 1000

	// RedeliveryJitter is the largest share of a redelivery delay the
	// forwarder's jitter takes off: a delay is never longer than scheduled,
	// and never shorter than (1 − RedeliveryJitter) of it.
	RedeliveryJitter = 0.2

	// BackstopMargin is how many receives the backstop allows beyond the most
	// the policy can use: receives lost to forward invocations that did not
	// finish (a crash, a timeout, a throttled invoke), each of which returns
	// the whole batch after the visibility timeout.
	BackstopMargin = 5
)

// RedeliveryWait is the outer backoff's wait after the receiveCount-th
// receive (1-based) failed, before jitter: redelivery_delay, doubling per
// receive, capped at max_redelivery_delay and SQS's 12-hour visibility limit.
func (q Queue) RedeliveryWait(receiveCount int) time.Duration {
	if q.RedeliveryDelay <= 0 {
		return 0
	}
	limit := SQSMaxVisibility
	if q.MaxRedeliveryDelay > 0 && q.MaxRedeliveryDelay < limit {
		limit = q.MaxRedeliveryDelay
	}
	d := q.RedeliveryDelay
	for n := 1; n < receiveCount && d < limit; n++ {
		d *= 2
	}
	return min(d, limit)
}

// minRedeliveryWait is the shortest wait jitter can make of RedeliveryWait.
func (q Queue) minRedeliveryWait(receiveCount int) time.Duration {
	return time.Duration(float64(q.RedeliveryWait(receiveCount)) * (1 - RedeliveryJitter))
}

// Finality is the retry policy of a configuration and the numbers derived
// from it: SQS's backstop and how long a message can wait.
type Finality struct {
	// Window is queue.retry_window.
	Window time.Duration
	// WindowReceives is the most receives a message can get while it, or a
	// message ahead of it in its group, fails executions that are not final:
	// those end before the message's window closes, and each is followed by
	// a redelivery delay no shorter than the message's own (the one failing
	// has been received at least as often), so the receives are at least
	// the shortest jittered delays apart. It is SQSMaxReceiveCount+1 when
	// no bound fits under SQS's limit (redelivery_delay 0s has none).
	WindowReceives int
	// BatchReceives is batch_size: once no message ahead of it fails
	// non-finally, a message is received again only after one ahead of it
	// was delivered or parked (at most batch_size−1 are ahead of it while it
	// is in a batch: SQS hands a group out in order), plus the receive on
	// which it runs its final execution.
	BatchReceives int
	// Margin is BackstopMargin.
	Margin int
	// MaxReceiveCount is SQS's maxReceiveCount, the backstop:
	// WindowReceives + BatchReceives + Margin. Over SQSMaxReceiveCount the
	// configuration is refused.
	MaxReceiveCount int
	// PerInvocation is how many executions of the slowest route one forward
	// invocation starts back to back before less time is left than one
	// needs (the rest of the batch comes back at once).
	PerInvocation int
	// FinalRun is the longest a full batch of final executions takes:
	// ceil(batch_size / PerInvocation) forward invocations, each of which
	// may last the forward timeout (it ends when its slowest group does).
	FinalRun time.Duration
	// FollowerWait is the longest a message can wait behind a head that
	// fails for its whole window: the window, the head's last redelivery
	// delay (max_redelivery_delay), then the final executions of its batch.
	FollowerWait time.Duration
}

// ComputeFinality derives the retry policy's numbers of a configuration.
func ComputeFinality(c *Config) Finality {
	q := c.Queue
	b := ComputeBudget(c)
	f := Finality{
		Window:        q.RetryWindow,
		BatchReceives: max(q.BatchSize, 1),
		Margin:        BackstopMargin,
	}
	f.WindowReceives = windowReceives(q)
	f.MaxReceiveCount = f.WindowReceives + f.BatchReceives + f.Margin
	f.PerInvocation = 1
	if b.WorstExecution > 0 {
		f.PerInvocation = max(1, int(b.ForwardTimeout/b.WorstExecution))
	}
	invocations := (f.BatchReceives + f.PerInvocation - 1) / f.PerInvocation
	f.FinalRun = mulSat(b.ForwardTimeout, invocations)
	f.FollowerWait = addSat(addSat(q.RetryWindow, q.RedeliveryWait(f.MaxReceiveCount)), f.FinalRun)
	return f
}

// windowReceives counts the receives that fit in the window when each is
// followed by the shortest jittered redelivery delay: the first at once,
// the (n+1)-th after the first n delays, as long as they start inside the
// window. It stops past SQSMaxReceiveCount.
func windowReceives(q Queue) int {
	if q.RetryWindow <= 0 {
		return 0
	}
	var elapsed time.Duration
	n := 1
	for n <= SQSMaxReceiveCount {
		elapsed = addSat(elapsed, q.minRedeliveryWait(n))
		if elapsed >= q.RetryWindow {
			return n
		}
		n++
	}
	return SQSMaxReceiveCount + 1
}

// Bounded reports whether the backstop fits SQS's limit.
func (f Finality) Bounded() bool { return f.MaxReceiveCount <= SQSMaxReceiveCount }

// Final reports whether an execution starting at now, of a message sent at
// sent, of a route whose worst case is worst, is the message's last: it
// could end past the retry window.
func (f Finality) Final(sent, now time.Time, worst time.Duration) bool {
	return !now.Add(worst).Before(sent.Add(f.Window))
}

// Explain is the derivation of the backstop in a few words, for the summary
// and the loader's messages.
func (f Finality) Explain() string {
	if f.WindowReceives > SQSMaxReceiveCount {
		return fmt.Sprintf("over %d receives inside the %s window alone", SQSMaxReceiveCount, formatDuration(f.Window))
	}
	return fmt.Sprintf("%d = %d receives inside the %s window + %d for a batch of followers + %d margin",
		f.MaxReceiveCount, f.WindowReceives, formatDuration(f.Window), f.BatchReceives, f.Margin)
}

// checkFinality refuses a retry policy SQS cannot back up, or that would let
// SQS delete a message before the forwarder parks it.
func (d *decoder) checkFinality(c *Config, qn queueNodes) {
	q := c.Queue
	f := ComputeFinality(c)
	window := cmpNode(qn.retryWindow, qn.node)
	if !f.Bounded() && q.RedeliveryDelay == 0 {
		d.report(cmpNode(qn.redeliveryDelay, window), childPath(qn.path, "redelivery_delay"),
			"redelivery_delay 0s hands a failing message back at once, so its receives inside retry_window (%s) have no bound, and SQS's redrive policy, the backstop, allows at most %d; set redelivery_delay (e.g. 30s), or retry_window: 0s for one execution per webhook",
			formatDuration(q.RetryWindow), SQSMaxReceiveCount)
		return
	}
	if !f.Bounded() {
		d.report(window, childPath(qn.path, "retry_window"),
			"retry_window %s with redelivery_delay %s (doubling up to max_redelivery_delay %s) needs an SQS backstop of %s, and SQS's maxReceiveCount is at most %d; shorten retry_window, or raise redelivery_delay or max_redelivery_delay",
			formatDuration(q.RetryWindow), formatDuration(q.RedeliveryDelay), formatDuration(q.MaxRedeliveryDelay), f.Explain(), SQSMaxReceiveCount)
		return
	}
	if f.FollowerWait > q.Retention {
		// Where the user wrote one of the two: the window, else the retention.
		at, key := window, "retry_window"
		if qn.retryWindow == nil && qn.retention != nil {
			at, key = qn.retention, "retention"
		}
		d.report(at, childPath(qn.path, key),
			"a webhook can wait up to %s before it is delivered or parked (retry_window %s + max_redelivery_delay %s + %s for the final executions of a batch), longer than retention %s: SQS would delete it unannounced; shorten retry_window or raise retention",
			trimZeroUnits(f.FollowerWait.String()), formatDuration(q.RetryWindow), formatDuration(q.RedeliveryWait(f.MaxReceiveCount)), trimZeroUnits(f.FinalRun.String()), formatDuration(q.Retention))
	}
}
