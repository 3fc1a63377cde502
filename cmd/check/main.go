// Command check is the post-deploy check (internal/check): run it right
// after terraform apply to know the deployment works end to end, without
// sending the application anything.
//
// Usage:
//
//	check [--terraform-dir terraform] [--config config/routes.yaml] [--route NAME]... [--wait 2m] [--json]
//	check --local http://127.0.0.1:8081 [--ingress-url http://127.0.0.1:8080] [flags as above]
//
// Exit status: 0 every check passed (warnings allowed); 1 a check failed
// (each failure is printed with what to do); 2 bad usage; 3 the check could
// not run (no applied outputs, an invalid routes.yaml, no AWS credentials).
// 'go run' reports every non-zero status as 1: build the tool
// (go build -o bin/ ./cmd/...) to tell a failed check from one that could not
// run in a script.
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
