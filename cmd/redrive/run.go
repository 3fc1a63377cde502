package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/redrive"
	"github.com/webhookq/webhookq/internal/tfrun"
	"github.com/webhookq/webhookq/internal/webhook"
)

// Exit statuses (documented in the package comment and docs/operations.md).
const (
	exitOK      = 0
	exitError   = 1
	exitUsage   = 2
	exitNothing = 3
)

const usage = `redrive: inspect and redrive webhookq's dead-letter queue

Usage:
  redrive list    [queue flags] [filters] [--json]
  redrive redrive [queue flags] [filters | --all [--rate N]] [--dry-run] [--pause-esm]
  redrive purge   [queue flags] (filters | --all) --yes

Queues (first that applies): --queue-url and --dlq-url; --terraform-dir (reads
the applied module's outputs); else the queue names derived from --config.

Exit status: 0 done, 1 error, 2 usage, 3 nothing to do (empty DLQ, no match).
`

// options are the parsed flags of one command.
type options struct {
	endpoint, region      string
	queueURL, dlqURL      string
	terraformDir, cfgPath string
	esmUUID               string
	filter                redrive.Filter
	all, dryRun, yes      bool
	jsonOut, pauseESM     bool
	clientSide            bool
	rate                  int
	hold                  time.Duration
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// reasonFlag collects --reason values, each one of webhook.Reasons.
type reasonFlag struct{ list *[]webhook.Reason }

func (f reasonFlag) String() string {
	if f.list == nil {
		return ""
	}
	var s []string
	for _, r := range *f.list {
		s = append(s, string(r))
	}
	return strings.Join(s, ",")
}

func (f reasonFlag) Set(v string) error {
	r, ok := webhook.ParseReason(v)
	if !ok {
		return fmt.Errorf("unknown reason %q: want one of %s", v, reasonNames())
	}
	*f.list = append(*f.list, r)
	return nil
}

// reasonNames lists webhook.Reasons for help and errors.
func reasonNames() string {
	var names []string
	for _, r := range webhook.Reasons {
		names = append(names, string(r.Reason))
	}
	return strings.Join(names, ", ")
}

type timeFlag struct{ t *time.Time }

func (f timeFlag) String() string {
	if f.t == nil || f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.RFC3339)
}

func (f timeFlag) Set(v string) error {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		d, derr := time.ParseDuration(v)
		if derr != nil || d <= 0 {
			return fmt.Errorf("want an RFC 3339 time (2026-11-28T10:00:00Z) or a duration ago (90m): %q", v)
		}
		t = time.Now().Add(-d)
	}
	*f.t = t.UTC()
	return nil
}

func parseFlags(cmd string, args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("redrive "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.endpoint, "endpoint-url", "", "SQS/Lambda endpoint (moto, the local twin); default: AWS")
	fs.StringVar(&o.region, "region", "", "AWS region; default: the config's region, else the SDK's")
	fs.StringVar(&o.queueURL, "queue-url", "", "source queue URL")
	fs.StringVar(&o.dlqURL, "dlq-url", "", "dead-letter queue URL")
	fs.StringVar(&o.terraformDir, "terraform-dir", "", "read queue URLs and the event source mapping from this Terraform folder's outputs")
	fs.StringVar(&o.cfgPath, "config", "config/routes.yaml", "routes.yaml, for the queue names and region")
	fs.StringVar(&o.esmUUID, "esm-uuid", "", "the forward event source mapping's UUID (for --pause-esm)")
	var routes, groups, ids, msgIDs multiFlag
	fs.Var(&routes, "route", "select by route (repeatable)")
	fs.Var(&groups, "group", "select by message group (repeatable)")
	fs.Var(&ids, "webhook-id", "select by webhook id (repeatable)")
	fs.Var(&msgIDs, "message-id", "select by DLQ message id (repeatable)")
	fs.Var(reasonFlag{&o.filter.Reasons}, "reason", "select by why the forwarder parked it: "+reasonNames()+" (repeatable)")
	fs.Var(timeFlag{&o.filter.Since}, "since", "select messages received at ingress at or after this time (RFC 3339, or a duration ago)")
	fs.Var(timeFlag{&o.filter.Until}, "until", "select messages received at ingress before this time")
	fs.DurationVar(&o.hold, "hold", 60*time.Second, "how long messages stay invisible while the tool works on them")
	switch cmd {
	case "list":
		fs.BoolVar(&o.jsonOut, "json", false, "print JSON lines instead of a table")
	case "redrive":
		fs.BoolVar(&o.all, "all", false, "move every message with an SQS message move task")
		fs.IntVar(&o.rate, "rate", 0, "with --all: messages per second (0: SQS's pace)")
		fs.BoolVar(&o.dryRun, "dry-run", false, "print exactly what would move, move nothing")
		fs.BoolVar(&o.pauseESM, "pause-esm", false, "pause the forwarder's event source mapping while redriving")
		fs.BoolVar(&o.clientSide, "client-side", false, "with --all: move message by message instead of with a move task")
	case "purge":
		fs.BoolVar(&o.all, "all", false, "purge every message")
		fs.BoolVar(&o.yes, "yes", false, "confirm: delete the selected messages for good")
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	o.filter.Routes, o.filter.Groups, o.filter.WebhookIDs, o.filter.MessageIDs = routes, groups, ids, msgIDs
	if (o.queueURL == "") != (o.dlqURL == "") {
		return nil, errors.New("give both --queue-url and --dlq-url, or neither")
	}
	if o.all && !o.filter.IsZero() {
		return nil, errors.New("--all selects everything: drop the filters, or drop --all")
	}
	if cmd == "purge" {
		if !o.all && o.filter.IsZero() {
			return nil, errors.New("purge needs a selection (filters) or --all")
		}
		if !o.yes {
			return nil, errors.New("purge deletes messages for good: add --yes to confirm (try 'redrive list' with the same filters first)")
		}
	}
	if o.hold < time.Second || o.hold > 12*time.Hour {
		return nil, errors.New("--hold must be between 1s and 12h")
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmd := args[0]
	if cmd != "list" && cmd != "redrive" && cmd != "purge" {
		fmt.Fprintf(stderr, "redrive: unknown command %q\n\n%s", cmd, usage)
		return exitUsage
	}
	o, err := parseFlags(cmd, args[1:], stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "redrive %s: %v\n", cmd, err)
		}
		return exitUsage
	}
	env, err := connect(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "redrive %s: %s\n", cmd, explain(err))
		return exitError
	}
	tool := &redrive.Tool{SQS: env.sqs, SourceURL: env.queueURL, DLQURL: env.dlqURL, Progress: stderr, Hold: o.hold, EmptyReceives: 2}
	code, err := dispatch(ctx, cmd, o, env, tool, stdout, stderr)
	if errors.Is(err, redrive.ErrEmptyDLQ) {
		fmt.Fprintf(stderr, "redrive %s: %s is empty: nothing to do\n", cmd, env.dlqURL)
		return exitNothing
	}
	if err != nil {
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
		reportReach(stderr, scan)
		if len(scan.Messages) == 0 {
			return exitNothing, err
		}
		return exitOK, err
	case "purge":
		scan, err := tool.Purge(ctx, o.filter)
		for _, m := range scan.Messages {
			fmt.Fprintf(stdout, "purged %s\tgroup=%s\twebhook=%s\troute=%s\treason=%s\n", m.MessageID, m.Group, m.WebhookID, m.Route, dash(string(m.Reason)))
		}
		fmt.Fprintf(stderr, "purged %d message(s)\n", len(scan.Messages))
		reportReach(stderr, scan)
		if err == nil && len(scan.Messages) == 0 {
			return exitNothing, nil
		}
		return exitOK, err
	}
	if o.dryRun {
		scan, err := tool.DryRun(ctx, o.filter)
		if err != nil {
			return exitError, err
		}
		fmt.Fprintf(stdout, "dry run: would move %d message(s) from %s to %s\n", len(scan.Messages), env.dlqURL, env.queueURL)
		err = printTable(stdout, scan.Messages)
		reportReach(stderr, scan)
		if len(scan.Messages) == 0 {
			return exitNothing, err
		}
		return exitOK, err
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
	if o.all && !o.clientSide {
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
	fmt.Fprintf(stdout, "moved %d message(s)\n", len(scan.Messages))
	reportReach(stderr, scan)
	if err == nil && len(scan.Messages) == 0 {
		return exitNothing, nil
	}
	return exitOK, err
}

func reportReach(w io.Writer, scan redrive.Scan) {
	if scan.Blocked > 0 {
		fmt.Fprintf(w, "note: %d selected message(s) stayed in the DLQ behind unselected messages of their group (FIFO order); select the whole group to move them\n", scan.Blocked)
	}
	if n := scan.Unreached(); n > 0 {
		fmt.Fprintf(w, "note: about %d message(s) were not reached: FIFO shows a group's next messages only once the ones ahead leave the DLQ\n", n)
	}
}

func printTable(w io.Writer, msgs []redrive.Message) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MESSAGE ID\tROUTE\tGROUP\tWEBHOOK ID\tFIRST FAILURE\tLAST FAILURE\tRECEIVES\tREDRIVES\tREASON\tERROR")
	for _, m := range msgs {
		errText := m.Error
		if m.Cause != "" {
			errText += ": " + oneLine(m.Cause, 80)
		}
		if len(m.Problems) > 0 {
			errText += " [" + strings.Join(m.Problems, "; ") + "]"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", m.MessageID, dash(m.Route), dash(m.Group), dash(m.WebhookID),
			stamp(m.FirstFailureAt), stamp(m.LastFailureAt), m.ReceiveCount, m.RedriveCount, dash(string(m.Reason)), dash(errText))
	}
	return tw.Flush()
}

// listedMessage is the --json shape of one message, one per line.
type listedMessage struct {
	MessageID      string   `json:"messageId"`
	Route          string   `json:"route"`
	Group          string   `json:"group"`
	WebhookID      string   `json:"webhookId"`
	ReceivedAt     string   `json:"receivedAt,omitempty"`
	FirstFailureAt string   `json:"firstFailureAt,omitempty"`
	LastFailureAt  string   `json:"lastFailureAt,omitempty"`
	ReceiveCount   int      `json:"receiveCount"`
	RedriveCount   int      `json:"redriveCount"`
	Reason         string   `json:"reason,omitempty"`
	Error          string   `json:"error,omitempty"`
	Cause          string   `json:"cause,omitempty"`
	Problems       []string `json:"problems,omitempty"`
}

func printJSON(w io.Writer, msgs []redrive.Message) error {
	enc := json.NewEncoder(w)
	for _, m := range msgs {
		err := enc.Encode(listedMessage{
			MessageID: m.MessageID, Route: m.Route, Group: m.Group, WebhookID: m.WebhookID,
			ReceivedAt: rfc(m.ReceivedAt), FirstFailureAt: rfc(m.FirstFailureAt), LastFailureAt: rfc(m.LastFailureAt),
			ReceiveCount: m.ReceiveCount, RedriveCount: m.RedriveCount, Reason: string(m.Reason), Error: m.Error, Cause: m.Cause, Problems: m.Problems,
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func rfc(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}

func stamp(t time.Time) string { return dash(rfc(t)) }

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine collapses s to one line of at most n bytes (plus "…" when cut),
// never cutting inside a rune.
func oneLine(s string, n int) string {
	return webhook.Bound(strings.Join(strings.Fields(s), " "), n)
}

// environment is what a command works on once flags, outputs and config are resolved.
type environment struct {
	sqs              *sqs.Client
	lambda           *lambda.Client
	queueURL, dlqURL string
	esmUUID          string
}

func connect(ctx context.Context, o *options) (*environment, error) {
	env := &environment{queueURL: o.queueURL, dlqURL: o.dlqURL, esmUUID: o.esmUUID}
	var queueName, dlqName string
	region := o.region
	if env.queueURL == "" && o.terraformDir != "" {
		out, err := terraformOutputs(ctx, o.terraformDir)
		if err != nil {
			return nil, err
		}
		env.queueURL, env.dlqURL = out.QueueURL, out.DLQURL
		if env.esmUUID == "" {
			env.esmUUID = out.ESMUUID
		}
		if env.queueURL == "" || env.dlqURL == "" {
			return nil, fmt.Errorf("terraform outputs in %s have no queue_url / dlq_url: was it applied?", o.terraformDir)
		}
	}
	if env.queueURL == "" || region == "" {
		cfg, err := config.Load(o.cfgPath)
		switch {
		case err != nil && env.queueURL == "":
			return nil, fmt.Errorf("no --queue-url/--dlq-url or --terraform-dir, and %w", err)
		case err != nil:
			// The queues are known; the config would only have named the
			// region, which is then the SDK's (--region's documented default).
		default:
			queueName, dlqName = cfg.QueueName(), cfg.DLQName()
			if region == "" {
				region = cfg.Region
			}
		}
	}
	opts := []func(*awsconfig.LoadOptions) error{}
	if region != "" {
		opts = append(opts, awsconfig.WithRegion(region))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	if o.endpoint != "" {
		awsCfg.BaseEndpoint = aws.String(o.endpoint)
	}
	env.sqs = sqs.NewFromConfig(awsCfg)
	env.lambda = lambda.NewFromConfig(awsCfg)
	if env.queueURL == "" {
		for _, q := range []struct {
			name string
			dst  *string
		}{{queueName, &env.queueURL}, {dlqName, &env.dlqURL}} {
			out, err := env.sqs.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(q.name)})
			if err != nil {
				return nil, fmt.Errorf("find queue %s: %w", q.name, err)
			}
			*q.dst = aws.ToString(out.QueueUrl)
		}
	}
	return env, nil
}

// tfOutputs are the module's outputs redrive reads (terraform/outputs.tf).
type tfOutputs struct {
	QueueURL, DLQURL, ESMUUID string
}

func terraformOutputs(ctx context.Context, dir string) (tfOutputs, error) {
	bin, err := tfrun.Find("--terraform-dir")
	if err != nil {
		return tfOutputs{}, err
	}
	outs, err := tfrun.StringOutputs(ctx, bin, dir)
	if err != nil {
		return tfOutputs{}, err
	}
	return tfOutputs{QueueURL: outs["queue_url"], DLQURL: outs["dlq_url"], ESMUUID: outs["forward_event_source_mapping_uuid"]}, nil
}

// explain turns the AWS errors an operator meets into what to do about them.
func explain(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "AccessDenied", "AccessDeniedException", "AuthorizationError", "UnauthorizedOperation":
			return err.Error() + "\n  → the caller lacks a permission: it needs sqs:ReceiveMessage, sqs:DeleteMessage, sqs:ChangeMessageVisibility, " +
				"sqs:GetQueueAttributes on the DLQ; sqs:SendMessage, sqs:GetQueueAttributes, sqs:GetQueueUrl on the source queue; " +
				"sqs:StartMessageMoveTask, sqs:ListMessageMoveTasks, sqs:CancelMessageMoveTask for --all; " +
				"lambda:UpdateEventSourceMapping, lambda:GetEventSourceMapping for --pause-esm"
		case "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist":
			return err.Error() + "\n  → no such queue here: check --region / --endpoint-url, or the queue URLs (--queue-url, --terraform-dir)"
		}
	}
	return err.Error()
}
