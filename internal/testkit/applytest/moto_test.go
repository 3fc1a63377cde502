package applytest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/testkit/testenv"
)

// patchedMoto is moto's server started through testdata/moto_launcher.py.
type patchedMoto struct {
	// Endpoint is the server's base URL on loopback.
	Endpoint string
	// routes is the file the launcher reads on every Lambda Invoke:
	// function ARN → the invoke URL of the emulator running it.
	routes string

	mu  sync.Mutex
	log []string
}

// startPatchedMoto starts the launcher on a free loopback port until the test
// ends. A missing moto fails the test with the setup hint (testenv's rule).
func startPatchedMoto(t *testing.T) *patchedMoto {
	t.Helper()
	if err := exec.Command("python3", "-c", "import moto.server").Run(); err != nil {
		t.Fatalf("moto's server is not importable by python3 (%v); run scripts/setup (it checks moto[server] 5.2.1)", err)
	}
	launcher := filepath.Join(testenv.RepoRoot(t), "internal", "testkit", "applytest", "testdata", "moto_launcher.py")
	m := &patchedMoto{routes: filepath.Join(t.TempDir(), "lambda-routes.json")}
	port := testenv.FreePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "python3", launcher, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Env = append(os.Environ(), "MOTO_ALLOW_NONEXISTENT_REGION=true", "WEBHOOKQ_LAMBDA_ROUTES="+m.routes)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", launcher, err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			m.mu.Lock()
			// moto logs every request; keep the tail for a failure message.
			m.log = append(m.log, sc.Text())
			if len(m.log) > 400 {
				m.log = m.log[len(m.log)-400:]
			}
			m.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		<-done
		if t.Failed() {
			t.Logf("moto launcher output (tail):\n%s", m.tail())
		}
	})
	m.Endpoint = fmt.Sprintf("http://127.0.0.1:%d", port)
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get(m.Endpoint + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return m
		}
	}
	t.Fatalf("moto launcher did not answer on %s within 60s:\n%s", m.Endpoint, m.tail())
	return nil
}

// routeInvokes makes moto's Lambda Invoke of each function ARN post to the
// given emulator URL instead of echoing.
func (m *patchedMoto) routeInvokes(t *testing.T, urls map[string]string) {
	t.Helper()
	data, err := json.Marshal(urls)
	if err != nil {
		t.Fatal(err)
	}
	tmp := m.routes + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, m.routes); err != nil {
		t.Fatal(err)
	}
}

func (m *patchedMoto) tail() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return strings.Join(m.log, "\n")
}
