package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/redrive"
	"github.com/webhookq/webhookq/internal/webhook"
)

// commands are the tool's commands, in the order help lists them.
var commands = []struct {
	name, synopsis, summary string
}{
	{"list", "[queue flags] [filters] [--json]",
		"list the DLQ's messages: route, group, webhook id, failure times, receive and redrive counts, reason, error"},
	{"redrive", "[queue flags] (filters | --all) [--dry-run] [--pause-esm] [--max-redrives N | --force] [--move-task [--rate N]]",
		"send the selected messages back to the queue, each once: only what the DLQ holds when the run starts"},
	{"purge", "[queue flags] (filters | --all) --yes",
		"delete the selected messages from the DLQ for good"},
}

// options are the parsed flags of one command.
type options struct {
	endpoint, region      string
	queueURL, dlqURL      string
	terraformDir, cfgPath string
	esmUUID               string
	filter                redrive.Filter
	all, dryRun, yes      bool
	jsonOut, pauseESM     bool
	moveTask, force       bool
	rate                  int
	maxRedrives           int
	hold                  time.Duration
}

// flagGroup defines one group of flags on fs; help prints each group under
// its title, so the flags are defined in one place for parsing and help.
type flagGroup struct {
	title  string
	define func(fs *flag.FlagSet, o *options)
}

var (
	queueFlags = flagGroup{"Queue flags (every command)", func(fs *flag.FlagSet, o *options) {
		fs.StringVar(&o.endpoint, "endpoint-url", "", "SQS/Lambda endpoint (moto, the local twin); default: AWS. On a loopback endpoint without AWS credentials, placeholder ones are used")
		fs.StringVar(&o.region, "region", "", "AWS region; default: the config's region, else the SDK's")
		fs.StringVar(&o.queueURL, "queue-url", "", "source queue URL (with --dlq-url)")
		fs.StringVar(&o.dlqURL, "dlq-url", "", "dead-letter queue URL (with --queue-url)")
		fs.StringVar(&o.terraformDir, "terraform-dir", "", "read the queue URLs and the event source mapping from this Terraform folder's outputs")
		fs.StringVar(&o.cfgPath, "config", config.DefaultPath, "routes.yaml, for the queue names and the region")
		fs.DurationVar(&o.hold, "hold", 60*time.Second, "how long received DLQ messages stay invisible while the tool works on them (1s..12h); released when it is done")
	}}
	filterFlags = flagGroup{"Filters (every command; repeatable; AND across kinds, OR within one)", func(fs *flag.FlagSet, o *options) {
		fs.Var((*multiFlag)(&o.filter.Routes), "route", "select by `route` name")
		fs.Var((*multiFlag)(&o.filter.Groups), "group", "select by message `group`")
		fs.Var((*multiFlag)(&o.filter.WebhookIDs), "webhook-id", "select by webhook `id`")
		fs.Var((*multiFlag)(&o.filter.MessageIDs), "message-id", "select by DLQ message `id`")
		fs.Var(reasonFlag{&o.filter.Reasons}, "reason", "select by the `reason` the forwarder parked it for: "+reasonNames())
		fs.Var(timeFlag{&o.filter.Since}, "since", "select messages received at ingress at or after this `time` (RFC 3339, or a duration ago: 90m)")
		fs.Var(timeFlag{&o.filter.Until}, "until", "select messages received at ingress before this `time` (RFC 3339, or a duration ago)")
	}}
	commandFlags = map[string]flagGroup{
		"list": {"list flags", func(fs *flag.FlagSet, o *options) {
			fs.BoolVar(&o.jsonOut, "json", false, "print one JSON object per message instead of a table")
		}},
		"redrive": {"redrive flags", func(fs *flag.FlagSet, o *options) {
			fs.BoolVar(&o.all, "all", false, "select every message (redrive refuses to run with neither filters nor --all)")
			fs.BoolVar(&o.dryRun, "dry-run", false, "print exactly what would move and what would be skipped; move nothing")
			fs.BoolVar(&o.pauseESM, "pause-esm", false, "pause the forward event source mapping while redriving (needs --esm-uuid or --terraform-dir)")
			fs.StringVar(&o.esmUUID, "esm-uuid", "", "the forward event source mapping's UUID, for --pause-esm")
			fs.IntVar(&o.maxRedrives, "max-redrives", redrive.DefaultMaxRedrives, "skip a message already redriven `N` times (it keeps failing: look first)")
			fs.BoolVar(&o.force, "force", false, "move messages past --max-redrives too")
			fs.BoolVar(&o.moveTask, "move-task", false, "with --all: use an SQS message move task (server-side; attributes unchanged; needs --force, as it cannot skip a message)")
			fs.IntVar(&o.rate, "rate", 0, "with --move-task: `messages` per second, 1..500 (0: SQS's pace)")
		}},
		"purge": {"purge flags", func(fs *flag.FlagSet, o *options) {
			fs.BoolVar(&o.all, "all", false, "select every message")
			fs.BoolVar(&o.yes, "yes", false, "confirm: delete the selected messages for good")
		}},
	}
)

// newFlagSet defines every flag of cmd on a fresh FlagSet writing to o.
func newFlagSet(cmd string, o *options, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("redrive "+cmd, flag.ContinueOnError)
	fs.SetOutput(out)
	queueFlags.define(fs, o)
	filterFlags.define(fs, o)
	commandFlags[cmd].define(fs, o)
	fs.Usage = func() {
		for _, c := range commands {
			if c.name == cmd {
				fmt.Fprintf(out, "redrive %s: %s\n\nUsage:\n  redrive %s %s\n\n", c.name, c.summary, c.name, c.synopsis)
			}
		}
		for _, g := range []flagGroup{queueFlags, filterFlags, commandFlags[cmd]} {
			printGroup(out, g)
		}
		fmt.Fprint(out, footer)
	}
	return fs
}

// printGroup prints a group's flags with their defaults, as flag does.
func printGroup(w io.Writer, g flagGroup) {
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	g.define(fs, &options{})
	fmt.Fprintf(w, "%s:\n", g.title)
	fs.SetOutput(w)
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if name != "" {
			line += " " + name
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			usage += " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(w, "%s\n    \t%s\n", line, usage)
	})
	fmt.Fprintln(w)
}

const footer = `Queues (first that applies): --queue-url and --dlq-url; --terraform-dir (reads
the applied module's outputs); else the queue names derived from --config, in its region.

Exit status: 0 done; 1 an AWS or I/O error (what was done is printed; nothing is lost);
2 bad usage; 3 nothing to do (empty DLQ, no match); 4 some messages refused by
--max-redrives (the rest moved); 130 interrupted (what moved is printed; the rest stays).
'go run' reports every non-zero status as 1: build the tool for scripts,
  go build -o bin/ ./cmd/...   then   bin/redrive …
The runbook: docs/operations.md.
`

// printHelp is 'redrive -h': every command, and every flag.
func printHelp(w io.Writer) {
	fmt.Fprint(w, "redrive: inspect and redrive webhookq's dead-letter queue\n\nUsage:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  redrive %-8s %s\n", c.name, c.synopsis)
	}
	fmt.Fprint(w, "  redrive <command> -h   one command's flags\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	printGroup(w, queueFlags)
	printGroup(w, filterFlags)
	for _, c := range commands {
		printGroup(w, commandFlags[c.name])
	}
	fmt.Fprint(w, footer)
}

// parseFlags parses one command's arguments and checks they make sense.
func parseFlags(cmd string, args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := newFlagSet(cmd, o, stderr)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if (o.queueURL == "") != (o.dlqURL == "") {
		return nil, errors.New("give both --queue-url and --dlq-url, or neither")
	}
	if o.all && !o.filter.IsZero() {
		return nil, errors.New("--all selects everything: drop the filters, or drop --all")
	}
	if o.hold < time.Second || o.hold > 12*time.Hour {
		return nil, errors.New("--hold must be between 1s and 12h")
	}
	switch cmd {
	case "redrive":
		if !o.all && o.filter.IsZero() {
			return nil, errors.New("redrive needs a selection (filters) or --all; try 'redrive list' first, or --dry-run")
		}
		if o.maxRedrives < 1 {
			return nil, errors.New("--max-redrives must be 1 or more (--force lifts the limit)")
		}
		if o.moveTask && !o.all {
			return nil, errors.New("--move-task moves the whole DLQ: it needs --all")
		}
		if o.moveTask && !o.force {
			return nil, errors.New("--move-task moves every message as it is and cannot skip one redriven --max-redrives times: add --force, or drop --move-task")
		}
		if o.rate != 0 && !o.moveTask {
			return nil, errors.New("--rate paces a move task: it needs --move-task")
		}
		if o.rate < 0 || o.rate > 500 {
			return nil, errors.New("--rate must be between 1 and 500 messages per second (0: SQS's pace)")
		}
		if o.moveTask && o.dryRun {
			return nil, errors.New("--dry-run shows a message-by-message run: drop --move-task")
		}
	case "purge":
		if !o.all && o.filter.IsZero() {
			return nil, errors.New("purge needs a selection (filters) or --all")
		}
		if !o.yes {
			return nil, errors.New("purge deletes messages for good: add --yes to confirm (try 'redrive list' with the same filters first)")
		}
	}
	return o, nil
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
