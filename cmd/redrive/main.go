// Command redrive inspects webhookq's dead-letter queue and sends messages back
// to the source queue. It works against AWS (the default credential chain) or
// any SQS-compatible endpoint (--endpoint-url: moto, the local twin).
//
// Usage:
//
//	redrive list    [queue flags] [filters] [--json]
//	redrive redrive [queue flags] [filters | --all [--rate N]] [--dry-run] [--pause-esm]
//	redrive purge   [queue flags] filters|--all --yes
//
// Exit status: 0 done; 1 an AWS or I/O error (what was done before it is
// printed; nothing is lost); 2 bad usage; 3 nothing to do (the DLQ is empty or
// no message matched).
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
