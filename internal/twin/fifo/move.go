package fifo

import (
	"encoding/base64"
	"encoding/json"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Move task statuses, as ListMessageMoveTasks reports them.
const (
	MoveRunning    = "RUNNING"
	MoveCompleted  = "COMPLETED"
	MoveCancelling = "CANCELLING"
	MoveCancelled  = "CANCELLED"
	MoveFailed     = "FAILED"
)

// MoveTask describes a message move task (a dead-letter queue redrive).
type MoveTask struct {
	TaskHandle string `json:"handle"`
	SourceArn  string `json:"source"`
	// DestinationArn empty: each message goes back to the queue it was
	// dead-lettered from.
	DestinationArn string `json:"destination,omitempty"`
	// MaxNumberOfMessagesPerSecond zero: as fast as the store commits.
	MaxNumberOfMessagesPerSecond int    `json:"rate,omitempty"`
	Status                       string `json:"status"`
	Moved                        int64  `json:"moved"`
	ToMove                       int64  `json:"toMove"`
	FailureReason                string `json:"failure,omitempty"`
	Started                      int64  `json:"started"` // epoch millis
	// Before is the source's next sequence number when the task started:
	// the task moves only messages older than that, so a message that
	// reaches the DLQ while it runs — one it moved and the forwarder parked
	// again, say — is never moved by it. Zero on tasks stored before it
	// existed: bounded by ToMove alone.
	Before uint64 `json:"before,omitempty"`
}

type moveTask struct {
	info   MoveTask
	cancel chan struct{}
}

// StartMoveTask starts moving the messages of a dead-letter queue back to
// their source queues (or to destinationARN) in the background, at most
// perSecond a second (0: no limit). It moves what the queue holds when it
// starts (as SQS fixes ApproximateNumberOfMessagesToMove then), each message
// once; what arrives later stays. Moved messages are new messages to their
// destination: a new message id, sequence number and timestamps, receive
// count zero, the body, group and attributes kept; they bypass the
// destination's deduplication. Only one task per source runs at a time.
func (s *Store) StartMoveTask(sourceARN, destinationARN string, perSecond int) (string, error) {
	s.mu.Lock()
	t, err := s.newMoveTaskLocked(sourceARN, destinationARN, perSecond)
	if err != nil {
		s.mu.Unlock()
		return "", err
	}
	// The task is on disk before it runs, so a restart resumes it.
	done := s.commits.submit(putTaskOp(t.info))
	s.mu.Unlock()
	if err := <-done; err != nil {
		s.mu.Lock()
		delete(s.tasks, t.info.TaskHandle)
		s.mu.Unlock()
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", ErrClosed
	}
	s.runMoveTask(t)
	return t.info.TaskHandle, nil
}

func (s *Store) newMoveTaskLocked(sourceARN, destinationARN string, perSecond int) (*moveTask, error) {
	if perSecond < 0 || perSecond > 500 {
		return nil, newError("InvalidParameterValue", "Value %d for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: Must be between 1 and 500.", perSecond)
	}
	if s.closed {
		return nil, ErrClosed
	}
	src := s.queueByARNLocked(sourceARN)
	if src == nil {
		return nil, newError("ResourceNotFoundException", "The resource that you specified for the SourceArn parameter doesn't exist.")
	}
	isDLQ := false
	for _, q := range s.queues {
		if q.cfg.redrive != nil && q.cfg.redrive.DeadLetterTargetArn == sourceARN {
			isDLQ = true
		}
	}
	if !isDLQ {
		return nil, newError("InvalidParameterValue", "Source queue must be configured as a Dead Letter Queue.")
	}
	if destinationARN != "" {
		dst := s.queueByARNLocked(destinationARN)
		if dst == nil {
			return nil, newError("ResourceNotFoundException", "The resource that you specified for the DestinationArn parameter doesn't exist.")
		}
		if dst.cfg.fifo != src.cfg.fifo {
			return nil, newError("InvalidParameterValue", "The source queue and destination queue must be of the same queue type.")
		}
	}
	for _, t := range s.tasks {
		if t.info.SourceArn == sourceARN && (t.info.Status == MoveRunning || t.info.Status == MoveCancelling) {
			return nil, newError("UnsupportedOperation", "There is already a task running. Only one active task is allowed for a source queue arn at a given time.")
		}
	}
	handleDoc, err := json.Marshal(map[string]string{"taskId": newMessageID(), "sourceArn": sourceARN})
	if err != nil {
		return nil, err
	}
	t := &moveTask{info: MoveTask{
		TaskHandle:                   base64.StdEncoding.EncodeToString(handleDoc),
		SourceArn:                    sourceARN,
		DestinationArn:               destinationARN,
		MaxNumberOfMessagesPerSecond: perSecond,
		Status:                       MoveRunning,
		ToMove:                       int64(len(src.msgs)),
		Started:                      s.now().UnixMilli(),
		Before:                       src.nextSeq,
	}}
	s.tasks[t.info.TaskHandle] = t
	return t, nil
}

// ListMoveTasks returns the most recent tasks of a source queue, newest first.
func (s *Store) ListMoveTasks(sourceARN string, limit int) ([]MoveTask, error) {
	if limit == 0 {
		limit = 1
	}
	if limit < 1 || limit > 10 {
		return nil, newError("InvalidParameterValue", "Value %d for parameter MaxResults is invalid. Reason: Must be between 1 and 10.", limit)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.queueByARNLocked(sourceARN) == nil {
		return nil, newError("ResourceNotFoundException", "The resource that you specified for the SourceArn parameter doesn't exist.")
	}
	var out []MoveTask
	for _, t := range s.tasks {
		if t.info.SourceArn == sourceARN {
			out = append(out, t.info)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Started > out[j].Started })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// CancelMoveTask stops a running task; messages already moved stay moved.
// It returns how many were.
func (s *Store) CancelMoveTask(handle string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tasks[handle]
	if t == nil {
		return 0, newError("ResourceNotFoundException", "The resource that you specified for the TaskHandle parameter doesn't exist.")
	}
	if t.info.Status != MoveRunning {
		return 0, newError("ResourceNotFoundException", "Only active tasks can be cancelled.")
	}
	t.info.Status = MoveCancelling
	close(t.cancel)
	return t.info.Moved, nil
}

// resumeMoveTasks restarts the tasks that were running when the store last
// closed or crashed.
func (s *Store) resumeMoveTasks() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tasks {
		switch t.info.Status {
		case MoveRunning:
			s.runMoveTask(t)
		case MoveCancelling:
			t.info.Status = MoveCancelled
			s.commits.submit(putTaskOp(t.info))
		}
	}
}

// runMoveTask starts t's goroutine; the caller holds s.mu.
func (s *Store) runMoveTask(t *moveTask) {
	t.cancel = make(chan struct{})
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		var interval time.Duration
		batch := 50
		if r := t.info.MaxNumberOfMessagesPerSecond; r > 0 {
			interval, batch = time.Second/time.Duration(r), 1
		}
		for {
			select {
			case <-s.stop:
				return // resumed on the next Open
			case <-t.cancel:
				s.finishMoveTask(t, MoveCancelled, "")
				return
			default:
			}
			more, err := s.moveBatch(t, batch)
			if err != nil {
				s.finishMoveTask(t, MoveFailed, err.Error())
				return
			}
			if !more {
				s.finishMoveTask(t, MoveCompleted, "")
				return
			}
			if interval > 0 {
				timer := time.NewTimer(interval)
				select {
				case <-s.stop:
					timer.Stop()
					return
				case <-t.cancel:
					timer.Stop()
				case <-timer.C:
				}
			}
		}
	}()
}

// moveBatch moves up to n of the task's messages in one commit; more is
// false when the task has nothing left to move.
func (s *Store) moveBatch(t *moveTask, n int) (more bool, err error) {
	s.mu.Lock()
	src := s.queueByARNLocked(t.info.SourceArn)
	if src == nil {
		s.mu.Unlock()
		return false, newError("ResourceNotFoundException", "source queue was deleted")
	}
	now := s.now()
	nowMS := now.UnixMilli()
	var ops []op
	for _, m := range src.ordered() {
		if len(ops) == n || t.info.Moved >= t.info.ToMove || (t.info.Before != 0 && m.seq >= t.info.Before) {
			break
		}
		if !m.durable || m.state.VisibleMS > nowMS {
			continue
		}
		destARN := t.info.DestinationArn
		if destARN == "" {
			destARN = m.rec.DLQSource
		}
		dst := s.queueByARNLocked(destARN)
		if dst == nil {
			s.mu.Unlock()
			return false, newError("ResourceNotFoundException", "destination queue %s does not exist", destARN)
		}
		src.remove(m)
		moved := &message{seq: dst.nextSeq, durable: true, md5Body: m.md5Body, md5Attr: m.md5Attr}
		moved.rec = messageRecord{
			ID: newMessageID(), Body: m.rec.Body, Group: m.rec.Group, Attributes: m.rec.Attributes,
			SentMS: nowMS, EnqueuedMS: nowMS,
		}
		if dst.cfg.fifo {
			moved.rec.Dedup = moved.rec.ID
		} else {
			moved.rec.Group = ""
		}
		dst.nextSeq++
		dst.insert(moved)
		dst.notify()
		t.info.Moved++
		put := putMessageOp(dst.name, moved, dst.nextSeq, "")
		srcName, srcSeq := src.name, m.seq
		ops = append(ops, func(tx *bolt.Tx) error {
			if qb := tx.Bucket(queueBucketName(srcName)); qb != nil {
				if err := deleteMessageKeys(qb, srcSeq); err != nil {
					return err
				}
			}
			return put(tx)
		})
	}
	more = len(ops) > 0 && t.info.Moved < t.info.ToMove
	ops = append(ops, putTaskOp(t.info))
	done := s.commits.submit(ops...)
	s.mu.Unlock()
	return more, <-done
}

func (s *Store) finishMoveTask(t *moveTask, status, reason string) {
	s.mu.Lock()
	t.info.Status, t.info.FailureReason = status, reason
	done := s.commits.submit(putTaskOp(t.info))
	s.mu.Unlock()
	<-done
}

func putTaskOp(info MoveTask) op {
	return func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucketTasks), []byte(info.TaskHandle), info)
	}
}
