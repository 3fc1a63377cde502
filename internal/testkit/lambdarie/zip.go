package lambdarie

import (
	"archive/zip"
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/webhookq/webhookq/internal/testkit/testenv"
)

// BootstrapEntry is the executable Lambda starts in a provided.al2023
// deployment package.
const BootstrapEntry = "bootstrap"

// StartZip runs a deployment package the way Lambda runs it: the zip is
// unpacked into a fresh task root (the function's working directory and
// LAMBDA_TASK_ROOT, where a bundled routes.yaml is found), and its bootstrap
// answers the emulator's Runtime API. A bootstrap built for another
// architecture than the host's — the linux/arm64 zips cmd/generate builds —
// runs under QEMU's user-mode emulator: the emulator starts a two-line
// wrapper script that execs qemu-<arch>-static on the package's own
// bootstrap, so the bytes Terraform uploads are the bytes that run.
func StartZip(tb testing.TB, archive []byte, env map[string]string) *Function {
	tb.Helper()
	dir := tb.TempDir()
	taskRoot := filepath.Join(dir, "task")
	if err := unzip(archive, taskRoot); err != nil {
		tb.Fatalf("lambdarie: unpack the deployment package: %v", err)
	}
	bootstrap := filepath.Join(taskRoot, BootstrapEntry)
	arch, err := elfArch(bootstrap)
	if err != nil {
		tb.Fatalf("lambdarie: %v", err)
	}
	if arch != runtime.GOARCH {
		qemu := testenv.QEMU(tb, arch)
		wrapper := filepath.Join(dir, "bootstrap-"+arch)
		script := fmt.Sprintf("#!/bin/sh\nexec %s \"$LAMBDA_TASK_ROOT/%s\" \"$@\"\n", qemu, BootstrapEntry)
		if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
			tb.Fatal(err)
		}
		bootstrap = wrapper
	}
	return start(tb, bootstrap, taskRoot, env, nil)
}

// elfArch is the GOARCH an ELF executable is built for.
func elfArch(path string) (string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", fmt.Errorf("the package's %s is not an ELF executable: %w", BootstrapEntry, err)
	}
	defer f.Close()
	switch f.Machine {
	case elf.EM_AARCH64:
		return "arm64", nil
	case elf.EM_X86_64:
		return "amd64", nil
	}
	return "", fmt.Errorf("the package's %s is built for %s, which the harness cannot run", BootstrapEntry, f.Machine)
}

// unzip writes every regular file of archive below dir, with its mode.
func unzip(archive []byte, dir string) error {
	r, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		return err
	}
	for _, f := range r.File {
		name := filepath.FromSlash(f.Name)
		if !filepath.IsLocal(name) || strings.HasSuffix(f.Name, "/") {
			continue
		}
		dst := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		rc, err := f.Open()
		if err != nil {
			return err
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return err
		}
		if err := os.WriteFile(dst, data, f.Mode().Perm()|0o400); err != nil {
			return err
		}
	}
	return nil
}
