package fifo

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/testkit/testclock"
)

// StatsBy counts per value of an attribute, by state, with the oldest
// message's send time: the twin's per-route backlog and its age.
func TestStatsBy(t *testing.T) {
	c := testclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	s := openTestStore(t, filepath.Join(t.TempDir(), "q.db"), c)
	mustCreate(t, s, "q.fifo", fifoAttrs())
	send := func(route, group, body string) {
		t.Helper()
		attrs := map[string]Attribute{}
		if route != "" {
			attrs["webhook-route"] = Attribute{DataType: "String", StringValue: route}
		}
		if _, err := s.Send("q.fifo", SendInput{Body: body, GroupID: group, Attributes: attrs}); err != nil {
			t.Fatal(err)
		}
	}
	send("orders", "g1", "a")
	c.Advance(time.Minute)
	send("orders", "g2", "b")
	send("refunds", "g3", "c")
	send("", "g4", "d")
	// g1's message is received (in flight); the others wait.
	if got := receive(t, s, "q.fifo", 1, 30*time.Second); len(got) != 1 || got[0].Body != "a" {
		t.Fatalf("received %v", bodies(got))
	}
	c.Advance(10 * time.Second)

	by, err := s.StatsBy("q.fifo", "webhook-route")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	want := map[string]GroupedStats{
		"orders":  {Stats: Stats{Visible: 1, InFlight: 1}, Oldest: start},
		"refunds": {Stats: Stats{Visible: 1}, Oldest: start.Add(time.Minute)},
		"":        {Stats: Stats{Visible: 1}, Oldest: start.Add(time.Minute)},
	}
	for k, w := range want {
		if g := by[k]; g.Stats != w.Stats || !g.Oldest.Equal(w.Oldest) {
			t.Errorf("%q: %+v, want %+v", k, g, w)
		}
	}
	if len(by) != len(want) {
		t.Errorf("%d keys, want %d: %v", len(by), len(want), by)
	}
	if _, err := s.StatsBy("nope.fifo", "webhook-route"); err == nil {
		t.Error("a missing queue is not an error")
	}
}
