package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/webhookq/webhookq/internal/testkit/testenv"
	"github.com/webhookq/webhookq/internal/twin/fifo"
	"github.com/webhookq/webhookq/internal/twin/sqsapi"
	"github.com/webhookq/webhookq/internal/webhook"
)

// buildRedrive builds the command as docs/operations.md tells a user to for
// scripting (go run would turn every exit status into 1).
func buildRedrive(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "redrive")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	t.Fatal(err)
	return -1
}

// The built binary's exit statuses for usage, as a script sees them.
func TestBuiltBinaryUsage(t *testing.T) {
	t.Parallel()
	bin := buildRedrive(t)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"redrive", "--queue-url", "http://127.0.0.1:1/q", "--dlq-url", "http://127.0.0.1:1/d"}, exitUsage, "redrive needs a selection (filters) or --all"},
		{nil, exitUsage, "Usage:"},
		{[]string{"purge", "--all"}, exitUsage, "add --yes"},
		{[]string{"-h"}, exitOK, "redrive <command> -h"},
		{[]string{"redrive", "-h"}, exitOK, "--max-redrives N"},
	} {
		cmd := exec.Command(bin, tc.args...)
		out, err := cmd.CombinedOutput()
		if code := exitCode(t, err); code != tc.code || !strings.Contains(string(out), tc.want) {
			t.Errorf("redrive %q: exit %d, output %q; want exit %d mentioning %q", tc.args, code, out, tc.code, tc.want)
		}
	}
}

// Ctrl-C at a random point of a 1,000-message redrive: what the tool printed
// as moved is in the queue, exactly once and in group order; everything else
// is still in the DLQ; no webhook is in both, none is missing.
func TestInterruptedRedriveLosesAndDuplicatesNothing(t *testing.T) {
	t.Parallel()
	const total, groups = 1000, 40
	bin := buildRedrive(t)
	store, err := fifo.Open(filepath.Join(t.TempDir(), "twin.db"), fifo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	srv := httptest.NewServer(sqsapi.New(store, ""))
	t.Cleanup(srv.Close)
	client := sqs.NewFromConfig(testenv.AWSConfig(srv.URL, "us-east-1"))
	ctx := context.Background()
	mk := func(name string) string {
		out, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: map[string]string{"FifoQueue": "true"}})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.QueueUrl)
	}
	dlq, source := mk("sigint-dlq.fifo"), mk("sigint.fifo")
	for b := 0; b < total/10; b++ {
		var entries []types.SendMessageBatchRequestEntry
		for i := b * 10; i < b*10+10; i++ {
			id := fmt.Sprintf("w%04d", i)
			entries = append(entries, types.SendMessageBatchRequestEntry{
				Id: aws.String(id), MessageBody: aws.String(id), MessageGroupId: aws.String(fmt.Sprintf("g%02d", i%groups)),
				MessageDeduplicationId: aws.String(id),
				MessageAttributes:      map[string]types.MessageAttributeValue{webhook.AttrWebhookID: {DataType: aws.String("String"), StringValue: aws.String(id)}},
			})
		}
		out, err := client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(dlq), Entries: entries})
		if err != nil || len(out.Failed) > 0 {
			t.Fatalf("park batch %d: %v %+v", b, err, out)
		}
	}

	seed := uint64(time.Now().UnixNano())
	interruptAfter := 1 + rand.New(rand.NewPCG(seed, 0)).IntN(total-100)
	t.Logf("interrupting after %d moved messages (seed %d)", interruptAfter, seed)
	cmd := exec.Command(bin, "redrive", "--all", "--endpoint-url", srv.URL, "--region", "us-east-1", "--queue-url", source, "--dlq-url", dlq, "--hold", "30s")
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_CONFIG_FILE="+os.DevNull, "AWS_SHARED_CREDENTIALS_FILE="+os.DevNull)
	// Progress goes to stderr as each message moves; the report of what
	// moved and what was skipped to stdout when the run ends.
	stderrPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr strings.Builder
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	progressed := make(chan struct{})
	go func() {
		defer close(progressed)
		sc := bufio.NewScanner(stderrPipe)
		for sc.Scan() {
			line := sc.Text()
			stderr.WriteString(line + "\n")
			if strings.HasSuffix(line, fmt.Sprintf("[%d done]", interruptAfter)) {
				_ = cmd.Process.Signal(syscall.SIGINT)
			}
		}
	}()
	<-progressed
	code := exitCode(t, cmd.Wait())
	if code != exitInterrupted || !strings.Contains(stderr.String(), "interrupted") {
		t.Fatalf("exit %d after SIGINT, want %d; stderr:\n%s", code, exitInterrupted, tail(stderr.String()))
	}
	var printed []string // webhook ids the tool reported as moved
	for _, line := range strings.Split(stdout.String(), "\n") {
		if !strings.HasPrefix(line, "moved ") {
			continue
		}
		for _, f := range strings.Split(line, "\t") {
			if id, ok := strings.CutPrefix(f, "webhook="); ok {
				printed = append(printed, id)
			}
		}
	}

	moved := drainIDs(t, client, source)
	parked := drainIDs(t, client, dlq)
	if !slices.Equal(moved, printed) {
		t.Fatalf("the queue holds %d messages, the tool printed %d moved; first difference at %d", len(moved), len(printed), firstDiff(moved, printed))
	}
	seen := map[string]bool{}
	for _, id := range append(append([]string{}, moved...), parked...) {
		if seen[id] {
			t.Fatalf("webhook %s is there twice (moved %d, parked %d)", id, len(moved), len(parked))
		}
		seen[id] = true
	}
	if len(seen) != total {
		t.Fatalf("%d webhooks in the queue and the DLQ together, want %d (moved %d, parked %d)", len(seen), total, len(moved), len(parked))
	}
	// Each group's moved messages are its oldest, in order.
	next := map[string]int{}
	for _, id := range moved {
		var i int
		fmt.Sscanf(id, "w%04d", &i)
		g := i % groups
		if want := next[fmt.Sprint(g)]*groups + g; i != want {
			t.Fatalf("group g%02d: moved %s, want w%04d next", g, id, want)
		}
		next[fmt.Sprint(g)]++
	}
	t.Logf("moved %d, %d stayed in the DLQ", len(moved), len(parked))
}

// drainIDs receives and deletes everything in a queue, returning the webhook
// ids in receive order (per group: queue order).
func drainIDs(t *testing.T, client *sqs.Client, url string) []string {
	t.Helper()
	var ids []string
	for empties := 0; empties < 2; {
		out, err := client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageAttributeNames: []string{"All"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			empties++
			continue
		}
		var entries []types.DeleteMessageBatchRequestEntry
		for i, m := range out.Messages {
			ids = append(ids, aws.ToString(m.MessageAttributes[webhook.AttrWebhookID].StringValue))
			entries = append(entries, types.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: m.ReceiptHandle})
		}
		if _, err := client.DeleteMessageBatch(context.Background(), &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(url), Entries: entries}); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func tail(s string) string {
	if len(s) > 2000 {
		return "…" + s[len(s)-2000:]
	}
	return s
}
