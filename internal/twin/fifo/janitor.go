package fifo

import (
	"time"

	bolt "go.etcd.io/bbolt"
)

// janitor prunes what time has expired: deduplication entries past the
// five-minute window, messages past the retention period, receive attempts.
func (s *Store) janitor() {
	defer s.bg.Done()
	tick := time.NewTicker(s.opts.JanitorInterval)
	defer tick.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-tick.C:
			s.prune()
		}
	}
}

func (s *Store) prune() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	now := s.now()
	nowMS := now.UnixMilli()
	var ops []op
	for _, q := range s.queues {
		var dedupKeys []string
		for k, e := range q.dedup {
			if e.ExpiresMS <= nowMS {
				delete(q.dedup, k)
				dedupKeys = append(dedupKeys, k)
			}
		}
		for k, a := range q.attempts {
			if now.After(a.expires) {
				delete(q.attempts, k)
			}
		}
		var expired []uint64
		for _, m := range q.msgs {
			// In-flight messages expire once visible again: their consumer
			// may still delete them.
			if m.durable && m.state.VisibleMS <= nowMS && nowMS >= m.rec.EnqueuedMS+q.cfg.retention.Milliseconds() {
				q.remove(m)
				expired = append(expired, m.seq)
			}
		}
		if len(dedupKeys) == 0 && len(expired) == 0 {
			continue
		}
		name := q.name
		ops = append(ops, func(tx *bolt.Tx) error {
			qb := tx.Bucket(queueBucketName(name))
			if qb == nil {
				return nil
			}
			for _, k := range dedupKeys {
				if err := qb.Bucket(subDedup).Delete([]byte(k)); err != nil {
					return err
				}
			}
			for _, seq := range expired {
				if err := deleteMessageKeys(qb, seq); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if len(ops) > 0 {
		// Not waited for: losing a prune in a crash only means doing it again.
		s.commits.submit(ops...)
	}
}
