package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
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

// started is cmd/local running in the test: its output, its exit code once
// it returns, and how to interrupt it.
type started struct {
	stdout, stderr *syncBuffer
	done           chan int
	stop           context.CancelFunc
}

// start runs cmd/local with the example config and the committed workflows,
// any free ports and a fresh data file, plus extra flags.
func start(t *testing.T, extra ...string) *started {
	t.Helper()
	root := testenv.RepoRoot(t)
	args := append([]string{"-config", filepath.Join(root, "config", "routes.yaml"), "-workflows", filepath.Join(root, "workflows"),
		"-data", filepath.Join(t.TempDir(), "twin.db"), "-addr", "127.0.0.1:0", "-control-addr", "127.0.0.1:0"}, extra...)
	ctx, cancel := context.WithCancel(context.Background())
	s := &started{stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan int, 1), stop: cancel}
	go func() { s.done <- run(ctx, args, s.stdout, s.stderr) }()
	t.Cleanup(cancel)
	return s
}

// bannerURL waits for the banner and returns the URL that follows prefix at
// the start of one of its lines.
func (s *started) bannerURL(t *testing.T, prefix string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case code := <-s.done:
			t.Fatalf("run exited %d\n%s\n%s", code, s.stdout.String(), s.stderr.String())
		default:
		}
		for _, line := range strings.Split(s.stdout.String(), "\n") {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(line), prefix); ok {
				return strings.TrimSuffix(strings.Fields(rest)[0], "/")
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no banner line %q:\n%s\n%s", prefix, s.stdout.String(), s.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestExampleConfigRuns is the README's first command: the example config
// and the committed workflows start, the demo target is on (the example's
// targets are example.com hosts), a webhook posted to the ingress address is
// delivered, and an interrupt stops the twin cleanly.
func TestExampleConfigRuns(t *testing.T) {
	s := start(t)
	base := s.bannerURL(t, "ingress (webhooks only) on")
	if !strings.Contains(s.stdout.String(), "demo target") {
		t.Errorf("the demo target is not on with the example config:\n%s", s.stdout.String())
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
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(s.stderr.String(), "demo target: delivery") {
		if time.Now().After(deadline) {
			t.Fatalf("not delivered:\n%s", s.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.stop()
	if code := <-s.done; code != 0 {
		t.Errorf("exit %d after the interrupt\n%s", code, s.stderr.String())
	}
	if !strings.Contains(s.stdout.String(), "the store is closed") {
		t.Errorf("no clean stop:\n%s", s.stdout.String())
	}
}

// TestExposure: on a non-loopback -addr, a route that verifies signatures
// without its secret stops the twin (exit 1, naming the variable, no data
// file written); on loopback it starts with the warning, as before. A
// non-loopback -control-addr needs -control-remote, and then a warning.
func TestExposure(t *testing.T) {
	const secretVar = "WEBHOOKQ_SECRET_SALES_APPROVALS_WORKFLOW_SAAS_SIGNING_SECRET"
	t.Setenv(secretVar, "")
	refused := func(t *testing.T, want string, flags ...string) {
		t.Helper()
		data := filepath.Join(t.TempDir(), "twin.db")
		s := start(t, append(flags, "-data", data)...)
		select {
		case code := <-s.done:
			if code != 1 || !strings.Contains(s.stderr.String(), want) {
				t.Errorf("run %q: exit %d, stderr:\n%s\nwant exit 1 and %q", flags, code, s.stderr.String(), want)
			}
		case <-time.After(30 * time.Second):
			s.stop()
			<-s.done
			t.Fatalf("run %q started instead of refusing:\n%s", flags, s.stdout.String())
		}
		if _, err := os.Stat(data); !os.IsNotExist(err) {
			t.Errorf("run %q refused to start but wrote %s (%v)", flags, data, err)
		}
	}
	startsWithNote := func(t *testing.T, want string, flags ...string) {
		t.Helper()
		s := start(t, flags...)
		s.bannerURL(t, "web page")
		if !strings.Contains(s.stdout.String(), want) {
			t.Errorf("run %q: no note %q in the banner:\n%s", flags, want, s.stdout.String())
		}
		s.stop()
		if code := <-s.done; code != 0 {
			t.Errorf("run %q: exit %d after the interrupt\n%s", flags, code, s.stderr.String())
		}
	}
	t.Run("ingress not on loopback, verify secret unset", func(t *testing.T) {
		refused(t, "set "+secretVar, "-addr", "0.0.0.0:0")
	})
	t.Run("ingress behind a tunnel, verify secret unset", func(t *testing.T) {
		refused(t, "set "+secretVar, "-public-ingress")
	})
	t.Run("ingress on loopback, verify secret unset", func(t *testing.T) {
		startsWithNote(t, "inbound signature verification is OFF: set "+secretVar)
	})
	t.Run("ingress not on loopback, verify secret set", func(t *testing.T) {
		t.Setenv(secretVar, "the-sender-secret")
		s := start(t, "-addr", "0.0.0.0:0")
		s.bannerURL(t, "ingress (webhooks only) on")
		s.stop()
		<-s.done
	})
	t.Run("control plane not on loopback", func(t *testing.T) {
		refused(t, "-control-remote", "-control-addr", "0.0.0.0:0")
	})
	t.Run("control plane not on loopback, allowed", func(t *testing.T) {
		startsWithNote(t, "has NO authentication", "-control-addr", "0.0.0.0:0", "-control-remote")
	})
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

// The banner says which inbound signature checks run and whether the retry
// waits are shortened.
func TestBannerSaysChecksAndRetries(t *testing.T) {
	const secretVar = "WEBHOOKQ_SECRET_SALES_APPROVALS_WORKFLOW_SAAS_SIGNING_SECRET"
	for _, tc := range []struct {
		name   string
		secret string
		flags  []string
		want   []string
	}{
		{"secret set, fast retries", "the-sender-secret", []string{"-fast-retries"}, []string{
			"approval-progress hmac: ON (header X-Workflow-Signature)",
			"-fast-retries: retry and redelivery waits divided by 20",
		}},
		{"secret unset", "", nil, []string{
			"approval-progress hmac: OFF: its secret is not set",
			"retries         waits as configured",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(secretVar, tc.secret)
			s := start(t, tc.flags...)
			s.bannerURL(t, "retries") // after the checks
			for _, want := range tc.want {
				if !strings.Contains(s.stdout.String(), want) {
					t.Errorf("the banner does not say %q:\n%s", want, s.stdout.String())
				}
			}
			s.stop()
			<-s.done
		})
	}
}
