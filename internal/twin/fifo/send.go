package fifo

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// SendInput is one message to send.
type SendInput struct {
	Body string
	// GroupID is required on FIFO queues.
	GroupID string
	// DeduplicationID is required on FIFO queues without content-based
	// deduplication; with it, it overrides the SHA-256 of the body.
	DeduplicationID string
	Attributes      map[string]Attribute
	// Delay keeps a standard queue's message invisible after sending (0-15
	// min); FIFO queues take only the queue's DelaySeconds.
	Delay time.Duration
}

// SendResult is the outcome of one sent message. A duplicate within the
// deduplication window returns the original message's id and sequence number.
type SendResult struct {
	MessageID              string
	SequenceNumber         string
	MD5OfBody              string
	MD5OfMessageAttributes string
	Duplicate              bool
	// Err is this entry's error in SendBatch.
	Err error
}

// Send durably enqueues one message: it returns after the message is on disk.
func (s *Store) Send(queue string, in SendInput) (SendResult, error) {
	res, err := s.SendBatch(queue, []SendInput{in})
	if err != nil {
		return SendResult{}, err
	}
	return res[0], res[0].Err
}

// SendBatch durably enqueues messages in order, in one commit. Entries fail
// on their own (SendResult.Err); the error is for the whole call.
func (s *Store) SendBatch(queueName string, ins []SendInput) ([]SendResult, error) {
	results := make([]SendResult, len(ins))
	s.mu.Lock()
	q, err := s.queue(queueName)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	now := s.now()
	var added []*message
	var ops []op
	for i, in := range ins {
		m, dup, err := s.prepareSend(q, in, now)
		if err != nil {
			results[i].Err = err
			continue
		}
		if dup != nil {
			results[i] = SendResult{MessageID: dup.MessageID, SequenceNumber: formatSeq(dup.Seq),
				MD5OfBody: md5Hex([]byte(in.Body)), MD5OfMessageAttributes: MD5OfMessageAttributes(in.Attributes), Duplicate: true}
			continue
		}
		results[i] = SendResult{MessageID: m.rec.ID, SequenceNumber: q.sequenceNumber(m), MD5OfBody: m.md5Body, MD5OfMessageAttributes: m.md5Attr}
		added = append(added, m)
		ops = append(ops, putMessageOp(q.name, m, q.nextSeq, q.dedupKey(m.rec.Group, m.rec.Dedup)))
	}
	// Even an all-duplicate batch waits for the commit queue: a duplicate's
	// original may still be on its way to disk, and the acknowledgement must not
	// overtake it.
	done := s.commits.submit(ops...)
	s.mu.Unlock()
	err = <-done
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		for _, m := range added {
			if s.queues[queueName] == q {
				q.remove(m)
				if key := q.dedupKey(m.rec.Group, m.rec.Dedup); q.dedup[key].Seq == m.seq {
					delete(q.dedup, key)
				}
			}
		}
		return nil, fmt.Errorf("fifo: commit: %w", err)
	}
	for _, m := range added {
		m.durable = true
	}
	if len(added) > 0 {
		q.notify()
	}
	return results, nil
}

// prepareSend validates in and, unless it is a duplicate, adds the message to
// memory (not yet durable); the caller holds s.mu.
func (s *Store) prepareSend(q *queue, in SendInput, now time.Time) (*message, *dedupEntry, error) {
	if err := validateBody(in.Body); err != nil {
		return nil, nil, err
	}
	if err := validateAttributes(in.Attributes); err != nil {
		return nil, nil, err
	}
	if size := messageSize(in); size > q.cfg.maxMessageSize {
		return nil, nil, newError("InvalidParameterValue", "One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", q.cfg.maxMessageSize)
	}
	if in.Delay < 0 || in.Delay > 15*time.Minute || (q.cfg.fifo && in.Delay != 0) {
		return nil, nil, newError("InvalidParameterValue", "Value %d for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.", int(in.Delay.Seconds()))
	}
	dedupID := in.DeduplicationID
	if q.cfg.fifo {
		if in.GroupID == "" {
			return nil, nil, newError("MissingParameter", "The request must contain the parameter MessageGroupId.")
		}
		if !validFIFOID(in.GroupID) {
			return nil, nil, newError("InvalidParameterValue", "Value for parameter MessageGroupId is invalid. Reason: MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length.")
		}
		if in.DeduplicationID != "" && !validFIFOID(in.DeduplicationID) {
			return nil, nil, newError("InvalidParameterValue", "Value for parameter MessageDeduplicationId is invalid. Reason: MessageDeduplicationId can only include alphanumeric and punctuation characters. 1 to 128 in length.")
		}
		if dedupID == "" {
			if !q.cfg.contentDedup {
				return nil, nil, newError("InvalidParameterValue", "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
			}
			sum := sha256.Sum256([]byte(in.Body))
			dedupID = hex.EncodeToString(sum[:])
		}
		if e, ok := q.dedup[q.dedupKey(in.GroupID, dedupID)]; ok && now.UnixMilli() < e.ExpiresMS {
			return nil, &e, nil
		}
	} else if dedupID != "" {
		return nil, nil, newError("InvalidParameterValue", "The request include parameter that is not valid for this queue type")
	}
	m := &message{
		seq: q.nextSeq,
		rec: messageRecord{
			ID: newMessageID(), Body: in.Body, Group: in.GroupID, Dedup: dedupID,
			Attributes: in.Attributes, SentMS: now.UnixMilli(), EnqueuedMS: now.UnixMilli(),
		},
		md5Body: md5Hex([]byte(in.Body)),
		md5Attr: MD5OfMessageAttributes(in.Attributes),
	}
	delay := q.cfg.delay
	if in.Delay > 0 {
		delay = in.Delay // a message's own delay overrides the queue's
	}
	if delay > 0 {
		m.state.VisibleMS = now.Add(delay).UnixMilli()
	}
	if !q.cfg.fifo {
		m.rec.Group = ""
	}
	q.nextSeq++
	if q.cfg.fifo {
		q.dedup[q.dedupKey(in.GroupID, dedupID)] = dedupEntry{MessageID: m.rec.ID, Seq: m.seq, ExpiresMS: now.Add(DedupWindow).UnixMilli()}
	}
	q.insert(m)
	return m, nil, nil
}

// putMessageOp writes a new message, its state, its deduplication entry under
// dedupKey (none when empty), and the queue's next sequence number.
func putMessageOp(queueName string, m *message, nextSeq uint64, dedupKey string) op {
	rec, state, seq := m.rec, m.state, m.seq
	return func(tx *bolt.Tx) error {
		qb := tx.Bucket(queueBucketName(queueName))
		if qb == nil {
			return nil
		}
		k := seqKey(seq)
		if err := putJSON(qb.Bucket(subMessages), k, rec); err != nil {
			return err
		}
		if err := putJSON(qb.Bucket(subState), k, state); err != nil {
			return err
		}
		if dedupKey != "" {
			entry := dedupEntry{MessageID: rec.ID, Seq: seq, ExpiresMS: rec.SentMS + DedupWindow.Milliseconds()}
			if err := putJSON(qb.Bucket(subDedup), []byte(dedupKey), entry); err != nil {
				return err
			}
		}
		return putSeq(tx, queueName, nextSeq)
	}
}

// dedupKey is where a deduplication id is remembered: per queue, or per
// message group with DeduplicationScope messageGroup. Empty on standard queues.
func (q *queue) dedupKey(group, dedupID string) string {
	switch {
	case !q.cfg.fifo || dedupID == "":
		return ""
	case q.cfg.dedupPerGroup:
		return group + "\x00" + dedupID
	default:
		return dedupID
	}
}
