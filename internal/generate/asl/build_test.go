package asl

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/webhook"
)

// forEachWorkflow runs f on the workflow of every route of every build case.
func forEachWorkflow(t *testing.T, f func(t *testing.T, cfg *config.Config, r config.Route, sm StateMachine)) {
	t.Helper()
	for name, cfg := range buildCases(t) {
		for _, r := range cfg.Routes {
			t.Run(name+"/"+r.Name, func(t *testing.T) {
				t.Parallel()
				f(t, cfg, r, Build(cfg, r))
			})
		}
	}
}

func TestBuildIsValid(t *testing.T) {
	t.Parallel()
	forEachWorkflow(t, func(t *testing.T, _ *config.Config, _ config.Route, sm StateMachine) {
		if err := Validate(sm); err != nil {
			t.Fatal(err)
		}
	})
}

func TestBuildEveryTaskRetriesAndCatches(t *testing.T) {
	t.Parallel()
	forEachWorkflow(t, func(t *testing.T, _ *config.Config, _ config.Route, sm StateMachine) {
		tasks := 0
		for name, s := range sm.States {
			if s.Type != TypeTask {
				continue
			}
			tasks++
			if len(s.Retry) == 0 {
				t.Errorf("%s: no Retry", name)
			}
			if len(s.Catch) == 0 || !slices.Equal(s.Catch[len(s.Catch)-1].ErrorEquals, []string{ErrorAll}) {
				t.Errorf("%s: Catch does not end with States.ALL: %+v", name, s.Catch)
			}
			if s.TimeoutSeconds == 0 {
				t.Errorf("%s: no TimeoutSeconds", name)
			}
			// The last retriers are config.LambdaRetries, in order.
			if len(s.Retry) < len(config.LambdaRetries) {
				t.Fatalf("%s: %d retriers, fewer than config.LambdaRetries", name, len(s.Retry))
			}
			for i, lr := range config.LambdaRetries {
				got := s.Retry[len(s.Retry)-len(config.LambdaRetries)+i]
				if !slices.Equal(got.ErrorEquals, lr.Errors) || got.EffectiveMaxAttempts() != lr.Retry.MaxAttempts-1 ||
					got.EffectiveIntervalSeconds() != int(lr.Retry.Interval.Seconds()) || got.EffectiveBackoffRate() != lr.Retry.BackoffRate ||
					got.MaxDelaySeconds != config.WholeSeconds(lr.Retry.MaxDelay) || got.JitterStrategy != string(lr.Retry.Jitter) {
					t.Errorf("%s: retrier %+v does not match config.LambdaRetries' %s %+v", name, got, lr.Name, lr.Retry)
				}
			}
			for _, r := range s.Retry {
				for _, e := range r.ErrorEquals {
					// Any of these would retry Webhook.Permanent.
					if e == webhook.ErrPermanent || e == ErrorAll || e == "States.TaskFailed" {
						t.Errorf("%s: retries %s", name, e)
					}
				}
			}
		}
		if tasks == 0 {
			t.Fatal("no Task state")
		}
	})
}

func TestBuildDeliverFollowsRetryPolicy(t *testing.T) {
	t.Parallel()
	forEachWorkflow(t, func(t *testing.T, _ *config.Config, r config.Route, sm StateMachine) {
		d := sm.States[StateDeliver]
		budget := config.ComputeRouteBudget(r)
		if d.TimeoutSeconds != config.WholeSeconds(config.TaskTimeout(r.Timeout)) || d.TimeoutSeconds*1e9 != int(budget.TaskTimeout) {
			t.Errorf("Deliver TimeoutSeconds = %d, want the budget's task timeout %v", d.TimeoutSeconds, budget.TaskTimeout)
		}
		if sm.TimeoutSeconds != config.WholeSeconds(budget.WorstExecution) {
			t.Errorf("TimeoutSeconds = %d, want the worst execution %v", sm.TimeoutSeconds, budget.WorstExecution)
		}
		if d.Parameters["FunctionName"] != Placeholder(DeliverFunctionARNVar) {
			t.Errorf("Deliver FunctionName = %v", d.Parameters["FunctionName"])
		}
		if r.Retry.MaxAttempts == 1 {
			if len(d.Retry) != len(config.LambdaRetries) {
				t.Fatalf("max_attempts 1: Retry = %+v, want only the retriers of Lambda's own errors", d.Retry)
			}
			return
		}
		first := d.Retry[0]
		want := []string{webhook.ErrRetryable}
		if slices.Contains(r.Retry.On, config.OutcomeTimeout) {
			want = append(want, "States.Timeout")
		}
		if !slices.Equal(first.ErrorEquals, want) {
			t.Errorf("ErrorEquals = %v, want %v", first.ErrorEquals, want)
		}
		if got := first.EffectiveMaxAttempts(); got != r.Retry.MaxAttempts-1 {
			t.Errorf("MaxAttempts = %d, want %d", got, r.Retry.MaxAttempts-1)
		}
		if got := first.EffectiveIntervalSeconds(); got*1e9 != int(r.Retry.Interval) {
			t.Errorf("IntervalSeconds = %d, want %v", got, r.Retry.Interval)
		}
		if got := first.EffectiveBackoffRate(); got != r.Retry.BackoffRate {
			t.Errorf("BackoffRate = %g, want %g", got, r.Retry.BackoffRate)
		}
		if first.MaxDelaySeconds*1e9 != int(r.Retry.MaxDelay) {
			t.Errorf("MaxDelaySeconds = %d, want %v", first.MaxDelaySeconds, r.Retry.MaxDelay)
		}
		if first.JitterStrategy != string(r.Retry.Jitter) {
			t.Errorf("JitterStrategy = %q, want %q", first.JitterStrategy, r.Retry.Jitter)
		}
	})
}

func TestBuildFailureBranchFollowsNotifyPolicy(t *testing.T) {
	t.Parallel()
	forEachWorkflow(t, func(t *testing.T, _ *config.Config, r config.Route, sm StateMachine) {
		caught := sm.States[StateDeliver].Catch[0]
		if caught.ResultPath != PathOf(PathError) {
			t.Errorf("Deliver Catch ResultPath = %+v, want %s", caught.ResultPath, PathError)
		}
		_, hasChoice := sm.States[StateShouldNotify]
		notify, hasNotify := sm.States[StateNotify]
		switch r.Notify.When {
		case config.NotifyNever:
			if hasNotify || hasChoice || caught.Next != StateRethrow {
				t.Errorf("never: Catch → %s, Notify %v, ShouldNotify %v; want straight to Rethrow", caught.Next, hasNotify, hasChoice)
			}
		case config.NotifyEveryFailure:
			if !hasNotify || hasChoice || caught.Next != StateNotify {
				t.Errorf("every_failure: Catch → %s, ShouldNotify %v; want straight to Notify", caught.Next, hasChoice)
			}
		case config.NotifyFinal:
			choice := sm.States[StateShouldNotify]
			if !hasNotify || caught.Next != StateShouldNotify || choice.Default != StateRethrow ||
				len(choice.Choices) != 2 || choice.Choices[0].Next != StateNotify || choice.Choices[1].Next != StateNotify ||
				choice.Choices[1].Variable != PathError+".Error" || choice.Choices[1].StringEquals == nil || *choice.Choices[1].StringEquals != webhook.ErrPermanent {
				t.Errorf("final: Catch → %s, ShouldNotify %+v", caught.Next, choice)
			}
		}
		if hasNotify {
			if notify.Next != StateRethrow || len(notify.Catch) != 1 || notify.Catch[0].Next != StateRethrow {
				t.Errorf("Notify does not always lead to Rethrow: %+v", notify)
			}
			if rp := notify.Catch[0].ResultPath; rp == PathOf(PathError) || rp.IsZero() || rp.Null {
				t.Errorf("Notify Catch ResultPath %+v would replace or lose the original error", rp)
			}
			if notify.TimeoutSeconds != config.WholeSeconds(config.NotifyTaskTimeout()) {
				t.Errorf("Notify TimeoutSeconds = %d, want %v", notify.TimeoutSeconds, config.NotifyTaskTimeout())
			}
		}
		rethrow := sm.States[StateRethrow]
		if rethrow.ErrorPath != PathError+".Error" || rethrow.CausePath != PathError+".Cause" {
			t.Errorf("Rethrow = %+v", rethrow)
		}
	})
}

// TestBuildPayloadsMatchWireContract checks that the Payload templates name
// exactly the JSON fields of webhook.DeliverRequest and webhook.NotifyRequest.
func TestBuildPayloadsMatchWireContract(t *testing.T) {
	t.Parallel()
	sm := Build(exampleConfig(), exampleConfig().Routes[0])
	for state, typ := range map[string]reflect.Type{
		StateDeliver: reflect.TypeFor[webhook.DeliverRequest](),
		StateNotify:  reflect.TypeFor[webhook.NotifyRequest](),
	} {
		payload := sm.States[state].Parameters["Payload"].(map[string]any)
		var got, want []string
		for k := range payload {
			got = append(got, strings.TrimSuffix(k, ".$"))
		}
		for i := range typ.NumField() {
			want = append(want, strings.Split(typ.Field(i).Tag.Get("json"), ",")[0])
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s Payload fields %v, want the fields of %v: %v", state, got, typ, want)
		}
	}
}

func TestMarshalDeterministicRoundTrip(t *testing.T) {
	t.Parallel()
	forEachWorkflow(t, func(t *testing.T, _ *config.Config, _ config.Route, sm StateMachine) {
		b, err := Marshal(sm)
		if err != nil {
			t.Fatal(err)
		}
		for range 5 {
			again, err := Marshal(sm)
			if err != nil || !bytes.Equal(b, again) {
				t.Fatalf("Marshal is not deterministic (err %v)", err)
			}
		}
		if !bytes.HasPrefix(b, []byte("{\n  \"Comment\": ")) || !bytes.HasSuffix(b, []byte("}\n")) {
			t.Errorf("want Comment first and a trailing newline:\n%s", b)
		}
		if !strings.Contains(sm.Comment, "go run ./cmd/generate") || !strings.Contains(sm.Comment, "do not edit") {
			t.Errorf("Comment does not say the file is generated: %q", sm.Comment)
		}
		// The states appear in reading order, StartAt first.
		if i, j := bytes.Index(b, []byte(`"Deliver": {`)), bytes.Index(b, []byte(`"Rethrow": {`)); i < 0 || j < i {
			t.Errorf("Deliver should come before Rethrow:\n%s", b)
		}
		back, err := Unmarshal(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, sm) {
			t.Errorf("round trip changed the machine:\n got %+v\nwant %+v", back, sm)
		}
	})
}

// TestWorkflowRendersUnderTemplatefile: Terraform's templatefile interprets
// "${" and "%{" anywhere in the file, so only the two ARN placeholders may
// contain them.
func TestWorkflowRendersUnderTemplatefile(t *testing.T) {
	t.Parallel()
	forEachWorkflow(t, func(t *testing.T, _ *config.Config, r config.Route, sm StateMachine) {
		b, err := Marshal(sm)
		if err != nil {
			t.Fatal(err)
		}
		rest := string(b)
		for _, v := range TemplateVars {
			rest = strings.ReplaceAll(rest, Placeholder(v), "")
		}
		for _, seq := range []string{"${", "%{"} {
			if strings.Contains(rest, seq) {
				t.Errorf("%q outside the ARN placeholders:\n%s", seq, b)
			}
		}
		if !strings.Contains(string(b), Placeholder(DeliverFunctionARNVar)) {
			t.Error("no deliver ARN placeholder")
		}
		if got := strings.Contains(string(b), Placeholder(NotifyFunctionARNVar)); got != (r.Notify.When != config.NotifyNever) {
			t.Errorf("notify ARN placeholder present = %v with notify.when %s", got, r.Notify.When)
		}
	})
}

func TestUnmarshalRejectsUnknownFields(t *testing.T) {
	t.Parallel()
	for name, def := range map[string]string{
		"top level":    `{"StartAt":"A","Version":"1.0","States":{"A":{"Type":"Succeed"}}}`,
		"state":        `{"StartAt":"A","States":{"A":{"Type":"Map","ItemProcessor":{},"End":true}}}`,
		"retrier":      `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"r","End":true,"Retry":[{"ErrorEquals":["X"],"Jitter":"FULL"}]}}}`,
		"trailing":     `{"StartAt":"A","States":{"A":{"Type":"Succeed"}}} {}`,
		"empty path":   `{"StartAt":"A","States":{"A":{"Type":"Succeed","OutputPath":""}}}`,
		"numeric path": `{"StartAt":"A","States":{"A":{"Type":"Succeed","OutputPath":1}}}`,
	} {
		if _, err := Unmarshal([]byte(def)); err == nil {
			t.Errorf("%s: Unmarshal accepted %s", name, def)
		}
	}
}

func TestUnmarshalNullAndAbsentPaths(t *testing.T) {
	t.Parallel()
	sm, err := Unmarshal([]byte(`{"StartAt":"A","States":{"A":{"Type":"Pass","ResultPath":null,"OutputPath":"$.x","End":true}}}`))
	if err != nil {
		t.Fatal(err)
	}
	a := sm.States["A"]
	if a.ResultPath != NullPath() || a.OutputPath != PathOf("$.x") || !a.InputPath.IsZero() {
		t.Errorf("paths decoded as %+v / %+v / %+v", a.ResultPath, a.OutputPath, a.InputPath)
	}
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"Type":"Pass","ResultPath":null,"OutputPath":"$.x","End":true}`; string(b) != want {
		t.Errorf("re-encoded as %s, want %s", b, want)
	}
}

// TestExampleFixtureMatchesRoutesYAML keeps exampleConfig, which the tests
// vary field by field, equal to what the loader makes of config/routes.yaml.
func TestExampleFixtureMatchesRoutesYAML(t *testing.T) {
	t.Parallel()
	loaded, fixture := loadRoutesYAML(t), exampleConfig()
	if len(loaded.Routes) != len(fixture.Routes) {
		t.Fatalf("routes.yaml has %d routes, the fixture %d", len(loaded.Routes), len(fixture.Routes))
	}
	for i, r := range loaded.Routes {
		want, err := Marshal(Build(loaded, r))
		if err != nil {
			t.Fatal(err)
		}
		got, err := Marshal(Build(fixture, fixture.Routes[i]))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("route %s: the fixture builds\n%s\nroutes.yaml builds\n%s", r.Name, got, want)
		}
	}
}
