package statemachine

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// DefaultKeep is how many executions BoltHistory keeps by default: at a few
// kilobytes each, tens of megabytes at most.
const DefaultKeep = 10000

// Bucket names inside the shared bbolt file. Records are keyed by an
// increasing sequence number (big-endian, so cursor order is age order);
// summaries (no events) are kept apart so listing never decodes histories.
var (
	historyBucket   = []byte("statemachine-history")
	recordsBucket   = []byte("records")
	summariesBucket = []byte("summaries")
	indexBucket     = []byte("index") // execution ARN → sequence key
	countKey        = []byte("count") // executions kept, big-endian uint64
)

// BoltHistory is a HistoryStore in a bbolt database (the twin's store file),
// durable across restarts. It keeps the newest Keep executions: appending
// beyond that deletes the oldest in the same transaction.
type BoltHistory struct {
	db   *bolt.DB
	keep int
}

// NewBoltHistory keeps execution histories in db under its own bucket;
// keep ≤ 0 means DefaultKeep.
func NewBoltHistory(db *bolt.DB, keep int) (*BoltHistory, error) {
	if keep <= 0 {
		keep = DefaultKeep
	}
	err := db.Update(func(tx *bolt.Tx) error {
		root, err := tx.CreateBucketIfNotExists(historyBucket)
		if err != nil {
			return err
		}
		for _, name := range [][]byte{recordsBucket, summariesBucket, indexBucket} {
			if _, err := root.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("execution history: %w", err)
	}
	return &BoltHistory{db: db, keep: keep}, nil
}

func (h *BoltHistory) Append(_ context.Context, e *Execution) error {
	record, err := json.Marshal(e)
	if err != nil {
		return err
	}
	summary := *e
	summary.Events = nil
	sum, err := json.Marshal(&summary)
	if err != nil {
		return err
	}
	return h.db.Update(func(tx *bolt.Tx) error {
		root := tx.Bucket(historyBucket)
		records, summaries, index := root.Bucket(recordsBucket), root.Bucket(summariesBucket), root.Bucket(indexBucket)
		seq, err := records.NextSequence()
		if err != nil {
			return err
		}
		key := binary.BigEndian.AppendUint64(nil, seq)
		if err := records.Put(key, record); err != nil {
			return err
		}
		if err := summaries.Put(key, sum); err != nil {
			return err
		}
		if err := index.Put([]byte(e.ARN), key); err != nil {
			return err
		}
		count := uint64(1)
		if b := root.Get(countKey); len(b) == 8 {
			count += binary.BigEndian.Uint64(b)
		}
		if count > uint64(h.keep) {
			if err := trim(records, summaries, index, int(count-uint64(h.keep))); err != nil {
				return err
			}
			count = uint64(h.keep)
		}
		return root.Put(countKey, binary.BigEndian.AppendUint64(nil, count))
	})
}

// trim deletes the excess oldest executions.
func trim(records, summaries, index *bolt.Bucket, excess int) error {
	c := summaries.Cursor()
	for k, v := c.First(); k != nil && excess > 0; k, v = c.First() {
		var s struct {
			ARN string `json:"executionArn"`
		}
		if err := json.Unmarshal(v, &s); err != nil {
			return err
		}
		key := append([]byte(nil), k...)
		if err := index.Delete([]byte(s.ARN)); err != nil {
			return err
		}
		if err := summaries.Delete(key); err != nil {
			return err
		}
		if err := records.Delete(key); err != nil {
			return err
		}
		excess--
	}
	return nil
}

func (h *BoltHistory) Get(_ context.Context, arn string) (*Execution, error) {
	var e *Execution
	err := h.db.View(func(tx *bolt.Tx) error {
		root := tx.Bucket(historyBucket)
		key := root.Bucket(indexBucket).Get([]byte(arn))
		if key == nil {
			return ErrNotFound
		}
		e = new(Execution)
		return json.Unmarshal(root.Bucket(recordsBucket).Get(key), e)
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

func (h *BoltHistory) List(_ context.Context, f Filter) ([]*Execution, error) {
	var out []*Execution
	err := h.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(historyBucket).Bucket(summariesBucket).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			e := new(Execution)
			if err := json.Unmarshal(v, e); err != nil {
				return err
			}
			if !f.match(e) {
				continue
			}
			out = append(out, e)
			if f.Limit > 0 && len(out) == f.Limit {
				return nil
			}
		}
		return nil
	})
	return out, err
}
