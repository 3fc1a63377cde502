package main

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/testkit/testenv"
)

// syncBuffer is a bytes.Buffer safe to read while run writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestExampleConfigRuns is the README's first command: the example config
// and the committed workflows start, the demo target is on (the example's
// targets are example.com hosts), a webhook is delivered, and an interrupt
// stops the twin cleanly.
func TestExampleConfigRuns(t *testing.T) {
	root := testenv.RepoRoot(t)
	var stdout, stderr syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"-config", filepath.Join(root, "config", "routes.yaml"), "-workflows", filepath.Join(root, "workflows"),
			"-data", filepath.Join(t.TempDir(), "twin.db"), "-addr", "127.0.0.1:0"}, &stdout, &stderr)
	}()
	var base string
	deadline := time.Now().Add(30 * time.Second)
	for base == "" {
		select {
		case code := <-done:
			t.Fatalf("run exited %d\n%s\n%s", code, stdout.String(), stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no banner:\n%s\n%s", stdout.String(), stderr.String())
		}
		for _, line := range strings.Split(stdout.String(), "\n") {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "web page"); ok {
				base = strings.TrimSuffix(strings.TrimSpace(rest), "/")
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(stdout.String(), "demo target") {
		t.Errorf("the demo target is not on with the example config:\n%s", stdout.String())
	}
	req, _ := http.NewRequest("POST", base+"/hooks/approval-progress", strings.NewReader(`{"step":1}`))
	req.Header.Set("X-Approval-Request-Id", "req-1")
	req.Header.Set("X-Delivery-Id", "dlv-1")
	req.Header.Set("X-Event-Type", "approval.step")
	req.Header.Set("X-Workflow-Signature", "unchecked-locally")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("post: %v %v", resp, err)
	}
	resp.Body.Close()
	for !strings.Contains(stderr.String(), "demo target: delivery") {
		if time.Now().After(deadline) {
			t.Fatalf("not delivered:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d after the interrupt\n%s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "the store is closed") {
		t.Errorf("no clean stop:\n%s", stdout.String())
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"-nope"}, 2, "flag provided but not defined"},
		{[]string{"extra"}, 2, `unexpected argument "extra"`},
		{[]string{"-demo-fail-rate", "2"}, 2, "between 0 and 1"},
		{[]string{"-config", "/nonexistent/routes.yaml"}, 1, "/nonexistent/routes.yaml"},
	} {
		var stdout, stderr syncBuffer
		if code := run(context.Background(), tc.args, &stdout, &stderr); code != tc.code || !strings.Contains(stderr.String(), tc.msg) {
			t.Errorf("run %q: exit %d, stderr %q; want %d and %q", tc.args, code, stderr.String(), tc.code, tc.msg)
		}
	}
}

func TestAllExampleTargets(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		targets []string
		want    bool
	}{
		{[]string{"https://sales-support.internal.example.com/x", "https://example.org"}, true},
		{[]string{"http://app.test:8080/", "https://x.invalid"}, true},
		{[]string{"https://app.example.com", "https://api.mycompany.com"}, false},
		{[]string{"http://127.0.0.1:3000"}, false},
		{[]string{"https://notexample.com"}, false},
		{nil, false},
	} {
		cfg := &config.Config{}
		for _, u := range tc.targets {
			cfg.Routes = append(cfg.Routes, config.Route{TargetURL: u})
		}
		if got := allExampleTargets(cfg); got != tc.want {
			t.Errorf("allExampleTargets(%q) = %v, want %v", tc.targets, got, tc.want)
		}
	}
}
