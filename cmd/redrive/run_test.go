package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/webhookq/webhookq/internal/testkit/testenv"
	"github.com/webhookq/webhookq/internal/twin/fifo"
	"github.com/webhookq/webhookq/internal/twin/sqsapi"
	"github.com/webhookq/webhookq/internal/webhook"
)

// cli runs the command in-process against an SQS endpoint and two queues.
type cli struct {
	endpoint, source, dlq string
	client                *sqs.Client
}

func (c cli) run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	full := append([]string{args[0], "--endpoint-url", c.endpoint, "--region", "us-east-1", "--queue-url", c.source, "--dlq-url", c.dlq, "--hold", "5s"}, args[1:]...)
	var out, errOut bytes.Buffer
	code = run(context.Background(), full, &out, &errOut)
	return code, out.String(), errOut.String()
}

func (c cli) count(t *testing.T, url string) int {
	t.Helper()
	out, err := c.client.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url), AttributeNames: []types.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var n, m int
	fmt.Sscan(out.Attributes["ApproximateNumberOfMessages"], &n)
	fmt.Sscan(out.Attributes["ApproximateNumberOfMessagesNotVisible"], &m)
	return n + m
}

func newCLI(t *testing.T, endpoint, name string) cli {
	t.Helper()
	testenv.AWSEnv(t, "us-east-1")
	client := sqs.NewFromConfig(testenv.AWSConfig(endpoint, "us-east-1"))
	ctx := context.Background()
	mk := func(n string) string {
		out, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(n), Attributes: map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"}})
		if err != nil {
			t.Fatal(err)
		}
		return *out.QueueUrl
	}
	dlq := mk(name + "-dlq.fifo")
	attrs, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(dlq), AttributeNames: []types.QueueAttributeName{"QueueArn"}})
	if err != nil {
		t.Fatal(err)
	}
	source := mk(name + ".fifo")
	policy := fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":5}`, attrs.Attributes["QueueArn"])
	if _, err := client.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(source), Attributes: map[string]string{"RedrivePolicy": policy}}); err != nil {
		t.Fatal(err)
	}
	return cli{endpoint: endpoint, client: client, source: source, dlq: dlq}
}

func (c cli) park(t *testing.T, group, id string) { t.Helper(); c.parkRedriven(t, group, id, 0) }

// parkRedriven parks a message already redriven redrives times.
func (c cli) parkRedriven(t *testing.T, group, id string, redrives int) {
	t.Helper()
	attrs := map[string]types.MessageAttributeValue{
		webhook.AttrWebhookID: {DataType: aws.String("String"), StringValue: aws.String(id)},
		webhook.AttrRoute:     {DataType: aws.String("String"), StringValue: aws.String("approval-progress")},
	}
	if redrives > 0 {
		attrs[webhook.AttrRedriveCount] = types.MessageAttributeValue{DataType: aws.String("Number"), StringValue: aws.String(fmt.Sprint(redrives))}
	}
	_, err := c.client.SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl: aws.String(c.dlq), MessageBody: aws.String("body-" + id), MessageGroupId: aws.String(group), MessageDeduplicationId: aws.String(id),
		MessageAttributes: attrs,
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The subtests share one moto server and use their own queues; they run one
// after another because the CLI reads credentials from the environment.
func TestCLIAgainstMoto(t *testing.T) {
	endpoint := testenv.Moto(t)

	t.Run("usage errors", func(t *testing.T) {
		c := newCLI(t, endpoint, "usage")
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"purge", "--group", "g"}, "add --yes to confirm"},
			{[]string{"purge", "--yes"}, "purge needs a selection"},
			{[]string{"redrive", "--all", "--group", "g"}, "--all selects everything"},
			{[]string{"list", "extra"}, `unexpected argument "extra"`},
			{[]string{"list", "--since", "last tuesday"}, "want an RFC 3339 time"},
			{[]string{"purge", "--reason", "forged", "--yes"}, "unknown reason \"forged\": want one of exhausted, permanent, malformed, too_large, signature"},
			{[]string{"redrive", "--all", "--pause-esm"}, "--pause-esm needs the event source mapping"},
			{[]string{"redrive"}, "redrive needs a selection (filters) or --all"},
			{[]string{"redrive", "--dry-run"}, "redrive needs a selection (filters) or --all"},
			{[]string{"redrive", "--all", "--move-task"}, "add --force"},
			{[]string{"redrive", "--group", "g", "--move-task", "--force"}, "it needs --all"},
			{[]string{"redrive", "--all", "--rate", "5"}, "--rate paces a move task"},
			{[]string{"redrive", "--all", "--max-redrives", "0"}, "--max-redrives must be 1 or more"},
		} {
			code, _, stderr := c.run(t, tc.args...)
			if code != exitUsage || !strings.Contains(stderr, tc.want) {
				t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", tc.args, code, stderr, exitUsage, tc.want)
			}
		}
		var out, errOut bytes.Buffer
		if code := run(context.Background(), []string{"frobnicate"}, &out, &errOut); code != exitUsage || !strings.Contains(errOut.String(), "unknown command") {
			t.Errorf("unknown command: exit %d, %q", code, errOut.String())
		}
	})

	t.Run("empty DLQ exits 3", func(t *testing.T) {
		c := newCLI(t, endpoint, "empty")
		code, _, stderr := c.run(t, "list")
		if code != exitNothing || !strings.Contains(stderr, "is empty") {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
	})

	t.Run("list --json, dry run, purge with confirmation, redrive --all", func(t *testing.T) {
		c := newCLI(t, endpoint, "flow")
		c.park(t, "g1", "w1")
		c.park(t, "g1", "w2")
		c.park(t, "g2", "w3")

		code, stdout, stderr := c.run(t, "list", "--json", "--group", "g1")
		if code != exitOK {
			t.Fatalf("list: exit %d: %s", code, stderr)
		}
		var ids []string
		for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
			var m listedMessage
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("list --json line %q: %v", line, err)
			}
			ids = append(ids, m.WebhookID)
		}
		if strings.Join(ids, ",") != "w1,w2" {
			t.Fatalf("list --json --group g1 printed %v", ids)
		}

		code, stdout, _ = c.run(t, "redrive", "--all", "--dry-run")
		if code != exitOK || !strings.Contains(stdout, "would move 3 message(s)") {
			t.Fatalf("dry run: exit %d, %q", code, stdout)
		}
		if n := c.count(t, c.source); n != 0 {
			t.Fatalf("dry run moved %d messages", n)
		}

		code, stdout, _ = c.run(t, "purge", "--webhook-id", "w3", "--yes")
		if code != exitOK || !strings.Contains(stdout, "purged") || !strings.Contains(stdout, "webhook=w3") {
			t.Fatalf("purge: exit %d, %q", code, stdout)
		}

		code, stdout, stderr = c.run(t, "redrive", "--all")
		if code != exitOK || strings.Count(stdout, "moved ") != 2 || !strings.Contains(stdout, "webhook=w1") || !strings.Contains(stderr, "moved 2 message(s)") {
			t.Fatalf("redrive --all: exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
		if !strings.Contains(stderr, "warning: the forwarder keeps running") {
			t.Errorf("redrive without --pause-esm did not warn about the FIFO trade-off: %q", stderr)
		}
		if n := c.count(t, c.source); n != 2 {
			t.Fatalf("source queue holds %d after redrive --all, want 2", n)
		}
		if n := c.count(t, c.dlq); n != 0 {
			t.Fatalf("DLQ holds %d after redrive --all, want 0", n)
		}
	})

	t.Run("--max-redrives refuses, --force moves, exit 4", func(t *testing.T) {
		c := newCLI(t, endpoint, "limit")
		c.parkRedriven(t, "g1", "tired", 3)
		c.park(t, "g2", "fresh")
		code, stdout, stderr := c.run(t, "redrive", "--all")
		if code != exitRefused || !strings.Contains(stdout, "webhook=fresh") ||
			!strings.Contains(stdout, "skipped ") || !strings.Contains(stdout, "webhook=tired\tredrives=3\tmax_redrives: redriven the maximum number of times") ||
			!strings.Contains(stderr, "moved 1 message(s), skipped 1 (1 max_redrives)") {
			t.Fatalf("redrive --all: exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
		if code, stdout, stderr := c.run(t, "redrive", "--webhook-id", "tired", "--max-redrives", "4"); code != exitOK || !strings.Contains(stdout, "webhook=tired") {
			t.Fatalf("redrive --max-redrives 4: exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
		if n := c.count(t, c.source); n != 2 {
			t.Fatalf("source queue holds %d, want 2", n)
		}
		c.parkRedriven(t, "g3", "weary", 7)
		if code, stdout, stderr := c.run(t, "redrive", "--all", "--force"); code != exitOK || !strings.Contains(stdout, "webhook=weary") {
			t.Fatalf("redrive --all --force: exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
	})

	t.Run("--move-task falls back where there are no move tasks", func(t *testing.T) {
		c := newCLI(t, endpoint, "fallback")
		c.park(t, "g1", "w1")
		code, stdout, stderr := c.run(t, "redrive", "--all", "--move-task", "--force")
		if code != exitOK || !strings.Contains(stdout, "webhook=w1") || !strings.Contains(stderr, "message by message") {
			t.Fatalf("redrive --all --move-task: exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
	})

	t.Run("queue URLs need no config", func(t *testing.T) {
		c := newCLI(t, endpoint, "noconfig")
		c.park(t, "g1", "w1")
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"list", "--endpoint-url", c.endpoint, "--queue-url", c.source, "--dlq-url", c.dlq,
			"--config", filepath.Join(t.TempDir(), "missing.yaml")}, &out, &errOut)
		if code != exitOK || !strings.Contains(out.String(), "w1") {
			t.Fatalf("list with queue URLs and no routes.yaml: exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
		}
	})

	t.Run("wrong queue is explained", func(t *testing.T) {
		c := newCLI(t, endpoint, "wrong")
		c.dlq = strings.Replace(c.dlq, "wrong-dlq", "missing-dlq", 1)
		code, _, stderr := c.run(t, "list")
		if code != exitError || !strings.Contains(stderr, "no such queue here") {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
	})
}

// The same operator flow against the local twin's SQS endpoint, which also
// runs SQS message move tasks (moto does not): redrive --all moves through a
// task there, and the twin's FIFO redrive policy parks messages on its own.
func TestCLIAgainstTheTwin(t *testing.T) {
	store, err := fifo.Open(filepath.Join(t.TempDir(), "twin.db"), fifo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	srv := httptest.NewServer(sqsapi.New(store, ""))
	t.Cleanup(srv.Close)

	c := newCLI(t, srv.URL, "twin")
	c.park(t, "g1", "w1")
	c.park(t, "g1", "w2")
	c.park(t, "g2", "w3")

	code, stdout, stderr := c.run(t, "list")
	if code != exitOK || !strings.Contains(stdout, "w1") || !strings.Contains(stdout, "w3") {
		t.Fatalf("list: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, stdout, stderr = c.run(t, "redrive", "--group", "g1", "--dry-run")
	if code != exitOK || !strings.Contains(stdout, "would move 2 message(s)") {
		t.Fatalf("dry run: exit %d, %q %q", code, stdout, stderr)
	}
	code, stdout, stderr = c.run(t, "redrive", "--all", "--move-task", "--force", "--rate", "10")
	if code != exitOK || !strings.Contains(stdout, "moved 3 message(s) with move task") {
		t.Fatalf("redrive --all: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if n := c.count(t, c.source); n != 3 {
		t.Fatalf("source queue holds %d after the move task, want 3", n)
	}
	if n := c.count(t, c.dlq); n != 0 {
		t.Fatalf("DLQ holds %d after the move task, want 0", n)
	}
	code, _, stderr = c.run(t, "redrive", "--all")
	if code != exitNothing || !strings.Contains(stderr, "is empty") {
		t.Fatalf("redrive --all on an empty DLQ: exit %d, stderr %q; want exit %d", code, stderr, exitNothing)
	}
}

func TestOneLineNeverCutsARune(t *testing.T) {
	t.Parallel()
	got := oneLine("déjà\nvu: "+strings.Repeat("é", 50), 20)
	if !utf8.ValidString(got) || !strings.HasPrefix(got, "déjà vu: ") || !strings.HasSuffix(got, "…") || len(got) > 20+len("…") {
		t.Errorf("oneLine = %q", got)
	}
}

// The queue URLs and the mapping come from the names the module's
// outputs.tf gives them (read from a state file as `terraform apply` leaves it).
func TestTerraformOutputsNames(t *testing.T) {
	t.Parallel()
	testenv.Terraform(t)
	dir := t.TempDir()
	state, err := os.ReadFile(filepath.Join("testdata", "applied-state.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "terraform.tfstate"), state, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := terraformOutputs(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(out.QueueURL, "/sales-approvals.fifo") || !strings.HasSuffix(out.DLQURL, "/sales-approvals-dlq.fifo") ||
		out.ESMUUID != "6c9f6d0e-1b2a-4c3d-9e8f-0a1b2c3d4e5f" {
		t.Fatalf("outputs read as %+v", out)
	}
	module, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "terraform", "outputs.tf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"queue_url", "dlq_url", "forward_event_source_mapping_uuid"} {
		if !strings.Contains(string(module), `output "`+name+`"`) {
			t.Errorf("terraform/outputs.tf has no output %q, which redrive reads", name)
		}
	}
}

// docs/operations.md explains --reason with a table that must be
// webhook.Reasons, row for row.
func TestOperationsDocListsEveryReason(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	// The rows of the table headed "| reason | …".
	var rows []string
	in := false
	for _, line := range strings.Split(string(doc), "\n") {
		switch {
		case strings.HasPrefix(line, "| reason |"):
			in = true
		case in && strings.HasPrefix(line, "| `"):
			rows = append(rows, line)
		case in && !strings.HasPrefix(line, "| ---"):
			in = false
		}
	}
	var want []string
	for _, r := range webhook.Reasons {
		want = append(want, "| `"+string(r.Reason)+"` | "+r.Meaning+" |")
	}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("docs/operations.md's reason table:\n%s\nwant (webhook.Reasons):\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
}

// Every flag of every command is in 'redrive -h', in 'redrive <command> -h'
// and in docs/operations.md: the FlagSets are the one list.
func TestHelpAndDocsListEveryFlag(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	var top bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, &top, io.Discard); code != exitOK {
		t.Fatalf("redrive -h: exit %d", code)
	}
	for _, c := range commands {
		var own bytes.Buffer
		if code := run(context.Background(), []string{c.name, "-h"}, &own, io.Discard); code != exitOK {
			t.Fatalf("redrive %s -h: exit %d", c.name, code)
		}
		newFlagSet(c.name, &options{}, io.Discard).VisitAll(func(f *flag.Flag) {
			for where, text := range map[string]string{"redrive -h": top.String(), "redrive " + c.name + " -h": own.String(), "docs/operations.md": string(doc)} {
				if !strings.Contains(text, "--"+f.Name) {
					t.Errorf("%s does not mention %s's flag --%s", where, c.name, f.Name)
				}
			}
		})
	}
	for _, want := range []string{"130", "go build -o bin/ ./cmd/..."} {
		if !strings.Contains(top.String(), want) || !strings.Contains(string(doc), want) {
			t.Errorf("redrive -h or docs/operations.md does not say %q", want)
		}
	}
}
