package fifo

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/testkit/testclock"
)

func openTestStore(t *testing.T, path string, c *testclock.Clock) *Store {
	t.Helper()
	opts := Options{JanitorInterval: 10 * time.Millisecond}
	if c != nil {
		opts.Clock = c.Now
	}
	s, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func fifoAttrs(extra ...string) map[string]string {
	m := map[string]string{AttrFifoQueue: "true", AttrContentBasedDeduplication: "true", AttrVisibilityTimeout: "30"}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	return m
}

func mustCreate(t *testing.T, s *Store, name string, attrs map[string]string) {
	t.Helper()
	if err := s.CreateQueue(name, attrs); err != nil {
		t.Fatal(err)
	}
}

func mustSend(t *testing.T, s *Store, q, group, body string) SendResult {
	t.Helper()
	r, err := s.Send(q, SendInput{Body: body, GroupID: group})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func receive(t *testing.T, s *Store, q string, max int, vis time.Duration) []Message {
	t.Helper()
	zero := time.Duration(0)
	msgs, err := s.Receive(context.Background(), q, ReceiveInput{MaxMessages: max, VisibilityTimeout: &vis, WaitTime: &zero})
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

func bodies(ms []Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Body
	}
	return out
}

func equal(a, b []string) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

func TestGroupOrderAndInFlightLock(t *testing.T) {
	t.Parallel()
	s := openTestStore(t, filepath.Join(t.TempDir(), "q.db"), nil)
	mustCreate(t, s, "q.fifo", fifoAttrs())
	for _, b := range []string{"a1", "a2", "a3"} {
		mustSend(t, s, "q.fifo", "A", b)
	}
	mustSend(t, s, "q.fifo", "B", "b1")

	first := receive(t, s, "q.fifo", 2, time.Minute)
	if got := bodies(first); !equal(got, []string{"a1", "a2"}) {
		t.Fatalf("first batch = %v, want [a1 a2] (one group, in order)", got)
	}
	// Group A has messages in flight: only B can be received.
	second := receive(t, s, "q.fifo", 10, time.Minute)
	if got := bodies(second); !equal(got, []string{"b1"}) {
		t.Fatalf("second batch = %v, want [b1]", got)
	}
	if err := s.Delete("q.fifo", first[0].ReceiptHandle); err != nil {
		t.Fatal(err)
	}
	if got := receive(t, s, "q.fifo", 10, time.Minute); len(got) != 0 {
		t.Fatalf("a2 still in flight, got %v", bodies(got))
	}
	// Making a2 visible again unlocks the group, in order.
	if err := s.ChangeVisibility("q.fifo", first[1].ReceiptHandle, 0); err != nil {
		t.Fatal(err)
	}
	third := receive(t, s, "q.fifo", 10, time.Minute)
	if got := bodies(third); !equal(got, []string{"a2", "a3"}) {
		t.Fatalf("third batch = %v, want [a2 a3]", got)
	}
	if third[0].ReceiveCount != 2 || third[1].ReceiveCount != 1 {
		t.Fatalf("receive counts = %d,%d, want 2,1", third[0].ReceiveCount, third[1].ReceiveCount)
	}
	if !third[0].FirstReceiveTimestamp.Equal(first[1].FirstReceiveTimestamp) {
		t.Fatalf("first receive timestamp changed: %v vs %v", third[0].FirstReceiveTimestamp, first[1].FirstReceiveTimestamp)
	}
}

func TestDeduplication(t *testing.T) {
	t.Parallel()
	c := testclock.New(time.Unix(1_700_000_000, 0))
	s := openTestStore(t, filepath.Join(t.TempDir(), "q.db"), c)
	mustCreate(t, s, "q.fifo", fifoAttrs())
	a := mustSend(t, s, "q.fifo", "g", "same")
	b := mustSend(t, s, "q.fifo", "g", "same")
	if !b.Duplicate || b.MessageID != a.MessageID || b.SequenceNumber != a.SequenceNumber {
		t.Fatalf("content duplicate: %+v after %+v", b, a)
	}
	x, err := s.Send("q.fifo", SendInput{Body: "one", GroupID: "g", DeduplicationID: "id-1"})
	if err != nil {
		t.Fatal(err)
	}
	y, err := s.Send("q.fifo", SendInput{Body: "two", GroupID: "h", DeduplicationID: "id-1"})
	if err != nil || !y.Duplicate || y.MessageID != x.MessageID {
		t.Fatalf("explicit-id duplicate: %+v, %v", y, err)
	}
	if st, _ := s.Stats("q.fifo"); st.Visible != 2 {
		t.Fatalf("visible = %d, want 2", st.Visible)
	}
	c.Advance(DedupWindow + time.Second)
	z := mustSend(t, s, "q.fifo", "g", "same")
	if z.Duplicate || z.MessageID == a.MessageID {
		t.Fatalf("after the window the same body must enqueue anew: %+v", z)
	}
	if _, err := s.Send("q.fifo", SendInput{Body: "x"}); !errors.Is(err, ErrMissingParameter) {
		t.Fatalf("missing group id: %v", err)
	}
	mustCreate(t, s, "nocbd.fifo", map[string]string{AttrFifoQueue: "true"})
	if _, err := s.Send("nocbd.fifo", SendInput{Body: "x", GroupID: "g"}); !errors.Is(err, ErrInvalidParameterValue) {
		t.Fatalf("no dedup id without content-based dedup: %v", err)
	}
}

// TestFIFOIDCharacters: MessageGroupId and MessageDeduplicationId take 1 to
// 128 alphanumeric or punctuation characters, as on SQS; a header value with
// a space, a non-ASCII letter or 129 characters is refused, not queued.
func TestFIFOIDCharacters(t *testing.T) {
	t.Parallel()
	s := openTestStore(t, filepath.Join(t.TempDir(), "q.db"), nil)
	mustCreate(t, s, "q.fifo", fifoAttrs())
	long := strings.Repeat("x", 128)
	for _, in := range []SendInput{
		{Body: "ok1", GroupID: long, DeduplicationID: long},
		{Body: "ok2", GroupID: `!"#$%&'()*+,-./:;<=>?@[\]^_` + "`{|}~09azAZ"},
	} {
		if _, err := s.Send("q.fifo", in); err != nil {
			t.Errorf("send %+v: %v", in, err)
		}
	}
	for _, in := range []SendInput{
		{Body: "b", GroupID: "a b"},
		{Body: "b", GroupID: "é"},
		{Body: "b", GroupID: long + "x"},
		{Body: "b", GroupID: "g", DeduplicationID: "a\tb"},
		{Body: "b", GroupID: "g", DeduplicationID: long + "x"},
	} {
		if _, err := s.Send("q.fifo", in); !errors.Is(err, ErrInvalidParameterValue) {
			t.Errorf("send group %q dedup %q: %v, want InvalidParameterValue", in.GroupID, in.DeduplicationID, err)
		}
	}
	if st, _ := s.Stats("q.fifo"); st.Visible != 2 {
		t.Fatalf("visible = %d, want the 2 valid messages", st.Visible)
	}
}

func TestDeadLetterAfterMaxReceives(t *testing.T) {
	t.Parallel()
	s := openTestStore(t, filepath.Join(t.TempDir(), "q.db"), nil)
	mustCreate(t, s, "dlq.fifo", fifoAttrs())
	mustCreate(t, s, "src.fifo", fifoAttrs(AttrRedrivePolicy, fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"2"}`, s.ARN("dlq.fifo"))))
	sent, err := s.Send("src.fifo", SendInput{Body: "poison", GroupID: "g", DeduplicationID: "d1",
		Attributes: map[string]Attribute{"k": {DataType: "String", StringValue: "v"}}})
	if err != nil {
		t.Fatal(err)
	}
	mustSend(t, s, "src.fifo", "g", "next")
	for i := 1; i <= 2; i++ {
		got := receive(t, s, "src.fifo", 1, 0)
		if len(got) != 1 || got[0].Body != "poison" || got[0].ReceiveCount != i {
			t.Fatalf("receive %d: %+v", i, got)
		}
	}
	// The third receive moves poison to the DLQ and delivers the next one.
	got := receive(t, s, "src.fifo", 1, time.Minute)
	if len(got) != 1 || got[0].Body != "next" {
		t.Fatalf("after exhaustion: %v", bodies(got))
	}
	dl, err := s.List("dlq.fifo")
	if err != nil || len(dl) != 1 {
		t.Fatalf("dlq = %+v, %v", dl, err)
	}
	m := dl[0]
	if m.MessageID != sent.MessageID || m.GroupID != "g" || m.DeduplicationID != sent.MessageID ||
		m.Attributes["k"].StringValue != "v" || m.ReceiveCount != 2 || m.DeadLetterSourceARN != s.ARN("src.fifo") {
		t.Fatalf("dead-lettered message = %+v", m)
	}
}

func TestRestartKeepsMessagesAndInFlightState(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "q.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, "q.fifo", fifoAttrs())
	for i := range 3 {
		mustSend(t, s, "q.fifo", "g", fmt.Sprint("m", i))
	}
	got := receive(t, s, "q.fifo", 1, 2*time.Second)
	if len(got) != 1 {
		t.Fatal("nothing received")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTestStore(t, path, nil)
	if got := receive(t, s, "q.fifo", 10, time.Minute); len(got) != 0 {
		t.Fatalf("in-flight group delivered after restart: %v", bodies(got))
	}
	var again []Message
	for deadline := time.Now().Add(10 * time.Second); len(again) == 0 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		again = receive(t, s, "q.fifo", 10, time.Minute)
	}
	if !equal(bodies(again), []string{"m0", "m1", "m2"}) || again[0].ReceiveCount != 2 {
		t.Fatalf("after visibility expiry: %v counts %v", bodies(again), again)
	}
	if !again[0].FirstReceiveTimestamp.Equal(got[0].FirstReceiveTimestamp) {
		t.Fatalf("first receive timestamp lost in the restart: %v, was %v", again[0].FirstReceiveTimestamp, got[0].FirstReceiveTimestamp)
	}
	if time.Since(got[0].FirstReceiveTimestamp) < 2*time.Second {
		t.Fatal("redelivered before its visibility timeout ended")
	}
	seq := mustSend(t, s, "q.fifo", "g", "m3").SequenceNumber
	if seq <= again[2].SequenceNumber {
		t.Fatalf("sequence number went backwards after restart: %s <= %s", seq, again[2].SequenceNumber)
	}
}

func TestRetention(t *testing.T) {
	t.Parallel()
	c := testclock.New(time.Unix(1_700_000_000, 0))
	s := openTestStore(t, filepath.Join(t.TempDir(), "q.db"), c)
	mustCreate(t, s, "q.fifo", fifoAttrs(AttrMessageRetentionPeriod, "60"))
	mustSend(t, s, "q.fifo", "g", "old")
	c.Advance(30 * time.Second)
	mustSend(t, s, "q.fifo", "g", "young")
	c.Advance(31 * time.Second)
	if got := receive(t, s, "q.fifo", 10, time.Minute); !equal(bodies(got), []string{"young"}) {
		t.Fatalf("after retention of the first: %v", bodies(got))
	}
}

func TestLongPollWakesOnSend(t *testing.T) {
	t.Parallel()
	s := openTestStore(t, filepath.Join(t.TempDir(), "q.db"), nil)
	mustCreate(t, s, "q.fifo", fifoAttrs())
	wait := 5 * time.Second
	got := make(chan []Message)
	go func() {
		m, _ := s.Receive(context.Background(), "q.fifo", ReceiveInput{WaitTime: &wait})
		got <- m
	}()
	time.Sleep(100 * time.Millisecond)
	mustSend(t, s, "q.fifo", "g", "late")
	select {
	case m := <-got:
		if !equal(bodies(m), []string{"late"}) {
			t.Fatalf("long poll got %v", bodies(m))
		}
	case <-time.After(3 * time.Second):
		t.Fatal("long poll did not wake on send")
	}
}

func TestStaleReceiptHandle(t *testing.T) {
	t.Parallel()
	s := openTestStore(t, filepath.Join(t.TempDir(), "q.db"), nil)
	mustCreate(t, s, "q.fifo", fifoAttrs())
	mustSend(t, s, "q.fifo", "g", "x")
	old := receive(t, s, "q.fifo", 1, 0)[0].ReceiptHandle
	cur := receive(t, s, "q.fifo", 1, time.Minute)[0].ReceiptHandle
	if err := s.Delete("q.fifo", old); err != nil {
		t.Fatalf("stale handle delete: %v", err)
	}
	if st, _ := s.Stats("q.fifo"); st.InFlight != 1 {
		t.Fatalf("a stale handle deleted the message: %+v", st)
	}
	if err := s.Delete("q.fifo", "garbage!"); !errors.Is(err, ErrReceiptHandleIsInvalid) {
		t.Fatalf("garbage handle: %v", err)
	}
	if err := s.Delete("q.fifo", cur); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.Stats("q.fifo"); st != (Stats{}) {
		t.Fatalf("after delete: %+v", st)
	}
}

func TestMoveTaskRedrivesToSource(t *testing.T) {
	t.Parallel()
	s := openTestStore(t, filepath.Join(t.TempDir(), "q.db"), nil)
	mustCreate(t, s, "dlq.fifo", fifoAttrs())
	mustCreate(t, s, "src.fifo", fifoAttrs(AttrRedrivePolicy, fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":1}`, s.ARN("dlq.fifo"))))
	for _, b := range []string{"p1", "p2", "p3"} {
		mustSend(t, s, "src.fifo", "g", b)
	}
	for range 3 {
		receive(t, s, "src.fifo", 1, 0) // received once; the next receive dead-letters it
	}
	if got := receive(t, s, "src.fifo", 10, 0); len(got) != 0 {
		t.Fatalf("source should be empty: %v", bodies(got))
	}
	if _, err := s.StartMoveTask(s.ARN("src.fifo"), "", 0); !errors.Is(err, ErrInvalidParameterValue) {
		t.Fatalf("move from a non-DLQ: %v", err)
	}
	handle, err := s.StartMoveTask(s.ARN("dlq.fifo"), "", 100)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		tasks, err := s.ListMoveTasks(s.ARN("dlq.fifo"), 10)
		if err != nil {
			t.Fatal(err)
		}
		if tasks[0].TaskHandle != handle {
			t.Fatalf("tasks = %+v", tasks)
		}
		if tasks[0].Status == MoveCompleted {
			if tasks[0].Moved != 3 || tasks[0].ToMove != 3 {
				t.Fatalf("task = %+v", tasks[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("task did not complete: %+v", tasks[0])
		}
		time.Sleep(20 * time.Millisecond)
	}
	got := receive(t, s, "src.fifo", 10, time.Minute)
	if !equal(bodies(got), []string{"p1", "p2", "p3"}) || got[0].ReceiveCount != 1 {
		t.Fatalf("redriven: %v", bodies(got))
	}
	if _, err := s.CancelMoveTask(handle); !errors.Is(err, ErrResourceNotFound) {
		t.Fatalf("cancel a completed task: %v", err)
	}
}

func TestQueueAttributeValidation(t *testing.T) {
	t.Parallel()
	s := openTestStore(t, filepath.Join(t.TempDir(), "q.db"), nil)
	for _, tc := range []struct {
		name  string
		attrs map[string]string
		want  error
	}{
		{"plain.fifo", map[string]string{}, ErrInvalidParameterValue},
		{"plain", map[string]string{AttrFifoQueue: "true"}, ErrInvalidParameterValue},
		{"bad name!", nil, ErrInvalidParameterValue},
		{"v.fifo", fifoAttrs(AttrVisibilityTimeout, "43201"), ErrInvalidAttributeValue},
		{"r.fifo", fifoAttrs(AttrRedrivePolicy, `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:none.fifo","maxReceiveCount":3}`), ErrInvalidParameterValue},
		{"u.fifo", fifoAttrs("Nope", "1"), ErrInvalidAttributeName},
		{"std", map[string]string{AttrVisibilityTimeout: "5"}, nil},
	} {
		if err := s.CreateQueue(tc.name, tc.attrs); !errors.Is(err, tc.want) && !(tc.want == nil && err == nil) {
			t.Errorf("CreateQueue(%q, %v) = %v, want %v", tc.name, tc.attrs, err, tc.want)
		}
	}
	if err := s.CreateQueue("std", map[string]string{AttrVisibilityTimeout: "6"}); !errors.Is(err, ErrQueueNameExists) {
		t.Errorf("recreate with other attributes: %v", err)
	}
	if err := s.CreateQueue("std", map[string]string{AttrVisibilityTimeout: "5"}); err != nil {
		t.Errorf("recreate with the same attributes: %v", err)
	}
	if name, err := s.QueueNameFromARN("arn:aws:sqs:us-east-1:000000000000:std"); err != nil || name != "std" {
		t.Errorf("QueueNameFromARN = %q, %v", name, err)
	}
	if _, err := s.QueueNameFromARN("arn:aws:sqs:eu-west-1:000000000000:std"); !errors.Is(err, ErrResourceNotFound) {
		t.Errorf("QueueNameFromARN of another region: %v", err)
	}
}

func TestDeduplicationScopeMessageGroup(t *testing.T) {
	t.Parallel()
	s := openTestStore(t, filepath.Join(t.TempDir(), "q.db"), nil)
	mustCreate(t, s, "q.fifo", fifoAttrs(AttrDeduplicationScope, "messageGroup", AttrFifoThroughputLimit, "perMessageGroupId"))
	a := mustSend(t, s, "q.fifo", "g1", "same")
	b := mustSend(t, s, "q.fifo", "g2", "same")
	c := mustSend(t, s, "q.fifo", "g1", "same")
	if a.Duplicate || b.Duplicate || !c.Duplicate || c.MessageID != a.MessageID {
		t.Fatalf("per-group dedup: %+v %+v %+v", a, b, c)
	}
}

func TestReceiveRequestAttemptID(t *testing.T) {
	t.Parallel()
	s := openTestStore(t, filepath.Join(t.TempDir(), "q.db"), nil)
	mustCreate(t, s, "q.fifo", fifoAttrs())
	mustSend(t, s, "q.fifo", "g", "a")
	mustSend(t, s, "q.fifo", "h", "b")
	vis := time.Minute
	in := ReceiveInput{MaxMessages: 1, VisibilityTimeout: &vis, AttemptID: "try-1"}
	first, err := s.Receive(context.Background(), "q.fifo", in)
	if err != nil || len(first) != 1 {
		t.Fatalf("first: %v %v", first, err)
	}
	retried, err := s.Receive(context.Background(), "q.fifo", in)
	if err != nil || len(retried) != 1 || retried[0].ReceiptHandle != first[0].ReceiptHandle || retried[0].ReceiveCount != 1 {
		t.Fatalf("a retried attempt must return the same receive: %+v vs %+v (%v)", retried, first, err)
	}
	in.AttemptID = "try-2"
	other, err := s.Receive(context.Background(), "q.fifo", in)
	if err != nil || len(other) != 1 || other[0].Body != "b" {
		t.Fatalf("a new attempt receives the next group: %+v %v", other, err)
	}
}

// deadLetterThree fills dlq.fifo with three messages dead-lettered from src.fifo.
func deadLetterThree(t *testing.T, s *Store) {
	t.Helper()
	mustCreate(t, s, "dlq.fifo", fifoAttrs())
	mustCreate(t, s, "src.fifo", fifoAttrs(AttrRedrivePolicy, fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":1}`, s.ARN("dlq.fifo"))))
	for _, b := range []string{"p1", "p2", "p3"} {
		mustSend(t, s, "src.fifo", "g", b)
	}
	for range 3 {
		receive(t, s, "src.fifo", 1, 0)
	}
	if got := receive(t, s, "src.fifo", 10, 0); len(got) != 0 {
		t.Fatalf("source should be empty: %v", bodies(got))
	}
}

func waitTask(t *testing.T, s *Store, source string, done func(MoveTask) bool) MoveTask {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		tasks, err := s.ListMoveTasks(source, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(tasks) == 1 && done(tasks[0]) {
			return tasks[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("task did not get there: %+v", tasks)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A task moves what the DLQ held when it started: a message it moved and
// that was parked again while it runs (and one held in flight, so the task
// passes over it) does not make it move the new arrival instead.
func TestMoveTaskMovesASnapshot(t *testing.T) {
	t.Parallel()
	s := openTestStore(t, filepath.Join(t.TempDir(), "q.db"), nil)
	mustCreate(t, s, "dlq.fifo", fifoAttrs())
	mustCreate(t, s, "src.fifo", fifoAttrs(AttrRedrivePolicy, fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":5}`, s.ARN("dlq.fifo"))))
	mustSend(t, s, "dlq.fifo", "g1", "A")
	mustSend(t, s, "dlq.fifo", "g2", "B")
	held := receive(t, s, "dlq.fifo", 10, time.Minute)
	if !equal(bodies(held), []string{"A", "B"}) {
		t.Fatalf("received %v", bodies(held))
	}
	if err := s.ChangeVisibility("dlq.fifo", held[0].ReceiptHandle, 0); err != nil {
		t.Fatal(err)
	}
	// B stays in flight, as while an operator lists the DLQ.
	if _, err := s.StartMoveTask(s.ARN("dlq.fifo"), s.ARN("src.fifo"), 1); err != nil {
		t.Fatal(err)
	}
	waitTask(t, s, s.ARN("dlq.fifo"), func(m MoveTask) bool { return m.Moved == 1 })
	// A fails again at once and is parked anew, before the task's next step.
	a := receive(t, s, "src.fifo", 1, time.Minute)
	if !equal(bodies(a), []string{"A"}) {
		t.Fatalf("source holds %v", bodies(a))
	}
	mustSend(t, s, "dlq.fifo", "g1", "A again")
	if err := s.Delete("src.fifo", a[0].ReceiptHandle); err != nil {
		t.Fatal(err)
	}
	task := waitTask(t, s, s.ARN("dlq.fifo"), func(m MoveTask) bool { return m.Status == MoveCompleted })
	if task.Moved != 1 {
		t.Fatalf("task %+v moved %d, want only A", task, task.Moved)
	}
	if st, _ := s.Stats("src.fifo"); st.Visible != 0 {
		t.Fatalf("the task moved the re-parked message back: source %+v", st)
	}
	if err := s.ChangeVisibility("dlq.fifo", held[1].ReceiptHandle, 0); err != nil {
		t.Fatal(err)
	}
	if left := receive(t, s, "dlq.fifo", 10, time.Minute); !equal(bodies(left), []string{"B", "A again"}) {
		t.Fatalf("DLQ holds %v, want B and A again", bodies(left))
	}
}

func TestMoveTaskCancel(t *testing.T) {
	t.Parallel()
	s := openTestStore(t, filepath.Join(t.TempDir(), "q.db"), nil)
	deadLetterThree(t, s)
	handle, err := s.StartMoveTask(s.ARN("dlq.fifo"), "", 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.StartMoveTask(s.ARN("dlq.fifo"), "", 2); !errors.Is(err, ErrUnsupportedOperation) {
		t.Fatalf("a second task on the same source: %v", err)
	}
	waitTask(t, s, s.ARN("dlq.fifo"), func(m MoveTask) bool { return m.Moved >= 1 })
	if _, err := s.CancelMoveTask(handle); err != nil {
		t.Fatal(err)
	}
	task := waitTask(t, s, s.ARN("dlq.fifo"), func(m MoveTask) bool { return m.Status == MoveCancelled })
	left, _ := s.Stats("dlq.fifo")
	back, _ := s.Stats("src.fifo")
	if task.Moved >= 3 || int64(back.Visible) != task.Moved || left.Visible != 3-back.Visible {
		t.Fatalf("cancelled task %+v; source %+v, dlq %+v", task, back, left)
	}
}

func TestMoveTaskResumesAfterRestart(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "q.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	deadLetterThree(t, s)
	if _, err := s.StartMoveTask(s.ARN("dlq.fifo"), s.ARN("other.fifo"), 0); !errors.Is(err, ErrResourceNotFound) {
		t.Fatalf("missing destination: %v", err)
	}
	mustCreate(t, s, "other.fifo", fifoAttrs())
	if _, err := s.StartMoveTask(s.ARN("dlq.fifo"), s.ARN("other.fifo"), 1); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTestStore(t, path, nil)
	task := waitTask(t, s, s.ARN("dlq.fifo"), func(m MoveTask) bool { return m.Status == MoveCompleted })
	got := receive(t, s, "other.fifo", 10, time.Minute)
	if task.Moved != 3 || !equal(bodies(got), []string{"p1", "p2", "p3"}) {
		t.Fatalf("resumed task %+v delivered %v", task, bodies(got))
	}
}

func TestStandardQueueHasNoGroupLock(t *testing.T) {
	t.Parallel()
	s := openTestStore(t, filepath.Join(t.TempDir(), "q.db"), nil)
	mustCreate(t, s, "std", nil)
	for _, b := range []string{"1", "2", "3"} {
		if _, err := s.Send("std", SendInput{Body: b}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Send("std", SendInput{Body: "x", DeduplicationID: "d"}); !errors.Is(err, ErrInvalidParameterValue) {
		t.Fatalf("dedup id on a standard queue: %v", err)
	}
	a := receive(t, s, "std", 1, time.Minute)
	b := receive(t, s, "std", 10, time.Minute)
	if len(a) != 1 || len(b) != 2 || a[0].SequenceNumber != "" {
		t.Fatalf("standard receive: %v then %v", bodies(a), bodies(b))
	}
}

func TestPurgeAndDeleteQueuePersist(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "q.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, "keep.fifo", fifoAttrs())
	mustCreate(t, s, "gone.fifo", fifoAttrs())
	mustSend(t, s, "keep.fifo", "g", "purged")
	if err := s.Purge("keep.fifo"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteQueue("gone.fifo"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openTestStore(t, path, nil)
	if names := s.QueueNames(""); !equal(names, []string{"keep.fifo"}) {
		t.Fatalf("queues after restart: %v", names)
	}
	if st, _ := s.Stats("keep.fifo"); st != (Stats{}) {
		t.Fatalf("purged queue after restart: %+v", st)
	}
	// The deduplication window outlives the purge, as on SQS.
	if r := mustSend(t, s, "keep.fifo", "g", "purged"); !r.Duplicate {
		t.Fatalf("resend within the window after purge: %+v", r)
	}
}
