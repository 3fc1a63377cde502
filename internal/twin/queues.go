package twin

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/twin/fifo"
)

// createQueues creates the DLQ and the queue as terraform/queue.tf does, or
// updates their attributes when the config changed since the last run, and
// sets their URLs on the control plane.
func (t *Twin) createQueues(b config.Budget) error {
	s, cfg := t.store, t.cfg
	scope, limit := "queue", "perQueue"
	if cfg.Queue.HighThroughput {
		scope, limit = "messageGroup", "perMessageGroupId"
	}
	common := func(retention time.Duration, maxMessage int) map[string]string {
		return map[string]string{
			fifo.AttrFifoQueue:                 "true",
			fifo.AttrContentBasedDeduplication: "true",
			fifo.AttrDeduplicationScope:        scope,
			fifo.AttrFifoThroughputLimit:       limit,
			fifo.AttrMessageRetentionPeriod:    strconv.Itoa(int(retention.Seconds())),
			fifo.AttrMaximumMessageSize:        strconv.Itoa(maxMessage),
		}
	}
	dlq := common(cfg.Queue.DLQRetention, config.DLQMaxMessageBytes)
	main := common(cfg.Queue.Retention, config.QueueMaxMessageBytes)
	main[fifo.AttrVisibilityTimeout] = strconv.Itoa(int(min(b.VisibilityTimeout, config.SQSMaxVisibility).Seconds()))
	// SQS's redrive policy is the backstop derived from the retry policy.
	main[fifo.AttrRedrivePolicy] = fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":%d}`, s.ARN(cfg.DLQName()), config.ComputeFinality(cfg).MaxReceiveCount)
	for _, q := range []struct {
		name  string
		attrs map[string]string
	}{{cfg.DLQName(), dlq}, {cfg.QueueName(), main}} {
		err := s.CreateQueue(q.name, q.attrs)
		if errors.Is(err, fifo.ErrQueueNameExists) {
			update := map[string]string{}
			for k, v := range q.attrs {
				if k != fifo.AttrFifoQueue {
					update[k] = v
				}
			}
			err = s.SetQueueAttributes(q.name, update)
		}
		if err != nil {
			return fmt.Errorf("queue %s: %w", q.name, err)
		}
	}
	t.QueueURL = t.ControlURL + "/" + Account + "/" + cfg.QueueName()
	t.DLQURL = t.ControlURL + "/" + Account + "/" + cfg.DLQName()
	return nil
}
