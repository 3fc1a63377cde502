package fifo

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Attribute is a message attribute: DataType "String", "Number" or "Binary",
// optionally with a ".custom" suffix.
type Attribute struct {
	DataType    string `json:"t"`
	StringValue string `json:"s,omitempty"`
	BinaryValue []byte `json:"b,omitempty"`
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

// sequenceNumber is the FIFO sequence number: 20 digits, so that string and
// numeric order agree. Standard queues have none.
func (q *queue) sequenceNumber(m *message) string {
	if !q.cfg.fifo {
		return ""
	}
	return formatSeq(m.seq)
}

func formatSeq(seq uint64) string { return fmt.Sprintf("%020d", seq) }
