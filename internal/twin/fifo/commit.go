package fifo

import (
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"
)

// op is one mutation of the file. Ops must tolerate a queue bucket that a
// DeleteQueue committed before them removed.
type op func(tx *bolt.Tx) error

type commitRequest struct {
	ops  []op
	done chan error // buffered: the committer never blocks on a caller
}

// committer is a group commit: requests queue up while the previous
// transaction is being fsync'd, then all of them go into the next
// transaction, in the order they were submitted. A lone writer pays one
// fsync; many concurrent writers share one.
type committer struct {
	db      *bolt.DB
	mu      sync.Mutex
	cond    *sync.Cond
	pending []commitRequest
	closed  bool
	done    chan struct{}
	// commits and requests count transactions and the requests they carried,
	// for the benchmarks' requests-per-commit figure.
	commits, requests atomic.Int64
}

func newCommitter(db *bolt.DB) *committer {
	c := &committer{db: db, done: make(chan struct{})}
	c.cond = sync.NewCond(&c.mu)
	go c.run()
	return c
}

// submit queues ops and returns the channel that receives the commit's
// outcome. Callers hold Store.mu while submitting, so the file applies
// mutations in the order memory saw them.
func (c *committer) submit(ops ...op) <-chan error {
	done := make(chan error, 1)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		done <- ErrClosed
		return done
	}
	c.pending = append(c.pending, commitRequest{ops: ops, done: done})
	c.mu.Unlock()
	c.cond.Signal()
	return done
}

func (c *committer) run() {
	defer close(c.done)
	for {
		c.mu.Lock()
		for len(c.pending) == 0 && !c.closed {
			c.cond.Wait()
		}
		batch := c.pending
		c.pending = nil
		closed := c.closed
		c.mu.Unlock()
		if len(batch) > 0 {
			c.commits.Add(1)
			c.requests.Add(int64(len(batch)))
			err := c.db.Update(func(tx *bolt.Tx) error {
				for _, r := range batch {
					for _, o := range r.ops {
						if err := o(tx); err != nil {
							return err
						}
					}
				}
				return nil
			})
			for _, r := range batch {
				r.done <- err
			}
		}
		if closed {
			return
		}
	}
}

// close commits what is pending and stops the committer.
func (c *committer) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.cond.Signal()
	<-c.done
}
