package statemachine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/generate"
	bolt "go.etcd.io/bbolt"
)

func openBolt(t testing.TB, file string) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(file, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// historyStores runs a test against every HistoryStore, each keeping 3.
func historyStores(t *testing.T, test func(t *testing.T, h HistoryStore)) {
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		test(t, &MemoryHistory{Keep: 3})
	})
	t.Run("bolt", func(t *testing.T) {
		t.Parallel()
		db := openBolt(t, filepath.Join(t.TempDir(), "twin.db"))
		t.Cleanup(func() { db.Close() })
		h, err := NewBoltHistory(db, 3)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		test(t, h)
	})
}

func TestHistoryStores(t *testing.T) {
	t.Parallel()
	historyStores(t, func(t *testing.T, h HistoryStore) {
		ctx := context.Background()
		// Four executions of a real workflow, through the runner.
		runs := []struct {
			final   bool
			deliver string
			group   string
		}{
			{false, outcomeOK, "g1"}, {false, outcomePermanent, "g1"}, {false, outcomeOK, "g2"}, {true, outcomePermanent, "g2"},
		}
		var arns []string
		for _, run := range runs {
			clock := newVirtualClock()
			r := &Runner{Invoker: newScriptedFunctions(clock, []string{run.deliver}, []string{outcomeOK}), Clock: clock, History: h}
			input := strings.Replace(string(envelope(t, run.final)), `"group":"req-7"`, fmt.Sprintf(`"group":%q`, run.group), 1)
			exec, err := r.Execute(ctx, generatedMachine(t, config.NotifyFinal), "", []byte(input))
			if err != nil {
				t.Fatal(err)
			}
			arns = append(arns, exec.ARN)
		}
		// Keep 3: the first is gone.
		if _, err := h.Get(ctx, arns[0]); !errors.Is(err, ErrNotFound) {
			t.Errorf("oldest execution: %v, want ErrNotFound", err)
		}
		got, err := h.Get(ctx, arns[3])
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != StatusFailed || got.Group != "g2" || len(got.Events) == 0 || got.Events[0].Type != EventExecutionStarted {
			t.Errorf("Get: status %s group %s events %v", got.Status, got.Group, eventTypes(got))
		}
		list := func(f Filter) []string {
			es, err := h.List(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, e := range es {
				if e.Events != nil {
					t.Errorf("List returned events")
				}
				out = append(out, e.ARN)
			}
			return out
		}
		for _, tc := range []struct {
			name string
			f    Filter
			want []string
		}{
			{"all, newest first", Filter{}, []string{arns[3], arns[2], arns[1]}},
			{"limit", Filter{Limit: 2}, []string{arns[3], arns[2]}},
			{"group", Filter{Group: "g1"}, []string{arns[1]}},
			{"status", Filter{Status: StatusSucceeded}, []string{arns[2]}},
			{"route and status", Filter{Route: "approval-progress", Status: StatusFailed}, []string{arns[3], arns[1]}},
			{"state machine", Filter{StateMachine: "other"}, nil},
		} {
			if got := list(tc.f); !slices.Equal(got, tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
			}
		}
	})
}

func TestBoltHistorySurvivesReopen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "twin.db")
	db := openBolt(t, file)
	h, err := NewBoltHistory(db, 2)
	if err != nil {
		t.Fatal(err)
	}
	run := func(h HistoryStore) (*Execution, error) {
		clock := newVirtualClock()
		r := &Runner{Invoker: newScriptedFunctions(clock, []string{outcomeRetryable, outcomeOK}, nil), Clock: clock, History: h}
		return r.Execute(ctx, generatedMachine(t, config.NotifyFinal), "", envelope(t, false))
	}
	var want []*Execution
	for range 3 {
		exec, err := run(h)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, exec)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := run(h); !errors.Is(err, ErrHistoryClosed) {
		t.Errorf("append after Close: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openBolt(t, file)
	defer db.Close()
	h, err = NewBoltHistory(db, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	got, err := h.Get(ctx, want[2].ARN)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(eventTypes(got), eventTypes(want[2])) || string(got.Output) != string(want[2].Output) || !got.Start.Equal(want[2].Start) {
		t.Errorf("reopened execution differs:\n%v\n%v", eventTypes(got), eventTypes(want[2]))
	}
	if got.Events[4].Type != EventRetryScheduled || got.Events[4].Wait != want[2].Events[4].Wait {
		t.Errorf("retry event lost its wait: %+v", got.Events[4])
	}
	list, err := h.List(ctx, Filter{})
	if err != nil || len(list) != 2 {
		t.Fatalf("after reopen: %d executions (%v), want 2", len(list), err)
	}
	// The count survives too: one more append still keeps 2.
	if _, err := run(h); err != nil {
		t.Fatal(err)
	}
	if list, _ := h.List(ctx, Filter{}); len(list) != 2 {
		t.Errorf("retention after reopen: %d executions", len(list))
	}
}

func TestLoadWorkflowsDetectsStaleFiles(t *testing.T) {
	t.Parallel()
	cfg, route := testConfig(config.NotifyFinal)
	expected, err := generate.Files(cfg)
	if err != nil {
		t.Fatal(err)
	}
	file := generate.WorkflowPath(route.Name)
	write := func(t *testing.T, files map[string][]byte) string {
		root := t.TempDir()
		dir := filepath.Join(root, "workflows")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range files {
			if err := os.WriteFile(filepath.Join(root, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	fresh := expected[file]
	cases := []struct {
		name    string
		files   map[string][]byte
		wantErr string
	}{
		{"fresh", map[string][]byte{file: fresh}, ""},
		{"edited", map[string][]byte{file: append(append([]byte{}, fresh...), ' ')}, file + " is stale: run go run ./cmd/generate"},
		{"missing", map[string][]byte{}, file + " is missing: run go run ./cmd/generate"},
		{"left over", map[string][]byte{file: fresh, "workflows/gone.asl.json": fresh}, "workflows/gone.asl.json is stale (no route generates it): run go run ./cmd/generate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := write(t, tc.files)
			ws, err := LoadWorkflows(dir, expected)
			if tc.wantErr != "" {
				var stale *StaleError
				if !errors.As(err, &stale) || err.Error() != tc.wantErr {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(ws) != 1 || ws[0].Route != route.Name || ws[0].File != file {
				t.Fatalf("loaded %+v", ws)
			}
			machines, err := Load(dir, expected, func(r string) string {
				rt, _ := cfg.Route(r)
				return cfg.StateMachineName(rt)
			}, localFunctions())
			if err != nil {
				t.Fatal(err)
			}
			if m := machines[route.Name]; m == nil || m.Name != "sales-approvals-approval-progress" || string(m.Source) != string(fresh) {
				t.Fatalf("Load: %+v", machines)
			}
		})
	}
}

func TestBoltHistoryConcurrentAppends(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openBolt(t, filepath.Join(t.TempDir(), "twin.db"))
	defer db.Close()
	h, err := NewBoltHistory(db, 40)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	const n = 100
	errs := make(chan error, n)
	for i := range n {
		go func() {
			errs <- h.Append(ctx, &Execution{ARN: fmt.Sprintf("arn:%03d", i), Group: fmt.Sprint(i % 2), Status: StatusSucceeded})
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	// Get and List see every append before them; 40 are kept.
	list, err := h.List(ctx, Filter{})
	if err != nil || len(list) != 40 {
		t.Fatalf("kept %d (%v), want 40", len(list), err)
	}
	for _, e := range list {
		if got, err := h.Get(ctx, e.ARN); err != nil || got.ARN != e.ARN {
			t.Errorf("Get(%s): %v", e.ARN, err)
		}
	}
	if err := h.Append(ctx, &Execution{ARN: "arn:last"}); err != nil {
		t.Fatal(err)
	}
	if list, _ := h.List(ctx, Filter{Limit: 1}); len(list) != 1 || list[0].ARN != "arn:last" {
		t.Errorf("newest first: %+v", list)
	}
}
