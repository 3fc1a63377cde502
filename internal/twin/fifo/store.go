package fifo

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Options configure a Store.
type Options struct {
	// Region and AccountID name the queues' ARNs; defaults "us-east-1" and
	// "000000000000".
	Region    string
	AccountID string
	// Clock replaces time.Now, for tests of retention and deduplication windows.
	Clock func() time.Time
	// JanitorInterval is how often expired messages and deduplication entries
	// are pruned; default one second.
	JanitorInterval time.Duration
}

// DedupWindow is how long SQS remembers a FIFO deduplication id.
const DedupWindow = 5 * time.Minute

var (
	bucketQueues = []byte("queues")
	bucketSeq    = []byte("seq")
	bucketTasks  = []byte("tasks")
	subMessages  = []byte("m")
	subState     = []byte("s")
	subDedup     = []byte("d")
)

// Store is a set of durable queues in one bbolt file. All methods are safe
// for concurrent use.
type Store struct {
	opts Options
	db   *bolt.DB
	now  func() time.Time

	// mu guards every in-memory structure below and the order in which
	// mutations are handed to the committer, so the file sees them in the
	// same order memory did.
	mu     sync.Mutex
	queues map[string]*queue
	tasks  map[string]*moveTask
	closed bool

	commits   *committer
	stop      chan struct{}
	bg        sync.WaitGroup
	closeOnce sync.Once
}

type queue struct {
	name              string
	set               map[string]string // attributes set by the user
	cfg               queueConfig
	created, modified time.Time
	nextSeq           uint64
	msgs              map[uint64]*message
	groups            map[string]*group
	dedup             map[string]dedupEntry
	attempts          map[string]receiveAttempt
	// changed is closed (and replaced) whenever a receive could now find
	// something it could not before; long polls wait on it.
	changed chan struct{}
}

type group struct {
	key  string
	msgs []*message // in sequence order
}

type message struct {
	seq     uint64
	rec     messageRecord
	state   messageState
	durable bool // committed to disk; only durable messages are delivered
	group   *group
	md5Body string
	md5Attr string
}

// messageRecord is the immutable part of a message, stored once per message.
type messageRecord struct {
	ID         string               `json:"id"`
	Body       string               `json:"body"`
	Group      string               `json:"group,omitempty"`
	Dedup      string               `json:"dedup,omitempty"`
	Attributes map[string]Attribute `json:"attrs,omitempty"`
	SentMS     int64                `json:"sent"`
	// EnqueuedMS starts the retention period; it differs from SentMS after a
	// move to a FIFO dead-letter queue, which resets it as SQS does.
	EnqueuedMS int64  `json:"enq"`
	DLQSource  string `json:"dlqSrc,omitempty"`
}

// messageState is the mutable part, rewritten on every receive.
type messageState struct {
	ReceiveCount   int    `json:"rc"`
	FirstReceiveMS int64  `json:"fr,omitempty"`
	VisibleMS      int64  `json:"vis,omitempty"`
	Nonce          string `json:"n,omitempty"`
}

type dedupEntry struct {
	MessageID string `json:"id"`
	Seq       uint64 `json:"seq"`
	ExpiresMS int64  `json:"exp"`
}

type receiveAttempt struct {
	handles []string
	expires time.Time
}

type queueMeta struct {
	Attributes map[string]string `json:"attributes"`
	CreatedMS  int64             `json:"created"`
	ModifiedMS int64             `json:"modified"`
}

// Open opens (creating if needed) the store file at path and loads its
// queues. Messages that were in flight when the process stopped stay
// invisible until their visibility timeout ends, with their receive counts.
func Open(path string, opts Options) (*Store, error) {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.AccountID == "" {
		opts.AccountID = "000000000000"
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.JanitorInterval <= 0 {
		opts.JanitorInterval = time.Second
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout: 5 * time.Second,
		// The freelist is rebuilt by scanning on open instead of being
		// rewritten on every commit: fewer pages per fsync.
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
	})
	if err != nil {
		return nil, fmt.Errorf("fifo: open %s: %w", path, err)
	}
	// bbolt fsyncs the file on every commit but not the directory entry of a
	// file it has just created: without this, a power cut soon after the
	// first start could lose the file with every acknowledged message in it.
	if err := syncDir(filepath.Dir(path)); err != nil {
		db.Close()
		return nil, fmt.Errorf("fifo: open %s: %w", path, err)
	}
	s := &Store{
		opts:   opts,
		db:     db,
		now:    opts.Clock,
		queues: map[string]*queue{},
		tasks:  map[string]*moveTask{},
		stop:   make(chan struct{}),
	}
	if err := s.load(); err != nil {
		db.Close()
		return nil, fmt.Errorf("fifo: load %s: %w", path, err)
	}
	s.commits = newCommitter(db)
	s.bg.Add(1)
	go s.janitor()
	s.resumeMoveTasks()
	return s, nil
}

// Close stops background work, waits for pending commits and closes the file.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		for _, q := range s.queues {
			q.notify()
		}
		s.mu.Unlock()
		close(s.stop)
		s.bg.Wait()
		s.commits.close()
		err = s.db.Close()
	})
	return err
}

func (s *Store) load() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketQueues, bucketSeq, bucketTasks} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		seqs := tx.Bucket(bucketSeq)
		err := tx.Bucket(bucketQueues).ForEach(func(k, v []byte) error {
			var meta queueMeta
			if err := json.Unmarshal(v, &meta); err != nil {
				return fmt.Errorf("queue %s: %w", k, err)
			}
			name := string(k)
			cfg, err := parseConfig(name, effectiveAttributes(name, meta.Attributes))
			if err != nil {
				return fmt.Errorf("queue %s: %w", name, err)
			}
			q := newQueue(name, meta.Attributes, cfg, time.UnixMilli(meta.CreatedMS), time.UnixMilli(meta.ModifiedMS))
			if v := seqs.Get(k); len(v) == 8 {
				q.nextSeq = binary.BigEndian.Uint64(v)
			}
			qb := tx.Bucket(queueBucketName(name))
			if qb == nil {
				return fmt.Errorf("queue %s: bucket missing", name)
			}
			states := qb.Bucket(subState)
			err = qb.Bucket(subMessages).ForEach(func(k, v []byte) error {
				m := &message{seq: binary.BigEndian.Uint64(k), durable: true}
				if err := json.Unmarshal(v, &m.rec); err != nil {
					return fmt.Errorf("queue %s message %x: %w", name, k, err)
				}
				if sv := states.Get(k); sv != nil {
					if err := json.Unmarshal(sv, &m.state); err != nil {
						return fmt.Errorf("queue %s message state %x: %w", name, k, err)
					}
				}
				m.md5Body, m.md5Attr = md5Hex([]byte(m.rec.Body)), MD5OfMessageAttributes(m.rec.Attributes)
				q.insert(m) // the cursor walks keys in sequence order
				if m.seq >= q.nextSeq {
					q.nextSeq = m.seq + 1
				}
				return nil
			})
			if err != nil {
				return err
			}
			err = qb.Bucket(subDedup).ForEach(func(k, v []byte) error {
				var e dedupEntry
				if err := json.Unmarshal(v, &e); err != nil {
					return fmt.Errorf("queue %s dedup %q: %w", name, k, err)
				}
				q.dedup[string(k)] = e
				return nil
			})
			if err != nil {
				return err
			}
			s.queues[name] = q
			return nil
		})
		if err != nil {
			return err
		}
		return tx.Bucket(bucketTasks).ForEach(func(k, v []byte) error {
			t := &moveTask{}
			if err := json.Unmarshal(v, &t.info); err != nil {
				return fmt.Errorf("move task %s: %w", k, err)
			}
			s.tasks[string(k)] = t
			return nil
		})
	})
}

func newQueue(name string, set map[string]string, cfg queueConfig, created, modified time.Time) *queue {
	if set == nil {
		set = map[string]string{}
	}
	return &queue{
		name: name, set: set, cfg: cfg, created: created, modified: modified,
		nextSeq:  1,
		msgs:     map[uint64]*message{},
		groups:   map[string]*group{},
		dedup:    map[string]dedupEntry{},
		attempts: map[string]receiveAttempt{},
		changed:  make(chan struct{}),
	}
}

// syncDir flushes a directory's entries to disk. Windows cannot fsync a
// directory (and does not need to): there it does nothing.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func queueBucketName(name string) []byte { return []byte("q/" + name) }

func seqKey(seq uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	return k[:]
}

// groupKey is the in-memory group of a message: its MessageGroupId on a FIFO
// queue; on a standard queue every message is its own group, so none blocks another.
func (q *queue) groupKey(rec *messageRecord) string {
	if q.cfg.fifo {
		return rec.Group
	}
	return "\x00" + rec.ID
}

// insert appends m (whose seq is the queue's highest) to its group.
func (q *queue) insert(m *message) {
	key := q.groupKey(&m.rec)
	g := q.groups[key]
	if g == nil {
		g = &group{key: key}
		q.groups[key] = g
	}
	g.msgs = append(g.msgs, m)
	m.group = g
	q.msgs[m.seq] = m
}

func (q *queue) remove(m *message) {
	delete(q.msgs, m.seq)
	g := m.group
	for i, x := range g.msgs {
		if x == m {
			g.msgs = append(g.msgs[:i], g.msgs[i+1:]...)
			break
		}
	}
	if len(g.msgs) == 0 {
		delete(q.groups, g.key)
	}
}

// notify wakes long polls; the caller holds Store.mu.
func (q *queue) notify() {
	close(q.changed)
	q.changed = make(chan struct{})
}

// ordered returns the queue's messages in sequence order.
func (q *queue) ordered() []*message {
	out := make([]*message, 0, len(q.msgs))
	for _, m := range q.msgs {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

func (s *Store) queue(name string) (*queue, error) {
	if s.closed {
		return nil, ErrClosed
	}
	q := s.queues[name]
	if q == nil {
		return nil, newError("QueueDoesNotExist", "The specified queue does not exist.")
	}
	return q, nil
}

// ARN is the queue's Amazon Resource Name.
func (s *Store) ARN(name string) string {
	return fmt.Sprintf("arn:aws:sqs:%s:%s:%s", s.opts.Region, s.opts.AccountID, name)
}

// QueueNameFromARN returns the name of the queue arn names, if it is one of
// this store's queues (same region and account).
func (s *Store) QueueNameFromARN(arn string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queueByARNLocked(arn)
	if q == nil {
		return "", newError("ResourceNotFoundException", "The resource %s doesn't exist.", arn)
	}
	return q.name, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("fifo: crypto/rand: " + err.Error()) // never fails on supported platforms
	}
	return hex.EncodeToString(b)
}

// newMessageID is a random UUID (version 4), the shape of SQS message ids.
func newMessageID() string {
	h := randomHex(16)
	b := []byte(h)
	b[12] = '4'
	b[16] = "89ab"[b[16]%4]
	return fmt.Sprintf("%s-%s-%s-%s-%s", b[0:8], b[8:12], b[12:16], b[16:20], b[20:32])
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}
