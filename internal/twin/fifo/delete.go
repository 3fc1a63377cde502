package fifo

import "time"

// Delete deletes the message a receipt handle refers to. As on SQS, a stale
// handle (the message was received again since) or one of a message already
// gone succeeds without deleting anything.
func (s *Store) Delete(queueName, handle string) error {
	errs, err := s.DeleteBatch(queueName, []string{handle})
	if err != nil {
		return err
	}
	return errs[0]
}

// DeleteBatch deletes several messages in one commit; errs[i] is handle i's.
func (s *Store) DeleteBatch(queueName string, handles []string) (errs []error, err error) {
	return s.updateBatch(queueName, len(handles), func(q *queue, i int, now time.Time) (op, error) {
		m, current, err := q.byHandle(handles[i])
		if err != nil || m == nil || !current {
			return nil, err
		}
		q.remove(m)
		return deleteMessageOp(q.name, m.seq), nil
	})
}
