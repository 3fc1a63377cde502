package fifo

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
)

// Attribute is a message attribute: DataType "String", "Number" or "Binary",
// optionally with a ".custom" suffix.
type Attribute struct {
	DataType    string `json:"t"`
	StringValue string `json:"s,omitempty"`
	BinaryValue []byte `json:"b,omitempty"`
}

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

// Message is a message as Receive returns it or List shows it.
type Message struct {
	MessageID              string
	ReceiptHandle          string // set by Receive
	Body                   string
	GroupID                string
	DeduplicationID        string
	SequenceNumber         string
	Attributes             map[string]Attribute
	MD5OfBody              string
	MD5OfMessageAttributes string
	SentTimestamp          time.Time
	ReceiveCount           int
	FirstReceiveTimestamp  time.Time // zero until first received
	// DeadLetterSourceARN is the queue a dead-lettered message came from.
	DeadLetterSourceARN string
	// InFlight and VisibleAt describe the message's state at List time.
	InFlight  bool
	VisibleAt time.Time
}

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

// Stats counts a queue's messages.
type Stats struct {
	Visible  int // ready to be received (ApproximateNumberOfMessages)
	InFlight int // received and not yet visible again (…NotVisible)
	Delayed  int // not yet visible after being sent (…Delayed)
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

func putStateOp(queueName string, seq uint64, st messageState) op {
	return func(tx *bolt.Tx) error {
		qb := tx.Bucket(queueBucketName(queueName))
		if qb == nil || qb.Bucket(subMessages).Get(seqKey(seq)) == nil {
			return nil
		}
		return putJSON(qb.Bucket(subState), seqKey(seq), st)
	}
}

func deleteMessageOp(queueName string, seq uint64) op {
	return func(tx *bolt.Tx) error {
		qb := tx.Bucket(queueBucketName(queueName))
		if qb == nil {
			return nil
		}
		return deleteMessageKeys(qb, seq)
	}
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

// view is the public form of m; the caller holds s.mu.
func (s *Store) view(q *queue, m *message) Message {
	out := Message{
		MessageID:              m.rec.ID,
		Body:                   m.rec.Body,
		GroupID:                m.rec.Group,
		DeduplicationID:        m.rec.Dedup,
		Attributes:             m.rec.Attributes,
		MD5OfBody:              m.md5Body,
		MD5OfMessageAttributes: m.md5Attr,
		SentTimestamp:          time.UnixMilli(m.rec.SentMS),
		ReceiveCount:           m.state.ReceiveCount,
		DeadLetterSourceARN:    m.rec.DLQSource,
		SequenceNumber:         q.sequenceNumber(m),
	}
	if m.state.FirstReceiveMS != 0 {
		out.FirstReceiveTimestamp = time.UnixMilli(m.state.FirstReceiveMS)
	}
	return out
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

// sequenceNumber is the FIFO sequence number: 20 digits, so that string and
// numeric order agree. Standard queues have none.
func (q *queue) sequenceNumber(m *message) string {
	if !q.cfg.fifo {
		return ""
	}
	return formatSeq(m.seq)
}

func formatSeq(seq uint64) string { return fmt.Sprintf("%020d", seq) }

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

// MD5OfMessageAttributes is the digest SQS returns as MD5OfMessageAttributes:
// over the attributes sorted by name, each encoded as length-prefixed name,
// length-prefixed data type, a transport byte (1 string/number, 2 binary) and
// the length-prefixed value. Empty for no attributes.
func MD5OfMessageAttributes(attrs map[string]Attribute) string {
	if len(attrs) == 0 {
		return ""
	}
	h := md5.New()
	writeLV := func(b []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	for _, name := range sortedKeys(attrs) {
		a := attrs[name]
		writeLV([]byte(name))
		writeLV([]byte(a.DataType))
		if strings.HasPrefix(a.DataType, "Binary") {
			h.Write([]byte{2})
			writeLV(a.BinaryValue)
		} else {
			h.Write([]byte{1})
			writeLV([]byte(a.StringValue))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func md5Hex(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

// messageSize counts the body and the attributes' names, types and values,
// as SQS does against MaximumMessageSize.
func messageSize(in SendInput) int {
	n := len(in.Body)
	for name, a := range in.Attributes {
		n += len(name) + len(a.DataType) + len(a.StringValue) + len(a.BinaryValue)
	}
	return n
}

// validateBody enforces SQS's allowed characters: #x9 #xA #xD, #x20-#xD7FF,
// #xE000-#xFFFD, #x10000-#x10FFFF.
func validateBody(body string) error {
	if body == "" {
		return newError("MissingParameter", "The request must contain the parameter MessageBody.")
	}
	if !ValidText(body) {
		return newError("InvalidMessageContents", "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF")
	}
	return nil
}

// ValidText reports whether SQS accepts s as message text (a body or a
// String attribute value) unchanged: UTF-8 holding only the characters
// above.
func ValidText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		ok := r == 0x9 || r == 0xA || r == 0xD || (r >= 0x20 && r <= 0xD7FF) ||
			(r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
		if !ok {
			return false
		}
	}
	return true
}

// validFIFOID reports whether s may be a MessageGroupId or
// MessageDeduplicationId: 1 to 128 alphanumeric or punctuation characters
// (!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~), so no spaces and nothing beyond ASCII.
func validFIFOID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

func validateAttributes(attrs map[string]Attribute) error {
	if len(attrs) > 10 {
		return newError("InvalidParameterValue", "Number of message attributes [%d] exceeds the allowed maximum [10].", len(attrs))
	}
	for name, a := range attrs {
		if name == "" || len(name) > 256 || strings.HasPrefix(strings.ToLower(name), "aws.") || strings.HasPrefix(strings.ToLower(name), "amazon.") {
			return newError("InvalidParameterValue", "Message attribute name '%s' is invalid.", name)
		}
		base, _, _ := strings.Cut(a.DataType, ".")
		switch base {
		case "String":
			if a.StringValue == "" || !ValidText(a.StringValue) {
				return newError("InvalidParameterValue", "Message attribute '%s' must contain a non-empty value of type 'String'.", name)
			}
		case "Number":
			if _, err := strconv.ParseFloat(a.StringValue, 64); err != nil {
				return newError("InvalidParameterValue", "Message attribute '%s' must contain a non-empty value of type 'Number'.", name)
			}
		case "Binary":
			if len(a.BinaryValue) == 0 {
				return newError("InvalidParameterValue", "Message attribute '%s' must contain a non-empty value of type 'Binary'.", name)
			}
		default:
			return newError("InvalidParameterValue", "The type of message (user) attribute '%s' is invalid. You must use only the following supported type prefixes: Binary, Number, String.", name)
		}
	}
	return nil
}
