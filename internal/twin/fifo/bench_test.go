package fifo

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func benchStore(b *testing.B) *Store {
	b.Helper()
	s, err := Open(filepath.Join(b.TempDir(), "bench.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if err := s.CreateQueue("bench.fifo", map[string]string{AttrFifoQueue: "true", AttrContentBasedDeduplication: "true"}); err != nil {
		b.Fatal(err)
	}
	return s
}

// A 1 KiB body with two attributes, about a typical webhook.
var benchBody = strings.Repeat("x", 1024)

func benchSend(b *testing.B, s *Store, n int64, groups int) {
	body := fmt.Sprintf("%d%s", n, benchBody[:1000])
	_, err := s.Send("bench.fifo", SendInput{Body: body, GroupID: fmt.Sprint("g", n%int64(groups)),
		Attributes: map[string]Attribute{"webhook-id": {DataType: "String", StringValue: fmt.Sprint("wh-", n)}}})
	if err != nil {
		b.Fatal(err)
	}
}

func reportRate(b *testing.B, s *Store) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	if c := s.commits.commits.Load(); c > 0 {
		b.ReportMetric(float64(s.commits.requests.Load())/float64(c), "reqs/commit")
	}
}

// BenchmarkSendDurable: one sender, each Send fsync'd before it returns.
func BenchmarkSendDurable(b *testing.B) {
	s := benchStore(b)
	var n int64
	for b.Loop() {
		n++
		benchSend(b, s, n, 10)
	}
	reportRate(b, s)
}

// BenchmarkSendDurable16: 16 concurrent senders sharing group commits.
func BenchmarkSendDurable16(b *testing.B) {
	s := benchStore(b)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for range 16 {
		wg.Go(func() {
			for n := next.Add(1); n <= int64(b.N); n = next.Add(1) {
				benchSend(b, s, n, 100)
			}
		})
	}
	wg.Wait()
	reportRate(b, s)
}

// BenchmarkReceiveDelete: one consumer receives batches of 10 across 100
// groups and deletes each batch (DeleteMessageBatch); the queue is filled
// before the clock starts.
func BenchmarkReceiveDelete(b *testing.B) {
	s := benchStore(b)
	batch := make([]SendInput, 0, 10)
	for i := range b.N {
		batch = append(batch, SendInput{Body: fmt.Sprintf("%d%s", i, benchBody[:1000]), GroupID: fmt.Sprint("g", i%100)})
		if len(batch) == cap(batch) || i == b.N-1 {
			res, err := s.SendBatch("bench.fifo", batch)
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range res {
				if r.Err != nil {
					b.Fatal(r.Err)
				}
			}
			batch = batch[:0]
		}
	}
	vis, wait := time.Minute, time.Duration(0)
	b.ResetTimer()
	for done := 0; done < b.N; {
		msgs, err := s.Receive(context.Background(), "bench.fifo", ReceiveInput{MaxMessages: 10, VisibilityTimeout: &vis, WaitTime: &wait})
		if err != nil {
			b.Fatal(err)
		}
		if len(msgs) == 0 {
			b.Fatalf("queue ran dry after %d of %d", done, b.N)
		}
		handles := make([]string, len(msgs))
		for i, m := range msgs {
			handles[i] = m.ReceiptHandle
		}
		errs, err := s.DeleteBatch("bench.fifo", handles)
		if err != nil {
			b.Fatal(err)
		}
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
		done += len(msgs)
	}
	reportRate(b, s)
}
