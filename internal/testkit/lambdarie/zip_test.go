package lambdarie_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/webhookq/webhookq/internal/testkit/lambdarie"
	"github.com/webhookq/webhookq/internal/testkit/testenv"
)

// TestZipRunsItsArm64Bootstrap: a linux/arm64 deployment package, as
// cmd/generate builds them, runs under the emulator on this host through
// QEMU: the code that answers is the arm64 build, in the unpacked task root,
// and it sees the package's other files there.
func TestZipRunsItsArm64Bootstrap(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", bin, "./internal/testkit/lambdarie/testdata/probe")
	cmd.Dir = testenv.RepoRoot(t)
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build for linux/arm64: %v\n%s", err, out)
	}
	code, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	var pkg bytes.Buffer
	zw := zip.NewWriter(&pkg)
	for _, e := range []struct {
		name string
		mode os.FileMode
		data []byte
	}{{lambdarie.BootstrapEntry, 0o755, code}, {"routes.yaml", 0o644, []byte("service: probe\n")}} {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		h.SetMode(e.mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}

	fn := lambdarie.StartZip(t, pkg.Bytes(), map[string]string{"PROBE_SETTING": "on"})
	raw := fn.Invoke(t, []byte(`{"env":["PROBE_SETTING","LAMBDA_TASK_ROOT"]}`))
	var got probeAnswer
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("answer %s: %v", raw, err)
	}
	if got.Arch != "arm64" {
		t.Errorf("the answer came from a %q build; want the package's arm64 bootstrap", got.Arch)
	}
	if v := got.Env["PROBE_SETTING"]; v == nil || *v != "on" {
		t.Errorf("PROBE_SETTING = %v, want on", v)
	}
	root := got.Env["LAMBDA_TASK_ROOT"]
	if root == nil || got.Dir != *root {
		t.Fatalf("working directory %q, LAMBDA_TASK_ROOT %v; want both the unpacked task root", got.Dir, root)
	}
	if data, err := os.ReadFile(filepath.Join(*root, "routes.yaml")); err != nil || string(data) != "service: probe\n" {
		t.Errorf("the package's routes.yaml in the task root: %q, %v", data, err)
	}
}
