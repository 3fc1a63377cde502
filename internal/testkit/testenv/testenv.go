// Package testenv finds and starts the third-party tools the test suite checks
// the project against (docs/testing.md): the npm ASL tools, the Lambda runtime
// interface emulator, moto and Terraform with the local provider mirror.
//
// A missing tool fails the test with the command that installs it; it never
// skips, so a green suite always means the real tools ran. scripts/setup
// installs everything.
package testenv

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/webhookq/webhookq/internal/awssdk"
)

// RepoRoot is the repository's top folder (the one holding go.mod).
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("testenv: cannot locate source file")
	}
	// This file is internal/testkit/testenv/testenv.go.
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

// NodeTool returns the path of an npm tool's executable installed by
// scripts/setup in tools/node (e.g. "asl-validator", "local-sfn").
func NodeTool(tb testing.TB, name string) string {
	tb.Helper()
	p := filepath.Join(RepoRoot(tb), "tools", "node", "node_modules", ".bin", name)
	if _, err := os.Stat(p); err != nil {
		tb.Fatalf("testenv: npm tool %s is not installed (%v); run scripts/setup", name, err)
	}
	return p
}

// NodeModules is tools/node/node_modules, for scripts that import the npm tools.
func NodeModules(tb testing.TB) string {
	tb.Helper()
	NodeTool(tb, "asl-validator")
	return filepath.Join(RepoRoot(tb), "tools", "node", "node_modules")
}

// RIE returns the path of aws-lambda-rie, installed by scripts/setup with go install.
func RIE(tb testing.TB) string {
	tb.Helper()
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p
	}
	gopath, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		p := filepath.Join(strings.TrimSpace(string(gopath)), "bin", "aws-lambda-rie")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	tb.Fatal("testenv: aws-lambda-rie is not installed; run scripts/setup " +
		"(go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@latest)")
	return ""
}

// QEMU returns the path of QEMU's user-mode emulator for a GOARCH
// ("arm64": qemu-aarch64-static), from Debian's qemu-user-static, which
// scripts/setup installs; it runs a foreign Linux executable on this host.
func QEMU(tb testing.TB, goarch string) string {
	tb.Helper()
	arch := map[string]string{"arm64": "aarch64", "amd64": "x86_64"}[goarch]
	if arch == "" {
		tb.Fatalf("testenv: no QEMU user-mode emulator for GOARCH %s", goarch)
	}
	name := "qemu-" + arch + "-static"
	p, err := exec.LookPath(name)
	if err != nil {
		tb.Fatalf("testenv: %s is not installed (%v); run scripts/setup (it installs Debian's qemu-user-static)", name, err)
	}
	return p
}

// ProviderMirror is the filesystem mirror holding the AWS provider.
const ProviderMirror = "/opt/tf-plugins"

// Terraform returns the terraform binary and an environment whose CLI config
// installs providers only from ProviderMirror (no registry is reachable here).
func Terraform(tb testing.TB) (bin string, env map[string]string) {
	tb.Helper()
	bin, err := exec.LookPath("terraform")
	if err != nil {
		tb.Fatal("testenv: terraform is not on PATH")
	}
	if _, err := os.Stat(ProviderMirror); err != nil {
		tb.Fatalf("testenv: provider mirror %s: %v", ProviderMirror, err)
	}
	rc := filepath.Join(tb.TempDir(), "terraform.rc")
	cfg := fmt.Sprintf("provider_installation {\n  filesystem_mirror {\n    path = %q\n  }\n}\n", ProviderMirror)
	if err := os.WriteFile(rc, []byte(cfg), 0o644); err != nil {
		tb.Fatal(err)
	}
	return bin, map[string]string{
		"TF_CLI_CONFIG_FILE":  rc,
		"TF_IN_AUTOMATION":    "1",
		"CHECKPOINT_DISABLE":  "1",
		"TF_PLUGIN_CACHE_DIR": "",
	}
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Moto starts a moto server on a free loopback port for the test and returns
// its endpoint URL; it stops when the test ends. Each call is its own server,
// so tests may run in parallel without sharing state.
func Moto(tb testing.TB) string {
	tb.Helper()
	port := FreePort(tb)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Env = append(os.Environ(), "MOTO_ALLOW_NONEXISTENT_REGION=true")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		tb.Fatalf("testenv: start moto (python3 -m moto.server): %v", err)
	}
	var logTail []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if len(logTail) < 200 {
				logTail = append(logTail, sc.Text())
			}
		}
	}()
	tb.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		<-done
	})
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(endpoint + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return endpoint
		}
		time.Sleep(100 * time.Millisecond)
	}
	tb.Fatalf("testenv: moto did not answer on %s within 30s", endpoint)
	return ""
}

// AWSEnv sets dummy credentials and a region for the AWS SDK and CLI in this
// test, so nothing reaches a real account or reads the developer's profile.
func AWSEnv(tb testing.TB, region string) {
	tb.Helper()
	tb.Setenv("AWS_ACCESS_KEY_ID", "testing")
	tb.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	tb.Setenv("AWS_SESSION_TOKEN", "testing")
	tb.Setenv("AWS_REGION", region)
	tb.Setenv("AWS_DEFAULT_REGION", region)
	tb.Setenv("AWS_CONFIG_FILE", os.DevNull)
	tb.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	tb.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// AWSConfig is an AWS SDK configuration for a local endpoint (moto, the local
// twin, a test server): dummy static credentials, the given region, every
// service's base endpoint set to endpoint. Safe with t.Parallel.
func AWSConfig(endpoint, region string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(endpoint),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
		HTTPClient:   awssdk.HTTPClient(),
	}
}

// ArtifactsEnv names the folder tests save artifacts in (screenshots);
// unset, it is test-artifacts/ in the repository root (ignored by git).
const ArtifactsEnv = "WEBHOOKQ_TEST_ARTIFACTS"

// WriteArtifact saves b as name in the artifacts folder, for a person or CI
// to look at after the run, and returns its path.
func WriteArtifact(tb testing.TB, name string, b []byte) string {
	tb.Helper()
	dir := os.Getenv(ArtifactsEnv)
	if dir == "" {
		dir = filepath.Join(RepoRoot(tb), "test-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatalf("testenv: artifacts folder: %v", err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	return path
}

// systemRootFiles are where Linux distributions keep the CA bundle Go reads
// (crypto/x509's certFiles on Linux), Debian's first; provided.al2023 has the
// second.
var systemRootFiles = []string{"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"}

// TrustedRoots writes a CA bundle holding the system's roots and extra, for
// SSL_CERT_FILE: a process started with it verifies a local test server's
// certificate and still parses a full system bundle, as it would on Lambda.
func TrustedRoots(tb testing.TB, extra ...*x509.Certificate) string {
	tb.Helper()
	var bundle []byte
	for _, f := range systemRootFiles {
		if b, err := os.ReadFile(f); err == nil {
			bundle = b
			break
		}
	}
	if bundle == nil {
		tb.Fatalf("testenv: no system CA bundle in %v", systemRootFiles)
	}
	for _, c := range extra {
		bundle = append(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	path := filepath.Join(tb.TempDir(), "ca-bundle.crt")
	if err := os.WriteFile(path, bundle, 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}
