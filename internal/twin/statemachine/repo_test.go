package statemachine

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/generate"
	"github.com/webhookq/webhookq/internal/testkit/testenv"
)

// TestRepositoryWorkflowsRun loads the committed workflows/*.asl.json the way
// the twin does (checked against generate.Files for config/routes.yaml) and
// runs each route's workflow once, delivering and once failing on the final
// attempt.
func TestRepositoryWorkflowsRun(t *testing.T) {
	t.Parallel()
	root := testenv.RepoRoot(t)
	cfg, err := config.Load(filepath.Join(root, "config", "routes.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	expected, err := generate.Files(cfg)
	if err != nil {
		t.Fatal(err)
	}
	machines, err := Load(filepath.Join(root, generate.WorkflowsDir), expected, func(route string) string {
		r, _ := cfg.Route(route)
		return cfg.StateMachineName(r)
	}, localFunctions())
	if err != nil {
		t.Fatal(err)
	}
	if len(machines) != len(cfg.Routes) {
		t.Fatalf("%d workflows for %d routes", len(machines), len(cfg.Routes))
	}
	for _, r := range cfg.Routes {
		for _, tc := range []struct {
			deliver    string
			wantStatus Status
			wantNotify int
		}{{outcomeOK, StatusSucceeded, 0}, {outcomePermanent, StatusFailed, 1}} {
			clock := newVirtualClock()
			fns := newScriptedFunctions(clock, []string{tc.deliver}, []string{outcomeOK})
			exec, err := (&Runner{Invoker: fns, Clock: clock, Region: cfg.Region}).Execute(context.Background(), machines[r.Name], "", envelope(t, true))
			if err != nil {
				t.Fatal(err)
			}
			if exec.Status != tc.wantStatus || fns.callCount(notifyFunction) != tc.wantNotify {
				t.Errorf("route %s, deliver %s: %s with %d notifications, want %s with %d", r.Name, tc.deliver, exec.Status, fns.callCount(notifyFunction), tc.wantStatus, tc.wantNotify)
			}
		}
	}
}
