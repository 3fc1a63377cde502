// Package bundle builds the three Lambda deployment packages: each function's
// bootstrap, cross-compiled for provided.al2023 on arm64, zipped together with
// the routes.yaml the function loads at start (webhook.EnvConfig).
//
// The zips are deterministic — fixed entry order, timestamps and modes, and a
// reproducible go build — so an unchanged tree gives byte-identical zips and
// Terraform's source_code_hash does not change between machines.
package bundle

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/webhookq/webhookq/internal/config"
)

// Entry names inside every zip. provided.al2023 runs the file named bootstrap.
const (
	BootstrapEntry = "bootstrap"
	ConfigEntry    = "routes.yaml"
)

// zipTime is every entry's modification time: the earliest an MS-DOS date
// field can hold, so it is the same on every machine and in every time zone.
var zipTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// Options says what to build.
type Options struct {
	// ModuleRoot is the folder holding go.mod and functions/.
	ModuleRoot string
	// Config is the routes.yaml content bundled as-is into every zip.
	Config []byte
	// Progress, when set, receives one line per step.
	Progress func(line string)
}

// Build compiles every function into a temporary folder and returns the
// deployment packages, keyed by their path relative to the repository root
// ("dist/<function>.zip"). It writes nothing else: the caller puts the zips in
// place (atomically, like every generated file).
func Build(ctx context.Context, opts Options) (map[string][]byte, error) {
	progress := opts.Progress
	if progress == nil {
		progress = func(string) {}
	}
	work, err := os.MkdirTemp("", "webhookq-bundle-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)

	zips := make(map[string][]byte, len(config.Functions))
	for _, fn := range config.Functions {
		progress(fmt.Sprintf("building %s (linux/arm64)", fn))
		bin := filepath.Join(work, fn, BootstrapEntry)
		if err := compile(ctx, opts.ModuleRoot, "./functions/"+fn, bin); err != nil {
			return nil, fmt.Errorf("build %s: %w", fn, err)
		}
		bootstrap, err := os.ReadFile(bin)
		if err != nil {
			return nil, err
		}
		archive, err := Zip(bootstrap, opts.Config)
		if err != nil {
			return nil, fmt.Errorf("zip %s: %w", fn, err)
		}
		zips[ZipPath(fn)] = archive
	}
	return zips, nil
}

// ZipPath is a function's deployment package, relative to the repository root.
func ZipPath(function string) string { return "dist/" + function + ".zip" }

// buildFlags make the binary reproducible: no paths, VCS stamps or build ids
// that differ between checkouts; lambda.norpc drops the legacy go1.x RPC mode,
// which provided.al2023 never uses.
var buildFlags = []string{"-tags", "lambda.norpc", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid="}

func compile(ctx context.Context, moduleRoot, pkg, out string) error {
	args := append([]string{"build"}, buildFlags...)
	args = append(args, "-o", out, pkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = moduleRoot
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// Zip returns a deployment package holding bootstrap (mode 0755) and
// routes.yaml (mode 0644), in that order, with fixed timestamps: the same
// inputs always give the same bytes.
func Zip(bootstrap, config []byte) ([]byte, error) {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	entries := []struct {
		name string
		mode fs.FileMode
		data []byte
	}{
		{BootstrapEntry, 0o755, bootstrap},
		{ConfigEntry, 0o644, config},
	}
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: zipTime}
		h.SetMode(e.mode)
		f, err := w.CreateHeader(h)
		if err != nil {
			return nil, err
		}
		if _, err := f.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
