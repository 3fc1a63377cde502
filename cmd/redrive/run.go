package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/webhookq/webhookq/internal/redrive"
)

// Exit statuses (documented in help, the package comment and docs/operations.md).
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitNothing     = 3
	exitRefused     = 4
	exitInterrupted = 130
)

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printHelp(stderr)
		return exitUsage
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printHelp(stdout)
		return exitOK
	}
	cmd := args[0]
	if _, ok := commandFlags[cmd]; !ok {
		fmt.Fprintf(stderr, "redrive: unknown command %q (commands: list, redrive, purge; redrive -h for help)\n", cmd)
		return exitUsage
	}
	for _, a := range args[1:] {
		if a == "-h" || a == "--help" || a == "-help" {
			newFlagSet(cmd, &options{}, stdout).Usage()
			return exitOK
		}
	}
	o, err := parseFlags(cmd, args[1:], stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "redrive %s: %v\n(redrive %s -h lists its flags)\n", cmd, err, cmd)
		}
		return exitUsage
	}
	env, err := connect(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "redrive %s: %s\n", cmd, explain(err))
		return exitError
	}
	tool := &redrive.Tool{SQS: env.sqs, SourceURL: env.queueURL, DLQURL: env.dlqURL, Progress: stderr, Hold: o.hold, EmptyReceives: 2}
	if !o.force {
		tool.MaxRedrives = o.maxRedrives
	}
	code, err := dispatch(ctx, cmd, o, env, tool, stdout, stderr)
	switch {
	case errors.Is(err, redrive.ErrEmptyDLQ):
		fmt.Fprintf(stderr, "redrive %s: %s is empty: nothing to do\n", cmd, env.dlqURL)
		return exitNothing
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		fmt.Fprintf(stderr, "redrive %s: interrupted; what is listed above is done, everything else stays in the DLQ\n", cmd)
		return exitInterrupted
	case err != nil:
		fmt.Fprintf(stderr, "redrive %s: %s\n", cmd, explain(err))
		if code == exitUsage {
			return exitUsage
		}
		return exitError
	}
	return code
}

func dispatch(ctx context.Context, cmd string, o *options, env *environment, tool *redrive.Tool, stdout, stderr io.Writer) (int, error) {
	switch cmd {
	case "list":
		scan, err := tool.List(ctx, o.filter)
		if err != nil {
			return exitError, err
		}
		if o.jsonOut {
			err = printJSON(stdout, scan.Messages)
		} else {
			err = printTable(stdout, scan.Messages)
		}
		summarize(stderr, "listed", scan)
		if len(scan.Messages) == 0 {
			return exitNothing, err
		}
		return exitOK, err
	case "purge":
		scan, err := tool.Purge(ctx, o.filter)
		reportMoves(stdout, "purged", scan)
		summarize(stderr, "purged", scan)
		return outcome(scan), err
	}
	if o.dryRun {
		scan, err := tool.DryRun(ctx, o.filter)
		if err != nil {
			return exitError, err
		}
		fmt.Fprintf(stdout, "dry run: would move %d message(s) from %s to %s\n", len(scan.Messages), env.dlqURL, env.queueURL)
		reportMoves(stdout, "would move", scan)
		summarize(stderr, "would move", scan)
		return outcome(scan), nil
	}
	move := func() (int, error) { return redriveMessages(ctx, o, tool, stdout, stderr) }
	if !o.pauseESM {
		fmt.Fprintln(stderr, "warning: the forwarder keeps running while messages move back: a redriven message is queued behind"+
			" any newer message of its group, so the group's order is broken for it (use --pause-esm to hold new deliveries while redriving)")
		return move()
	}
	if env.esmUUID == "" {
		return exitUsage, errors.New("--pause-esm needs the event source mapping: --esm-uuid or --terraform-dir")
	}
	code := exitOK
	err := redrive.Paused(ctx, env.lambda, env.esmUUID, time.Second, func(s string) { fmt.Fprintln(stderr, s) }, func() error {
		var err error
		code, err = move()
		return err
	})
	return code, err
}

func redriveMessages(ctx context.Context, o *options, tool *redrive.Tool, stdout, stderr io.Writer) (int, error) {
	if o.moveTask {
		task, err := tool.MoveAll(ctx, int32(o.rate), 2*time.Second)
		if err == nil {
			fmt.Fprintf(stdout, "moved %d message(s) with move task %s\n", task.Moved, task.Handle)
			return exitOK, nil
		}
		if !errors.Is(err, redrive.ErrMoveTaskUnsupported) {
			return exitError, err
		}
		fmt.Fprintf(stderr, "%v; moving message by message instead\n", err)
	}
	scan, err := tool.Move(ctx, o.filter)
	reportMoves(stdout, "moved", scan)
	summarize(stderr, "moved", scan)
	return outcome(scan), err
}

// outcome is the exit status of a run that did not fail.
func outcome(scan redrive.Scan) int {
	switch {
	case scan.SkippedFor(redrive.SkipMaxRedrives) > 0:
		return exitRefused
	case len(scan.Messages) == 0 && len(scan.Skipped) == 0:
		return exitNothing
	}
	return exitOK
}
