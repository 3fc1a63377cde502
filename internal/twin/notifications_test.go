package twin

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestNotificationsSurviveReopening: the notifications are kept in the
// history file, newest first, the oldest dropped beyond the limit.
func TestNotificationsSurviveReopening(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "twin-history.db")
	open := func() (*bolt.DB, *notifications) {
		db, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		n, err := openNotifications(db, 3)
		if err != nil {
			t.Fatal(err)
		}
		return db, n
	}
	ids := func(list []Notification) []string {
		var out []string
		for _, x := range list {
			out = append(out, x.WebhookID)
		}
		return out
	}
	db, n := open()
	for i := range 5 {
		if err := n.add(Notification{WebhookID: fmt.Sprint("w", i), Cause: "target answered 400", HeadedForDLQ: true}); err != nil {
			t.Fatal(err)
		}
	}
	if got := ids(n.newestFirst()); !slices.Equal(got, []string{"w4", "w3", "w2"}) {
		t.Fatalf("kept %v", got)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, n = open()
	defer db.Close()
	got := n.newestFirst()
	if !slices.Equal(ids(got), []string{"w4", "w3", "w2"}) || got[0].Cause != "target answered 400" || !got[0].HeadedForDLQ {
		t.Fatalf("after reopening: %+v", got)
	}
}
