package redrive

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
)

// snapshot fixes the messages a run may act on when it starts: those the DLQ
// held then. Without it a permanently failing webhook loops — the run moves
// it back, the forwarder parks it again within milliseconds as a new DLQ
// message, and the run, still draining the DLQ, moves it again.
//
// Two rules, either of which keeps a message out:
//
//   - Arrival: a DLQ message whose SentTimestamp is at or after the cutoff
//     landed during the run. The cutoff is the SQS server's clock when the run
//     started (the Date header of its first answer, which has whole seconds,
//     rounded up), so client clock skew does not matter; a message parked in
//     that same second, before the run started or just after, may still be
//     acted on. Either way the messages a run may act on are finite, so every
//     run ends.
//   - Own copies: every copy the run sends back is remembered by its group,
//     body, webhook id and raised redrive count; the forwarder parks a
//     failing copy with exactly those (a new message id, the same attributes),
//     and SQS's redrive policy moves the copy itself. Such a message is never
//     moved again by the run, even inside the cutoff's second.
type snapshot struct {
	cutoff time.Time
	copies map[string]bool
}

// newSnapshot starts a snapshot at serverNow, which has whole seconds when it
// comes from a Date header: the cutoff is the end of that second.
func newSnapshot(serverNow time.Time) *snapshot {
	return &snapshot{cutoff: serverNow.Truncate(time.Second).Add(time.Second), copies: map[string]bool{}}
}

// arrivedDuringRun reports whether m landed in the DLQ after the run began. A
// message without a SentTimestamp counts as there before.
func (s *snapshot) arrivedDuringRun(m Message) bool {
	return !m.SentAt.IsZero() && !m.SentAt.Before(s.cutoff)
}

// sent remembers the copy of m the run sent back with redrive count count.
func (s *snapshot) sent(m Message, count int) { s.copies[copyKey(m, count)] = true }

// ownCopy reports whether m is a copy this run sent back, parked again.
func (s *snapshot) ownCopy(m Message) bool { return s.copies[copyKey(m, m.RedriveCount)] }

func copyKey(m Message, redriveCount int) string {
	h := sha256.New()
	for _, part := range []string{m.Group, m.WebhookID, strconv.Itoa(redriveCount), m.Body} {
		h.Write([]byte(strconv.Itoa(len(part))))
		h.Write([]byte{':'})
		h.Write([]byte(part))
	}
	return hex.EncodeToString(h.Sum(nil))
}
