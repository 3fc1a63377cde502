// Command redrive inspects webhookq's dead-letter queue and sends messages back
// to the source queue. It works against AWS (the default credential chain) or
// any SQS-compatible endpoint (--endpoint-url: moto, the local twin).
//
// Usage:
//
//	redrive list    [queue flags] [filters] [--json]
//	redrive redrive [queue flags] (filters | --all) [--dry-run] [--pause-esm] [--max-redrives N | --force] [--move-task [--rate N]]
//	redrive purge   [queue flags] (filters | --all) --yes
//
// A redrive moves what the DLQ holds when it starts, each message once
// (internal/redrive), and refuses a message already redriven --max-redrives
// times. 'redrive -h' lists every command and flag; docs/operations.md is the
// runbook.
//
// Exit status: 0 done; 1 an AWS or I/O error (what was done before it is
// printed; nothing is lost); 2 bad usage; 3 nothing to do (the DLQ is empty or
// no message matched); 4 some messages refused by --max-redrives; 130
// interrupted. 'go run' reports every non-zero status as 1: build the tool
// (go build -o bin/ ./cmd/...) to script with it.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
