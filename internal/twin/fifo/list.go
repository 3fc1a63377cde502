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
		if m.durable {
			st.count(m, nowMS)
		}
	}
	return st
}

// count adds a durable message to the count of its state.
func (st *Stats) count(m *message, nowMS int64) {
	switch {
	case m.state.VisibleMS <= nowMS:
		st.Visible++
	case m.state.ReceiveCount > 0:
		st.InFlight++
	default:
		st.Delayed++
	}
}

// GroupedStats counts the messages that share a value of one message
// attribute, and when the oldest of them was sent.
type GroupedStats struct {
	Stats
	Oldest time.Time
}

// StatsBy counts the queue's messages by the string value of the message
// attribute attr (the empty string for messages without it): what the
// twin's overview shows per route.
func (s *Store) StatsBy(queueName, attr string) (map[string]GroupedStats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queue(queueName)
	if err != nil {
		return nil, err
	}
	nowMS := s.now().UnixMilli()
	out := map[string]GroupedStats{}
	for _, m := range q.msgs {
		if !m.durable {
			continue
		}
		key := m.rec.Attributes[attr].StringValue
		g := out[key]
		g.count(m, nowMS)
		if sent := time.UnixMilli(m.rec.SentMS); g.Oldest.IsZero() || sent.Before(g.Oldest) {
			g.Oldest = sent
		}
		out[key] = g
	}
	return out, nil
}
