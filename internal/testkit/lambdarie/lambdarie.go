// Package lambdarie runs a function's real bootstrap under the AWS Lambda
// Runtime Interface Emulator (aws-lambda-rie) in tests, the way Lambda runs it
// on provided.al2023: a separate process that polls the Runtime API and
// answers one event at a time.
//
// A test builds the bootstrap for the host, starts the emulator on a free
// loopback port with an explicit environment, and posts events:
//
//	fn := lambdarie.Start(t, "./functions/forward", map[string]string{...})
//	answer := fn.Invoke(t, eventJSON)
//
// The emulator hands its own environment to the function, so the harness
// starts it with a clean one: dummy AWS credentials, a region, PATH and HOME,
// and exactly the variables the test passes. Nothing of the developer's AWS
// profile reaches the function.
package lambdarie

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/testkit/testenv"
)

// Region is the AWS region the function sees unless the test sets AWS_REGION.
const Region = "us-east-1"

// InvocationPath is the emulator's invoke endpoint (Lambda's Invoke API path).
const InvocationPath = "/2015-03-31/functions/function/invocations"

// readyTimeout bounds the wait for the emulator's HTTP server to listen.
const readyTimeout = 30 * time.Second

// Build compiles the function package pkg (a path relative to the repository
// root, e.g. "./functions/forward") for the host into a fresh folder and
// returns the bootstrap's path. It builds the way the deployment bundle does
// (no cgo, the lambda.norpc tag) so the emulator runs the same program.
func Build(tb testing.TB, pkg string) string {
	tb.Helper()
	out := filepath.Join(tb.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", out, pkg)
	cmd.Dir = testenv.RepoRoot(tb)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("lambdarie: go build %s: %v\n%s", pkg, err, msg)
	}
	return out
}

// Function is a bootstrap running under the emulator.
type Function struct {
	// URL is the emulator's invoke URL.
	URL string
	// Bootstrap is the path of the binary the emulator runs.
	Bootstrap string
	// Started is when the emulator process was started.
	Started time.Time

	logs  *syncBuffer
	stop  func()
	pid   int // the emulator's
	limit *cpuLimit
}

// Start builds pkg and runs it under the emulator until the test ends. env is
// the function's environment beyond the defaults (see the package comment);
// a key in env overrides a default.
func Start(tb testing.TB, pkg string, env map[string]string) *Function {
	tb.Helper()
	return StartBootstrap(tb, Build(tb, pkg), env)
}

// StartBootstrap runs an already built bootstrap under the emulator, so a test
// can build once and start several functions with different environments.
// The function's working directory and LAMBDA_TASK_ROOT are the bootstrap's
// folder.
func StartBootstrap(tb testing.TB, bootstrap string, env map[string]string) *Function {
	tb.Helper()
	return start(tb, bootstrap, filepath.Dir(bootstrap), env, nil)
}

// start runs the executable bootstrap under the emulator with taskRoot as the
// function's working directory and LAMBDA_TASK_ROOT, in limit's cgroup when
// limit is set.
func start(tb testing.TB, bootstrap, taskRoot string, env map[string]string, limit *cpuLimit) *Function {
	tb.Helper()
	rie := testenv.RIE(tb)
	addr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(tb))
	// The Runtime API the bootstrap polls defaults to port 9001; a port of
	// its own lets emulators run side by side (parallel tests, packages).
	runtimeAPI := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(tb))

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, rie,
		"--runtime-interface-emulator-address", addr,
		"--runtime-api-address", runtimeAPI,
		bootstrap)
	cmd.Dir = taskRoot
	// The emulator starts the bootstrap as its child: run both in a process
	// group of their own and end the whole group, so no function outlives
	// the test.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.Env = Environ(taskRoot, env)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	fn := &Function{
		URL:       "http://" + addr + InvocationPath,
		Bootstrap: bootstrap,
		logs:      logs,
	}
	fn.Started = time.Now()
	if err := cmd.Start(); err != nil {
		cancel()
		tb.Fatalf("lambdarie: start %s: %v", rie, err)
	}
	fn.pid, fn.limit = cmd.Process.Pid, limit
	fn.stop = sync.OnceFunc(func() {
		cancel()
		_ = cmd.Wait()
	})
	if limit != nil {
		// Before the first invoke, which starts the bootstrap: it inherits
		// the emulator's cgroup.
		if err := limit.add(fn.pid); err != nil {
			fn.Stop()
			tb.Fatalf("lambdarie: limit the emulator's CPU: %v", err)
		}
	}
	tb.Cleanup(func() {
		fn.Stop()
		if tb.Failed() {
			tb.Logf("lambdarie: emulator and function output:\n%s", fn.Logs())
		}
	})
	waitListening(tb, addr, fn)
	return fn
}

// Environ is the emulator's (and so the function's) whole environment:
// dummy credentials and region, PATH and HOME, the task root, then env.
func Environ(taskRoot string, env map[string]string) []string {
	vars := map[string]string{
		"PATH":                        os.Getenv("PATH"),
		"HOME":                        os.Getenv("HOME"),
		"AWS_ACCESS_KEY_ID":           "testing",
		"AWS_SECRET_ACCESS_KEY":       "testing",
		"AWS_SESSION_TOKEN":           "testing",
		"AWS_REGION":                  Region,
		"AWS_DEFAULT_REGION":          Region,
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
		"AWS_EC2_METADATA_DISABLED":   "true",
		"LAMBDA_TASK_ROOT":            taskRoot,
		"LOG_LEVEL":                   "warn",
	}
	for k, v := range env {
		vars[k] = v
	}
	out := make([]string, 0, len(vars))
	for k, v := range vars {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

func waitListening(tb testing.TB, addr string, fn *Function) {
	tb.Helper()
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		// Any HTTP answer means the emulator's server is up; a GET on the
		// root does not start the function.
		resp, err := http.Get("http://" + addr + "/")
		if err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Fatalf("lambdarie: emulator did not listen on %s within %s\n%s", addr, readyTimeout, fn.Logs())
}

// Invoke posts one event and returns the function's raw answer: its JSON
// result, or Lambda's error object ({"errorMessage":…,"errorType":…}) when the
// handler returned an error. A non-200 status from the emulator fails the test.
func (f *Function) Invoke(tb testing.TB, event []byte) []byte {
	tb.Helper()
	status, body, err := f.Post(event)
	if err != nil {
		tb.Fatalf("lambdarie: invoke: %v\n%s", err, f.Logs())
	}
	if status != http.StatusOK {
		tb.Fatalf("lambdarie: invoke answered %d: %s\n%s", status, body, f.Logs())
	}
	return body
}

// Post posts one event and returns the emulator's status and body as they are,
// for tests that expect an error status (a crashed or timed-out function).
func (f *Function) Post(event []byte) (int, []byte, error) {
	resp, err := http.Post(f.URL, "application/json", bytes.NewReader(event))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// Stop ends the emulator and the function now (otherwise they end with the
// test); calling it again does nothing.
func (f *Function) Stop() { f.stop() }

// Logs is everything the emulator and the function printed so far (the
// function's stdout and stderr are what CloudWatch Logs would hold).
func (f *Function) Logs() string { return f.logs.String() }

// LogLines returns the printed lines that contain substr.
func (f *Function) LogLines(substr string) []string {
	var out []string
	for _, line := range strings.Split(f.Logs(), "\n") {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return out
}

// AwaitLogLines waits until at least n printed lines contain substr, or 10
// seconds pass, and returns the lines there are then. What the function
// prints before it answers an invoke reaches this process through the
// emulator's pipes a moment after the answer, so a test reading the log
// right after Invoke could miss the last lines.
func (f *Function) AwaitLogLines(n int, substr string) []string {
	deadline := time.Now().Add(10 * time.Second)
	for {
		lines := f.LogLines(substr)
		if len(lines) >= n || time.Now().After(deadline) {
			return lines
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// String describes the function for test messages.
func (f *Function) String() string { return fmt.Sprintf("%s at %s", f.Bootstrap, f.URL) }

// syncBuffer is a bytes.Buffer the emulator's output goroutines and the test
// can share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
