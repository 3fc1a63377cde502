package lambdarie_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/webhookq/webhookq/internal/testkit/lambdarie"
)

type probeAnswer struct {
	Arch       string             `json:"arch"`
	Env        map[string]*string `json:"env"`
	Dir        string             `json:"dir"`
	HasTimeout bool               `json:"hasTimeout"`
	TimeLeftMS int64              `json:"timeLeftMs"`
}

// TestEmulatorRunsBootstrap runs the probe function under the real emulator:
// the test's variables and the dummy credentials reach it, the test
// process's own environment does not, the deadline comes from
// AWS_LAMBDA_FUNCTION_TIMEOUT, and a handler error comes back as Lambda's
// error object.
func TestEmulatorRunsBootstrap(t *testing.T) {
	t.Setenv("LAMBDARIE_TEST_LEAK", "from-the-test-process")
	fn := lambdarie.Start(t, "./internal/testkit/lambdarie/testdata/probe", map[string]string{
		"PROBE_SETTING":               "on",
		"AWS_LAMBDA_FUNCTION_TIMEOUT": "7",
	})

	raw := fn.Invoke(t, []byte(`{"env":["PROBE_SETTING","AWS_ACCESS_KEY_ID","AWS_REGION","LAMBDARIE_TEST_LEAK","LAMBDA_TASK_ROOT"]}`))
	var got probeAnswer
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("answer %s: %v", raw, err)
	}
	want := map[string]string{
		"PROBE_SETTING":     "on",
		"AWS_ACCESS_KEY_ID": "testing",
		"AWS_REGION":        lambdarie.Region,
	}
	for k, v := range want {
		if got.Env[k] == nil || *got.Env[k] != v {
			t.Errorf("env %s = %v, want %q", k, got.Env[k], v)
		}
	}
	if got.Env["LAMBDARIE_TEST_LEAK"] != nil {
		t.Errorf("the test process's environment leaked into the function: %q", *got.Env["LAMBDARIE_TEST_LEAK"])
	}
	dir := filepath.Dir(fn.Bootstrap)
	if got.Dir != dir {
		t.Errorf("working directory %q, want the bootstrap's folder %q", got.Dir, dir)
	}
	if root := got.Env["LAMBDA_TASK_ROOT"]; root == nil || *root != dir {
		t.Errorf("LAMBDA_TASK_ROOT = %v, want the bootstrap's folder %q", root, dir)
	}
	if !got.HasTimeout || got.TimeLeftMS <= 0 || got.TimeLeftMS > 7000 {
		t.Errorf("deadline: has=%v left=%dms, want within the 7 s function timeout", got.HasTimeout, got.TimeLeftMS)
	}

	raw = fn.Invoke(t, []byte(`{"fail":"probe says no"}`))
	var lambdaErr struct {
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType"`
	}
	if err := json.Unmarshal(raw, &lambdaErr); err != nil || lambdaErr.ErrorMessage != "probe says no" {
		t.Errorf("error answer %s (%v), want errorMessage %q", raw, err, "probe says no")
	}
	if !strings.Contains(fn.Logs(), "START RequestId") {
		t.Errorf("emulator log has no START line:\n%s", fn.Logs())
	}
}

func TestEnvironOverridesDefaults(t *testing.T) {
	t.Parallel()
	env := lambdarie.Environ("/task", map[string]string{"AWS_REGION": "eu-west-1", "X": "1"})
	got := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		got[k] = v
	}
	for k, want := range map[string]string{"AWS_REGION": "eu-west-1", "X": "1", "LAMBDA_TASK_ROOT": "/task", "AWS_ACCESS_KEY_ID": "testing"} {
		if got[k] != want {
			t.Errorf("%s = %q, want %q", k, got[k], want)
		}
	}
}

// TestStartAtMemoryLimitsTheBootstrap: the bootstrap the emulator starts
// runs in a cgroup whose CPU quota is Lambda's share for the memory size,
// sees AWS_LAMBDA_FUNCTION_MEMORY_SIZE, and its peak RSS and CPU time can be
// read. (How fast it runs under the quota is the benchmarks' business.)
func TestStartAtMemoryLimitsTheBootstrap(t *testing.T) {
	bootstrap := lambdarie.Build(t, "./internal/testkit/lambdarie/testdata/probe")
	fn := lambdarie.StartAtMemory(t, bootstrap, nil, 128)
	raw := fn.Invoke(t, []byte(`{"env":["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]}`))
	var got probeAnswer
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("answer %s: %v", raw, err)
	}
	if v := got.Env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]; v == nil || *v != "128" {
		t.Errorf("AWS_LAMBDA_FUNCTION_MEMORY_SIZE = %v, want 128", v)
	}
	cgroup, quota := fn.CPULimit()
	if want := 7236; quota < want || quota > want+1 {
		t.Errorf("CPU quota %d µs per 100 ms, want %d (128/1769 of a CPU)", quota, want)
	}
	pid, err := fn.BootstrapPID()
	if err != nil {
		t.Fatal(err)
	}
	member, err := os.ReadFile(filepath.Join(cgroup, "cgroup.procs"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(strings.Fields(string(member)), strconv.Itoa(pid)) {
		t.Errorf("bootstrap %d is not in %s (holds %q)", pid, cgroup, member)
	}
	u, err := fn.Usage()
	if err != nil {
		t.Fatal(err)
	}
	if u.PeakRSSBytes < 1<<20 || u.PeakRSSBytes > 1<<30 {
		t.Errorf("peak RSS %d bytes, want a Go process's few MB", u.PeakRSSBytes)
	}
}
