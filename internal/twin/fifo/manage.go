package fifo

import (
	"encoding/binary"
	"errors"
	"maps"
	"sort"
	"strconv"
	"strings"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// CreateQueue creates the queue, or does nothing when it exists with the same
// attributes; with different ones it fails with QueueNameExists, as SQS does.
// A name ending in ".fifo" needs FifoQueue "true".
func (s *Store) CreateQueue(name string, attrs map[string]string) error {
	if err := validateQueueName(name); err != nil {
		return err
	}
	for k := range attrs {
		if !settableAttributes[k] {
			return newError("InvalidAttributeName", "Unknown Attribute %s.", k)
		}
	}
	set := maps.Clone(attrs)
	if set == nil {
		set = map[string]string{}
	}
	cfg, err := parseConfig(name, effectiveAttributes(name, set))
	if err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	if q := s.queues[name]; q != nil {
		same := true
		current := effectiveAttributes(name, q.set)
		for k, v := range set {
			if current[k] != v {
				same = false
			}
		}
		s.mu.Unlock()
		if !same {
			return newError("QueueNameExists", "A queue already exists with the same name and a different value for attribute(s) %s", strings.Join(sortedKeys(set), ", "))
		}
		return nil
	}
	if err := s.checkRedriveTarget(name, cfg); err != nil {
		s.mu.Unlock()
		return err
	}
	now := s.now()
	q := newQueue(name, set, cfg, now, now)
	s.queues[name] = q
	meta := queueMeta{Attributes: set, CreatedMS: now.UnixMilli(), ModifiedMS: now.UnixMilli()}
	done := s.commits.submit(func(tx *bolt.Tx) error {
		qb, err := tx.CreateBucketIfNotExists(queueBucketName(name))
		if err != nil {
			return err
		}
		for _, sub := range [][]byte{subMessages, subState, subDedup} {
			if _, err := qb.CreateBucketIfNotExists(sub); err != nil {
				return err
			}
		}
		return putJSON(tx.Bucket(bucketQueues), []byte(name), meta)
	})
	s.mu.Unlock()
	return <-done
}

// checkRedriveTarget verifies a redrive policy names an existing queue of
// the same type; the caller holds s.mu.
func (s *Store) checkRedriveTarget(name string, cfg queueConfig) error {
	if cfg.redrive == nil {
		return nil
	}
	dlq := s.queueByARNLocked(cfg.redrive.DeadLetterTargetArn)
	if dlq == nil {
		return newError("InvalidParameterValue", "Value %s for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist.", cfg.redrive.DeadLetterTargetArn)
	}
	if dlq.cfg.fifo != cfg.fifo {
		return newError("InvalidParameterValue", "Value for parameter RedrivePolicy is invalid. Reason: Dead-letter queue must be same type of queue as the source.")
	}
	if dlq.name == name {
		return newError("InvalidParameterValue", "Value for parameter RedrivePolicy is invalid. Reason: A queue cannot be its own dead-letter queue.")
	}
	return nil
}

func (s *Store) queueByARNLocked(arn string) *queue {
	prefix := "arn:aws:sqs:" + s.opts.Region + ":" + s.opts.AccountID + ":"
	name, ok := strings.CutPrefix(arn, prefix)
	if !ok {
		return nil
	}
	return s.queues[name]
}

// DeleteQueue removes the queue and its messages.
func (s *Store) DeleteQueue(name string) error {
	s.mu.Lock()
	q, err := s.queue(name)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	delete(s.queues, name)
	q.notify()
	done := s.commits.submit(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(queueBucketName(name)); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
			return err
		}
		if err := tx.Bucket(bucketSeq).Delete([]byte(name)); err != nil {
			return err
		}
		return tx.Bucket(bucketQueues).Delete([]byte(name))
	})
	s.mu.Unlock()
	return <-done
}

// QueueNames lists the queues whose names start with prefix, sorted.
func (s *Store) QueueNames(prefix string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for name := range s.queues {
		if strings.HasPrefix(name, prefix) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// DeadLetterSourceQueues lists the queues whose redrive policy targets name.
func (s *Store) DeadLetterSourceQueues(name string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.queue(name); err != nil {
		return nil, err
	}
	arn := s.ARN(name)
	var out []string
	for n, q := range s.queues {
		if q.cfg.redrive != nil && q.cfg.redrive.DeadLetterTargetArn == arn {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}

// QueueAttributes returns all of the queue's attributes, as GetQueueAttributes
// with "All" does: the set ones, the defaults, and the computed counts.
func (s *Store) QueueAttributes(name string) (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queue(name)
	if err != nil {
		return nil, err
	}
	out := effectiveAttributes(name, q.set)
	st := q.stats(s.now())
	out[AttrQueueArn] = s.ARN(name)
	out[AttrApproximateNumberOfMessages] = strconv.Itoa(st.Visible)
	out[AttrApproximateNumberOfMessagesNotVisible] = strconv.Itoa(st.InFlight)
	out[AttrApproximateNumberOfMessagesDelayed] = strconv.Itoa(st.Delayed)
	out[AttrCreatedTimestamp] = strconv.FormatInt(q.created.Unix(), 10)
	out[AttrLastModifiedTimestamp] = strconv.FormatInt(q.modified.Unix(), 10)
	return out, nil
}

// SetQueueAttributes changes the given attributes; an empty RedrivePolicy or
// RedriveAllowPolicy removes it. FifoQueue cannot change.
func (s *Store) SetQueueAttributes(name string, attrs map[string]string) error {
	s.mu.Lock()
	done, err := s.setQueueAttributesLocked(name, attrs)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return <-done
}

func (s *Store) setQueueAttributesLocked(name string, attrs map[string]string) (<-chan error, error) {
	q, err := s.queue(name)
	if err != nil {
		return nil, err
	}
	set := maps.Clone(q.set)
	for k, v := range attrs {
		if !settableAttributes[k] {
			return nil, newError("InvalidAttributeName", "Unknown Attribute %s.", k)
		}
		if k == AttrFifoQueue && v != set[AttrFifoQueue] {
			return nil, newError("InvalidAttributeName", "Unknown Attribute FifoQueue.")
		}
		if v == "" && (k == AttrRedrivePolicy || k == AttrRedriveAllowPolicy || k == AttrPolicy) {
			delete(set, k)
			continue
		}
		set[k] = v
	}
	cfg, err := parseConfig(name, effectiveAttributes(name, set))
	if err != nil {
		return nil, err
	}
	if err := s.checkRedriveTarget(name, cfg); err != nil {
		return nil, err
	}
	q.set, q.cfg, q.modified = set, cfg, s.now()
	q.notify()
	meta := queueMeta{Attributes: set, CreatedMS: q.created.UnixMilli(), ModifiedMS: q.modified.UnixMilli()}
	return s.commits.submit(func(tx *bolt.Tx) error {
		if tx.Bucket(queueBucketName(name)) == nil {
			return nil
		}
		return putJSON(tx.Bucket(bucketQueues), []byte(name), meta)
	}), nil
}

// Purge deletes every message in the queue (the deduplication window stays,
// as on SQS).
func (s *Store) Purge(name string) error {
	s.mu.Lock()
	q, err := s.queue(name)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	seqs := make([]uint64, 0, len(q.msgs))
	for seq := range q.msgs {
		seqs = append(seqs, seq)
	}
	q.msgs = map[uint64]*message{}
	q.groups = map[string]*group{}
	q.notify()
	done := s.commits.submit(func(tx *bolt.Tx) error {
		qb := tx.Bucket(queueBucketName(name))
		if qb == nil {
			return nil
		}
		for _, seq := range seqs {
			if err := deleteMessageKeys(qb, seq); err != nil {
				return err
			}
		}
		return nil
	})
	s.mu.Unlock()
	return <-done
}

func deleteMessageKeys(qb *bolt.Bucket, seq uint64) error {
	k := seqKey(seq)
	if err := qb.Bucket(subMessages).Delete(k); err != nil {
		return err
	}
	return qb.Bucket(subState).Delete(k)
}

func putSeq(tx *bolt.Tx, name string, next uint64) error {
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], next)
	return tx.Bucket(bucketSeq).Put([]byte(name), v[:])
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
