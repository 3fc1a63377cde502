package statemachine

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

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
// durable across restarts. It keeps the newest Keep executions: a commit
// beyond that deletes the oldest in the same transaction.
//
// Appends are written behind: Append queues the execution and returns, and
// one goroutine commits whatever has queued in a single transaction, so
// concurrent executions share an fsync instead of queueing for one each
// (bbolt has one writer). Get and List first wait for the queue to be
// committed, so a reader always sees every execution appended before it. A
// crash loses at most the executions of the commit in progress — history is
// a record for people, the queue is what must not lose messages. Close
// commits the rest.
type BoltHistory struct {
	db   *bolt.DB
	keep int

	// closeMu guards closed against sends on requests; the commit loop
	// never takes it, so a sender blocked on a full queue cannot stall it.
	closeMu  sync.RWMutex
	closed   bool
	requests chan historyRequest
	stopped  chan struct{}

	errMu sync.Mutex
	err   error // the last commit's error, reported by the next Append
}

// historyRequest is an execution to store, or (flushed set) a wait for
// everything queued before it.
type historyRequest struct {
	record, summary []byte
	arn             string
	flushed         chan error
}

// maxHistoryBatch bounds one commit.
const maxHistoryBatch = 256

// ErrHistoryClosed is returned after Close.
var ErrHistoryClosed = errors.New("execution history is closed")

// NewBoltHistory keeps execution histories in db under its own bucket;
// keep ≤ 0 means DefaultKeep. Close it before closing db.
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
	h := &BoltHistory{db: db, keep: keep, requests: make(chan historyRequest, maxHistoryBatch), stopped: make(chan struct{})}
	go h.commitLoop()
	return h, nil
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
	if err := h.send(historyRequest{record: record, summary: sum, arn: e.ARN}); err != nil {
		return err
	}
	return h.lastErr()
}

func (h *BoltHistory) send(r historyRequest) error {
	h.closeMu.RLock()
	defer h.closeMu.RUnlock()
	if h.closed {
		return ErrHistoryClosed
	}
	h.requests <- r
	return nil
}

func (h *BoltHistory) lastErr() error {
	h.errMu.Lock()
	defer h.errMu.Unlock()
	return h.err
}

// Flush waits until every execution appended so far is committed.
func (h *BoltHistory) Flush() error {
	done := make(chan error, 1)
	if err := h.send(historyRequest{flushed: done}); err != nil {
		return err
	}
	return <-done
}

// Close commits what is queued and stops; db stays open.
func (h *BoltHistory) Close() error {
	h.closeMu.Lock()
	if !h.closed {
		h.closed = true
		close(h.requests)
	}
	h.closeMu.Unlock()
	<-h.stopped
	return h.lastErr()
}

func (h *BoltHistory) commitLoop() {
	defer close(h.stopped)
	for first := range h.requests {
		batch := []historyRequest{first}
	drain:
		for len(batch) < maxHistoryBatch {
			select {
			case r, ok := <-h.requests:
				if !ok {
					break drain
				}
				batch = append(batch, r)
			default:
				break drain
			}
		}
		err := h.commit(batch)
		if err != nil {
			err = fmt.Errorf("execution history: %w", err)
		}
		h.errMu.Lock()
		h.err = err
		h.errMu.Unlock()
		for _, r := range batch {
			if r.flushed != nil {
				r.flushed <- err
			}
		}
	}
}

func (h *BoltHistory) commit(batch []historyRequest) error {
	return h.db.Update(func(tx *bolt.Tx) error {
		root := tx.Bucket(historyBucket)
		records, summaries, index := root.Bucket(recordsBucket), root.Bucket(summariesBucket), root.Bucket(indexBucket)
		var count uint64
		if b := root.Get(countKey); len(b) == 8 {
			count = binary.BigEndian.Uint64(b)
		}
		for _, r := range batch {
			if r.flushed != nil {
				continue
			}
			seq, err := records.NextSequence()
			if err != nil {
				return err
			}
			key := binary.BigEndian.AppendUint64(nil, seq)
			if err := records.Put(key, r.record); err != nil {
				return err
			}
			if err := summaries.Put(key, r.summary); err != nil {
				return err
			}
			if err := index.Put([]byte(r.arn), key); err != nil {
				return err
			}
			count++
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
	if err := h.Flush(); err != nil && !errors.Is(err, ErrHistoryClosed) {
		return nil, err
	}
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
	if err := h.Flush(); err != nil && !errors.Is(err, ErrHistoryClosed) {
		return nil, err
	}
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
