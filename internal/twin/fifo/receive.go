package fifo

import (
	"context"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ReceiveInput tunes one Receive.
type ReceiveInput struct {
	// MaxMessages is 1..10; zero means 1.
	MaxMessages int
	// VisibilityTimeout overrides the queue's when non-nil.
	VisibilityTimeout *time.Duration
	// WaitTime is the long-poll time (at most 20 s); nil uses the queue's
	// ReceiveMessageWaitTimeSeconds.
	WaitTime *time.Duration
	// AttemptID (FIFO) makes a retried receive return the same messages and
	// receipt handles while they are still in flight.
	AttemptID string
}

// Receive returns up to MaxMessages messages and makes them invisible for the
// visibility timeout. On a FIFO queue it returns the oldest messages of the
// groups that have nothing in flight, several of one group in order, and
// never a message of a group that has one in flight. A message already
// received maxReceiveCount times moves to the dead-letter queue instead of
// being returned. Receive waits up to WaitTime for messages to arrive.
func (s *Store) Receive(ctx context.Context, queueName string, in ReceiveInput) ([]Message, error) {
	limit := in.MaxMessages
	if limit == 0 {
		limit = 1
	}
	if limit < 1 || limit > 10 {
		return nil, newError("InvalidParameterValue", "Value %d for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.", in.MaxMessages)
	}
	if in.VisibilityTimeout != nil && (*in.VisibilityTimeout < 0 || *in.VisibilityTimeout > 12*time.Hour) {
		return nil, newError("InvalidParameterValue", "Value %d for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200.", int(in.VisibilityTimeout.Seconds()))
	}
	if in.WaitTime != nil && (*in.WaitTime < 0 || *in.WaitTime > 20*time.Second) {
		return nil, newError("InvalidParameterValue", "Value %d for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.", int(in.WaitTime.Seconds()))
	}
	s.mu.Lock()
	q, err := s.queue(queueName)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	wait := q.cfg.receiveWait
	if in.WaitTime != nil {
		wait = *in.WaitTime
	}
	deadline := time.Now().Add(wait)
	for {
		if out, ok := s.retriedAttempt(q, in.AttemptID); ok {
			s.mu.Unlock()
			return out, nil
		}
		vis := q.cfg.visibility
		if in.VisibilityTimeout != nil {
			vis = *in.VisibilityTimeout
		}
		picked, ops := s.pick(q, s.now(), limit, vis)
		if len(picked) > 0 || len(ops) > 0 {
			out := make([]Message, len(picked))
			for i, m := range picked {
				out[i] = s.view(q, m)
				out[i].ReceiptHandle = receiptHandle(q.name, m)
			}
			if in.AttemptID != "" && q.cfg.fifo {
				handles := make([]string, len(out))
				for i := range out {
					handles[i] = out[i].ReceiptHandle
				}
				q.attempts[in.AttemptID] = receiveAttempt{handles: handles, expires: s.now().Add(DedupWindow)}
			}
			done := s.commits.submit(ops...)
			s.mu.Unlock()
			if err := <-done; err != nil {
				return nil, fmt.Errorf("fifo: commit: %w", err)
			}
			if len(out) > 0 {
				return out, nil
			}
			s.mu.Lock()
			if q, err = s.queue(queueName); err != nil {
				s.mu.Unlock()
				return nil, err
			}
			continue
		}
		remaining := time.Until(deadline)
		if remaining <= 0 {
			s.mu.Unlock()
			return nil, nil
		}
		changed := q.changed
		s.mu.Unlock()
		// Visibility timeouts expire without any event; re-check at least
		// every 50 ms.
		timer := time.NewTimer(min(remaining, 50*time.Millisecond))
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, ctx.Err()
		case <-changed:
		case <-timer.C:
		}
		timer.Stop()
		s.mu.Lock()
		if q, err = s.queue(queueName); err != nil {
			s.mu.Unlock()
			return nil, err
		}
	}
}

// retriedAttempt answers a receive retried with the same attempt id, while
// every message it returned is still in flight under the same handle.
func (s *Store) retriedAttempt(q *queue, attemptID string) ([]Message, bool) {
	if attemptID == "" || !q.cfg.fifo {
		return nil, false
	}
	a, ok := q.attempts[attemptID]
	if !ok || s.now().After(a.expires) {
		delete(q.attempts, attemptID)
		return nil, false
	}
	now := s.now().UnixMilli()
	out := make([]Message, 0, len(a.handles))
	for _, h := range a.handles {
		m, current, err := q.byHandle(h)
		if err != nil || !current || m.state.VisibleMS <= now {
			delete(q.attempts, attemptID)
			return nil, false
		}
		msg := s.view(q, m)
		msg.ReceiptHandle = h
		out = append(out, msg)
	}
	return out, true
}

// pick selects and marks received up to limit messages; it also moves
// exhausted messages to the dead-letter queue and drops expired ones. The
// caller holds s.mu and commits the returned ops.
func (s *Store) pick(q *queue, now time.Time, limit int, vis time.Duration) ([]*message, []op) {
	nowMS := now.UnixMilli()
	var ready []*group
	for _, g := range q.groups {
		if !g.locked(nowMS) {
			ready = append(ready, g)
		}
	}
	sort.Slice(ready, func(i, j int) bool { return ready[i].msgs[0].seq < ready[j].msgs[0].seq })
	var out []*message
	var ops []op
	for _, g := range ready {
		for i := 0; i < len(g.msgs) && len(out) < limit; {
			m := g.msgs[i]
			if !m.durable || m.state.VisibleMS > nowMS {
				break
			}
			if nowMS >= m.rec.EnqueuedMS+q.cfg.retention.Milliseconds() {
				q.remove(m)
				ops = append(ops, deleteMessageOp(q.name, m.seq))
				continue
			}
			if dlq := s.deadLetterTarget(q, m); dlq != nil {
				ops = append(ops, s.moveToDeadLetter(q, dlq, m, now))
				continue
			}
			m.state.ReceiveCount++
			if m.state.FirstReceiveMS == 0 {
				m.state.FirstReceiveMS = nowMS
			}
			m.state.VisibleMS = now.Add(vis).UnixMilli()
			m.state.Nonce = randomHex(8)
			ops = append(ops, putStateOp(q.name, m.seq, m.state))
			out = append(out, m)
			i++
		}
		if len(out) >= limit {
			break
		}
	}
	return out, ops
}

// locked reports whether the group has a message in flight. Messages are
// received in order, so the received ones are a prefix of the group.
func (g *group) locked(nowMS int64) bool {
	for _, m := range g.msgs {
		if m.state.ReceiveCount == 0 {
			return false
		}
		if m.state.VisibleMS > nowMS {
			return true
		}
	}
	return false
}

// deadLetterTarget is the queue m must move to instead of being received.
func (s *Store) deadLetterTarget(q *queue, m *message) *queue {
	rp := q.cfg.redrive
	if rp == nil || m.state.ReceiveCount < rp.MaxReceiveCount {
		return nil
	}
	return s.queueByARNLocked(rp.DeadLetterTargetArn)
}

// moveToDeadLetter moves m from q to dlq in memory and returns the op that
// does it on disk, atomically. The message keeps its id, group, attributes
// and receive count; on FIFO its deduplication id becomes its message id and
// its retention restarts (AWS: "the enqueue timestamp resets").
func (s *Store) moveToDeadLetter(q, dlq *queue, m *message, now time.Time) op {
	q.remove(m)
	moved := &message{
		seq:     dlq.nextSeq,
		rec:     m.rec,
		state:   messageState{ReceiveCount: m.state.ReceiveCount, FirstReceiveMS: m.state.FirstReceiveMS},
		durable: true, // the op below commits before any receive of dlq can return it
		md5Body: m.md5Body,
		md5Attr: m.md5Attr,
	}
	moved.rec.DLQSource = s.ARN(q.name)
	if dlq.cfg.fifo {
		moved.rec.Dedup = m.rec.ID
		moved.rec.EnqueuedMS = now.UnixMilli()
	}
	dlq.nextSeq++
	dlq.insert(moved)
	dlq.notify()
	srcName, srcSeq := q.name, m.seq
	put := putMessageOp(dlq.name, moved, dlq.nextSeq, "")
	return func(tx *bolt.Tx) error {
		if qb := tx.Bucket(queueBucketName(srcName)); qb != nil {
			if err := deleteMessageKeys(qb, srcSeq); err != nil {
				return err
			}
		}
		return put(tx)
	}
}
