package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/generate/bundle"
	"github.com/webhookq/webhookq/internal/testkit/lambdarie"
	"github.com/webhookq/webhookq/internal/testkit/testenv"
)

// BenchmarkColdStart is the forward bootstrap's cold start under the
// emulator: from starting the emulator process to the first answer (the
// emulator starts the bootstrap on the first invoke, so this covers process
// start, Go runtime and package init, config load, SDK client setup and one
// batch of 8 records against a local endpoint).
func BenchmarkColdStart(b *testing.B) {
	bootstrap := lambdarie.Build(b, "./functions/forward")
	aws := newLocalAWS(b, nil)
	env := functionEnv(b, aws.URL)
	batch := mixedBatch(b)
	var total time.Duration
	for b.Loop() {
		fn := lambdarie.StartBootstrap(b, bootstrap, env)
		fn.Invoke(b, batch.raw)
		total += time.Since(fn.Started)
		b.StopTimer()
		fn.Stop()
		b.StartTimer()
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/first-answer")
}

// BenchmarkZipSize reports the forward deployment package's size: the
// bootstrap built for provided.al2023 on arm64 the way internal/generate/bundle builds
// it, zipped with routes.yaml by bundle.Zip. The time per op is the build.
func BenchmarkZipSize(b *testing.B) {
	root := testenv.RepoRoot(b)
	config, err := os.ReadFile(filepath.Join(root, "config", "routes.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	var zipBytes, binBytes int
	for b.Loop() {
		bin := filepath.Join(b.TempDir(), "bootstrap")
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=", "-o", bin, "./functions/forward")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("build: %v\n%s", err, out)
		}
		data, err := os.ReadFile(bin)
		if err != nil {
			b.Fatal(err)
		}
		zip, err := bundle.Zip(data, config)
		if err != nil {
			b.Fatal(err)
		}
		zipBytes, binBytes = len(zip), len(data)
	}
	b.ReportMetric(float64(zipBytes), "zip-bytes")
	b.ReportMetric(float64(binBytes), "bootstrap-bytes")
}
