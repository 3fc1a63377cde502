package statemachine

import (
	"context"
	"testing"
)

// An execution is listed as RUNNING from its start until it ends, with its
// route and group, and filters apply; then only the history has it.
func TestRunningExecutions(t *testing.T) {
	t.Parallel()
	entered, release := make(chan struct{}), make(chan struct{})
	inv := InvokerFunc(func(context.Context, string, []byte) ([]byte, error) {
		entered <- struct{}{}
		<-release
		return []byte(`{}`), nil
	})
	h := &MemoryHistory{}
	r := &Runner{Invoker: inv, History: h}
	m := compileJSON(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f","Payload":{}},"End":true}}}`)
	done := make(chan *Execution)
	go func() {
		e, err := r.Execute(context.Background(), m, "slow-one", []byte(`{"route":"orders","group":"g1"}`))
		if err != nil {
			t.Error(err)
		}
		done <- e
	}()
	<-entered

	running := r.Running(Filter{})
	if len(running) != 1 || running[0].Status != StatusRunning || running[0].Name != "slow-one" ||
		running[0].Route != "orders" || running[0].Group != "g1" || running[0].Start.IsZero() || running[0].Events != nil {
		t.Fatalf("running %+v", running)
	}
	if n := len(r.Running(Filter{Route: "invoices"})); n != 0 {
		t.Errorf("route filter: %d running", n)
	}
	if n := len(r.Running(Filter{Group: "g1", Status: StatusFailed})); n != 1 {
		t.Errorf("group filter (status ignored): %d running, want 1", n)
	}
	if list, _ := h.List(context.Background(), Filter{}); len(list) != 0 {
		t.Errorf("the history lists a running execution: %+v", list)
	}

	close(release)
	e := <-done
	if e.Status != StatusSucceeded {
		t.Errorf("status %s", e.Status)
	}
	if n := len(r.Running(Filter{})); n != 0 {
		t.Errorf("%d running after the end", n)
	}
}
