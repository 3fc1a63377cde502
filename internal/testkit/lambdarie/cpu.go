package lambdarie

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/config"
)

// cfsPeriodMicros is the CFS bandwidth period the quota is spread over: the
// kernel's default, 100 ms.
const cfsPeriodMicros = 100_000

// priorityWeight is the cgroup's CPU weight in default tasks: on Lambda the
// function's share is its own, so on a busy machine the cgroup gets
// priority up to its quota rather than queueing behind every other process.
const priorityWeight = 10

// clockTicksPerSecond is USER_HZ, the unit of utime and stime in
// /proc/<pid>/stat: 100 on every Linux the project runs on.
const clockTicksPerSecond = 100

// CPUShare is the fraction of one CPU Lambda gives a function of memoryMB:
// CPU is in proportion to memory, one vCPU at config.LambdaMemoryPerVCPU.
func CPUShare(memoryMB int) float64 {
	return float64(memoryMB) / config.LambdaMemoryPerVCPU
}

// StartAtMemory runs an already built bootstrap under the emulator the way
// StartBootstrap does, held to the CPU share Lambda gives memoryMB: the
// emulator and the bootstrap it starts run in a cgroup of their own whose
// CPU quota is CPUShare(memoryMB) of the 100 ms period. The function sees
// AWS_LAMBDA_FUNCTION_MEMORY_SIZE as on Lambda. Like every tool the suite
// needs, a missing cgroup CPU controller (not root, or cgroup v2 without the
// cpu controller delegated) fails the test with what to do; it never skips.
func StartAtMemory(tb testing.TB, bootstrap string, env map[string]string, memoryMB int) *Function {
	tb.Helper()
	limit, err := newCPULimit(tb.Name(), CPUShare(memoryMB))
	if err != nil {
		tb.Fatalf("lambdarie: cannot limit the CPU (%v); run as root on Linux with the cgroup cpu controller (cgroup v1 cpu, or v2 with cpu in /sys/fs/cgroup/cgroup.subtree_control)", err)
	}
	// Registered before the emulator's own cleanup, so it runs after it:
	// a cgroup can be removed only once its processes are gone.
	tb.Cleanup(func() {
		if err := limit.remove(); err != nil {
			tb.Errorf("lambdarie: %v", err)
		}
	})
	withMemory := map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(memoryMB)}
	for k, v := range env {
		withMemory[k] = v
	}
	return start(tb, bootstrap, filepath.Dir(bootstrap), withMemory, limit)
}

// cpuLimit is a cgroup holding its processes to a share of one CPU, on
// cgroup v1 (cpu.cfs_quota_us) or v2 (cpu.max).
type cpuLimit struct {
	dir   string
	procs string
	quota int // µs of CPU per cfsPeriodMicros
}

// limits numbers the cgroups of this process, so a benchmark that runs its
// body several times never meets its previous cgroup.
var limits atomic.Int64

func newCPULimit(name string, share float64) (*cpuLimit, error) {
	quota := int(math.Ceil(share * cfsPeriodMicros))
	leaf := fmt.Sprintf("webhookq-lambdarie-%d-%d-%s", os.Getpid(), limits.Add(1), sanitize(name))
	if v1 := "/sys/fs/cgroup/cpu"; fileExists(filepath.Join(v1, "cpu.cfs_quota_us")) {
		dir := filepath.Join(v1, leaf)
		if err := os.Mkdir(dir, 0o755); err != nil {
			return nil, err
		}
		l := &cpuLimit{dir: dir, procs: filepath.Join(dir, "cgroup.procs"), quota: quota}
		if err := writeFile(filepath.Join(dir, "cpu.cfs_period_us"), strconv.Itoa(cfsPeriodMicros)); err != nil {
			return nil, errors.Join(err, l.remove())
		}
		if err := writeFile(filepath.Join(dir, "cpu.cfs_quota_us"), strconv.Itoa(quota)); err != nil {
			return nil, errors.Join(err, l.remove())
		}
		if err := writeFile(filepath.Join(dir, "cpu.shares"), strconv.Itoa(priorityWeight*1024)); err != nil {
			return nil, errors.Join(err, l.remove())
		}
		return l, nil
	}
	controllers, err := os.ReadFile("/sys/fs/cgroup/cgroup.controllers")
	if err != nil || !bytes.Contains(append(append([]byte(" "), bytes.TrimSpace(controllers)...), ' '), []byte(" cpu ")) {
		return nil, errors.New("neither cgroup v1 cpu.cfs_quota_us nor a cgroup v2 cpu controller at /sys/fs/cgroup")
	}
	dir := filepath.Join("/sys/fs/cgroup", leaf)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, err
	}
	l := &cpuLimit{dir: dir, procs: filepath.Join(dir, "cgroup.procs"), quota: quota}
	if err := writeFile(filepath.Join(dir, "cpu.max"), fmt.Sprintf("%d %d", quota, cfsPeriodMicros)); err != nil {
		return nil, errors.Join(err, l.remove())
	}
	if err := writeFile(filepath.Join(dir, "cpu.weight"), strconv.Itoa(priorityWeight*100)); err != nil {
		return nil, errors.Join(err, l.remove())
	}
	return l, nil
}

// add moves a process, all its threads, into the cgroup; its children
// inherit it.
func (l *cpuLimit) add(pid int) error { return writeFile(l.procs, strconv.Itoa(pid)) }

// removeWait bounds how long remove waits for the killed processes to go:
// the bootstrap, orphaned when the emulator dies, is reaped by init.
const removeWait = 10 * time.Second

// remove deletes the cgroup once its processes are gone.
func (l *cpuLimit) remove() error {
	deadline := time.Now().Add(removeWait)
	for {
		err := os.Remove(l.dir)
		if err == nil || errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cgroup %s not removed: %w", l.dir, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// CPULimit is the cgroup folder the function runs in and its CPU quota in
// µs per 100 ms period; "" and 0 when it was started without a limit.
func (f *Function) CPULimit() (dir string, quotaMicros int) {
	if f.limit == nil {
		return "", 0
	}
	return f.limit.dir, f.limit.quota
}

func writeFile(path, value string) error { return os.WriteFile(path, []byte(value), 0o644) }

func fileExists(path string) bool { _, err := os.Stat(path); return err == nil }

// sanitize keeps a test name usable as a directory name.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, s)
}

// Usage is what the bootstrap process has used so far.
type Usage struct {
	// PeakRSSBytes is the process's resident set high-water mark (VmHWM).
	PeakRSSBytes int64
	// CPUSeconds is user plus system CPU time, all threads.
	CPUSeconds float64
}

// Usage reads the bootstrap's resource use from /proc. The emulator starts
// the bootstrap on the first invoke, so call it after one.
func (f *Function) Usage() (Usage, error) {
	pid, err := f.BootstrapPID()
	if err != nil {
		return Usage{}, err
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Usage{}, err
	}
	var u Usage
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return Usage{}, fmt.Errorf("VmHWM %q: %w", rest, err)
			}
			u.PeakRSSBytes = kb << 10
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return Usage{}, err
	}
	// The fields after the command name (which may hold spaces) start at
	// state, field 3; utime and stime are fields 14 and 15.
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(fields) < 13 {
		return Usage{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(fields))
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return Usage{}, err
	}
	u.CPUSeconds = float64(utime+stime) / clockTicksPerSecond
	return u, nil
}

// BootstrapPID is the process id of the bootstrap, the emulator's child.
func (f *Function) BootstrapPID() (int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) < 2 || fields[1] != strconv.Itoa(f.pid) {
			continue
		}
		if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); err == nil && exe == f.Bootstrap {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("lambdarie: no bootstrap process under the emulator (pid %d); invoke the function first", f.pid)
}
