// Package fifo is the local twin's embedded, crash-safe message queue with
// Amazon SQS semantics — FIFO queues first (message groups, deduplication,
// sequence numbers, dead-letter queues, redrive), standard queues as the
// degenerate case where every message is its own group.
//
// # Semantics (checked against the SQS documentation)
//
//   - Order per group and the in-flight lock: Receive returns the oldest
//     messages of groups with nothing in flight, as many of one group as fit
//     before the next group ("first attempts to return as many messages with
//     the same message group ID as possible"), and nothing of a group while
//     one of its messages is in flight. (SQS looks only at the first 20,000
//     messages to find available groups; the twin looks at all of them.)
//   - Deduplication: an explicit MessageDeduplicationId, or the SHA-256 of
//     the body with ContentBasedDeduplication, is remembered for five minutes
//     even after the message is deleted; a duplicate is acknowledged with the
//     original MessageId and sequence number and not enqueued.
//     DeduplicationScope messageGroup scopes ids to their group.
//   - Visibility: queue default, per-receive override, ChangeVisibility (0
//     makes a message visible at once); ApproximateReceiveCount and
//     ApproximateFirstReceiveTimestamp as SQS reports them. Delete with a
//     stale receipt handle succeeds and deletes nothing (API_DeleteMessage).
//   - Dead-letter queues: a message already received maxReceiveCount times
//     moves to the RedrivePolicy's queue when it would be received again. It
//     keeps its id, group, body, attributes and receive count; on FIFO its
//     deduplication id becomes its message id and its retention restarts
//     ("the enqueue timestamp resets"); DeadLetterQueueSourceArn names the
//     source.
//   - Retention: messages older than MessageRetentionPeriod disappear.
//   - Message move tasks (StartMoveTask): a DLQ is redriven in the
//     background, to each message's source queue or to a destination, at a
//     rate; moved messages are new messages (new id, receive count 0), and
//     the task survives restarts. A task moves what the DLQ held when it
//     started, each message once (SQS fixes ApproximateNumberOfMessagesToMove
//     at the start; whether it moves later arrivals AWS does not say, and the
//     twin does not): a message it moved that fails and is parked again is
//     not moved again.
//
// # Storage: bbolt, with group commit
//
// The store is one go.etcd.io/bbolt file. bbolt was chosen over SQLite
// (modernc.org/sqlite) because the queue needs nothing relational: ordered
// keys per queue (big-endian sequence numbers, so a cursor walks FIFO order),
// a handful of buckets, one writer. It is pure Go, a single file, and every
// committed transaction is fdatasync'd — the durability point is exactly
// "Update returned". SQLite would bring a SQL layer, a transpiled C engine
// several times bbolt's size, and WAL tuning for the same guarantee.
//
// Layout: bucket "queues" (name → attributes), "seq" (name → next sequence
// number), "tasks" (move tasks), and per queue "q/<name>" with "m" (sequence
// → immutable message record), "s" (sequence → receive state, small and
// rewritten on every receive) and "d" (deduplication id → entry). Everything
// is also held in memory; the file is read only at Open.
//
// Every mutation — Send, Receive (receive count and invisibility are made
// durable before the messages are returned, so a crash neither loses a
// receive count nor makes an in-flight group deliver out of order), Delete,
// ChangeVisibility, dead-letter and redrive moves — is applied in memory
// under one mutex and queued, in the same order, to a committer goroutine
// that writes everything queued into one transaction and fsyncs once. A lone
// caller pays one fsync; concurrent callers share one (group commit), which
// is what turns a few hundred fsyncs a second into thousands of messages a
// second. A message is not delivered before its commit is on disk.
//
// Measured on the shared 2-core build machine (go test -bench ., 1 KiB
// bodies; ranges over runs, as fsync latency there varied from 1 to 5 ms):
// durable Send 190-1,000 msgs/s from one sender (one fsync each); 1,500-3,100
// msgs/s from 16 concurrent senders (8-16 sends share a commit);
// Receive(10) + DeleteBatch 1,000-3,300 msgs/s from one consumer. Through
// sqsapi with the AWS SDK v2 over loopback HTTP: 130-385, 400-1,300 and
// 1,300-1,960 msgs/s. The time goes to fsync: the CPU is mostly idle.
//
// The crash test (crash_test.go) kills a loaded writer with SIGKILL at random
// points and checks that every acknowledged send survives, in group order,
// and no acknowledged delete is undone.
package fifo
