package fifo

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A receipt handle names the queue, the message and the receive it came from.
func receiptHandle(queueName string, m *message) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%s/%d/%s", queueName, m.seq, m.state.Nonce))
}

// byHandle finds the message a receipt handle refers to; current is false
// when the message has been received again since (a stale handle).
// A handle of a message that no longer exists returns (nil, false, nil).
func (q *queue) byHandle(handle string) (m *message, current bool, err error) {
	invalid := newError("ReceiptHandleIsInvalid", "The input receipt handle \"%s\" is not a valid receipt handle.", handle)
	raw, decErr := base64.RawURLEncoding.DecodeString(handle)
	if decErr != nil {
		return nil, false, invalid
	}
	parts := strings.Split(string(raw), "/")
	if len(parts) != 3 || parts[0] != q.name {
		return nil, false, invalid
	}
	seq, convErr := strconv.ParseUint(parts[1], 10, 64)
	if convErr != nil || parts[2] == "" {
		return nil, false, invalid
	}
	m = q.msgs[seq]
	if m == nil {
		return nil, false, nil
	}
	return m, m.state.Nonce == parts[2], nil
}

// updateBatch applies n per-entry changes under one lock and one commit;
// change returns the entry's op (nil: nothing to write) or its error.
func (s *Store) updateBatch(queueName string, n int, change func(q *queue, i int, now time.Time) (op, error)) ([]error, error) {
	s.mu.Lock()
	q, err := s.queue(queueName)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	now := s.now()
	errs := make([]error, n)
	var ops []op
	for i := range n {
		o, err := change(q, i, now)
		errs[i] = err
		if o != nil {
			ops = append(ops, o)
		}
	}
	if len(ops) == 0 {
		s.mu.Unlock()
		return errs, nil
	}
	q.notify()
	done := s.commits.submit(ops...)
	s.mu.Unlock()
	if err := <-done; err != nil {
		return nil, fmt.Errorf("fifo: commit: %w", err)
	}
	return errs, nil
}
