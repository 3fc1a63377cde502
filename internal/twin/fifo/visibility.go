package fifo

import "time"

// VisibilityChange is one entry of ChangeVisibilityBatch.
type VisibilityChange struct {
	ReceiptHandle string
	Timeout       time.Duration
}

// ChangeVisibility sets an in-flight message's remaining invisibility to
// timeout from now; zero makes it visible at once.
func (s *Store) ChangeVisibility(queueName, handle string, timeout time.Duration) error {
	errs, err := s.ChangeVisibilityBatch(queueName, []VisibilityChange{{ReceiptHandle: handle, Timeout: timeout}})
	if err != nil {
		return err
	}
	return errs[0]
}

// ChangeVisibilityBatch changes several messages' visibility in one commit;
// errs[i] is entry i's.
func (s *Store) ChangeVisibilityBatch(queueName string, changes []VisibilityChange) (errs []error, err error) {
	return s.updateBatch(queueName, len(changes), func(q *queue, i int, now time.Time) (op, error) {
		c := changes[i]
		if c.Timeout < 0 || c.Timeout > 12*time.Hour {
			return nil, newError("InvalidParameterValue", "Value %d for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200.", int(c.Timeout.Seconds()))
		}
		m, current, err := q.byHandle(c.ReceiptHandle)
		if err != nil {
			return nil, err
		}
		if m == nil || !current {
			return nil, newError("InvalidParameterValue", "Value %s for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.", c.ReceiptHandle)
		}
		if m.state.VisibleMS <= now.UnixMilli() {
			return nil, newError("MessageNotInflight", "The message referred to isn't in flight.")
		}
		m.state.VisibleMS = now.Add(c.Timeout).UnixMilli()
		return putStateOp(q.name, m.seq, m.state), nil
	})
}
