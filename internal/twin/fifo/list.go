package fifo

import "time"

// Stats counts a queue's messages.
type Stats struct {
	Visible  int // ready to be received (ApproximateNumberOfMessages)
	InFlight int // received and not yet visible again (…NotVisible)
	Delayed  int // not yet visible after being sent (…Delayed)
}

// List returns every message of the queue in sequence order without
// receiving any, for inspection (the twin's web page, redrive listings).
func (s *Store) List(queueName string) ([]Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queue(queueName)
	if err != nil {
		return nil, err
	}
	nowMS := s.now().UnixMilli()
	var out []Message
	for _, m := range q.ordered() {
		if !m.durable {
			continue
		}
		v := s.view(q, m)
		v.InFlight = m.state.ReceiveCount > 0 && m.state.VisibleMS > nowMS
		if m.state.VisibleMS > nowMS {
			v.VisibleAt = time.UnixMilli(m.state.VisibleMS)
		}
		out = append(out, v)
	}
	return out, nil
}

// Stats counts the queue's messages by state.
func (s *Store) Stats(queueName string) (Stats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queue(queueName)
	if err != nil {
		return Stats{}, err
	}
	return q.stats(s.now()), nil
}

func (q *queue) stats(now time.Time) Stats {
	nowMS := now.UnixMilli()
	var st Stats
	for _, m := range q.msgs {
		switch {
		case !m.durable:
		case m.state.VisibleMS <= nowMS:
			st.Visible++
		case m.state.ReceiveCount > 0:
			st.InFlight++
		default:
			st.Delayed++
		}
	}
	return st
}
