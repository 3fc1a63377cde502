package twin_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/testkit/testenv"
	"github.com/webhookq/webhookq/internal/twin"
	"github.com/webhookq/webhookq/internal/webhook"
)

// cliEnv is the environment of AWS tools run against the twin: any
// credentials do (the twin does not check signatures), the config's region.
func cliEnv(region string) []string {
	return append(os.Environ(), "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_DEFAULT_REGION="+region,
		"AWS_REGION="+region, "AWS_PAGER=", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
}

// TestAWSToolsAgainstTwin runs the AWS CLI and cmd/redrive against a running
// twin, as docs/local.md tells a newcomer to: list the queues, read the
// redrive policy, put a message in the DLQ and receive it, pause and resume
// the event source mapping, then redrive with cmd/redrive --pause-esm and see
// the message delivered with its webhook id.
func TestAWSToolsAgainstTwin(t *testing.T) {
	awsBin, err := exec.LookPath("aws")
	if err != nil {
		t.Fatal("the AWS CLI is not on PATH; run scripts/setup (pip install awscli)")
	}
	cfg, workflows := writeProject(t, fmt.Sprintf(pipelineConfig, "https://app.example.com", 1))
	tw := startTwin(t, twin.Options{Config: cfg, WorkflowsDir: workflows, DemoTarget: true})
	env := cliEnv(cfg.Region)
	aws := func(args ...string) []byte {
		t.Helper()
		cmd := exec.Command(awsBin, append([]string{"--endpoint-url", tw.ControlURL, "--output", "json"}, args...)...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}

	var queues struct{ QueueUrls []string }
	must(t, json.Unmarshal(aws("sqs", "list-queues"), &queues))
	if strings.Join(queues.QueueUrls, " ") != tw.DLQURL+" "+tw.QueueURL {
		t.Errorf("list-queues: %q, want the DLQ and the queue", queues.QueueUrls)
	}
	var attrs struct{ Attributes map[string]string }
	must(t, json.Unmarshal(aws("sqs", "get-queue-attributes", "--queue-url", tw.QueueURL, "--attribute-names", "RedrivePolicy", "FifoQueue"), &attrs))
	if !strings.Contains(attrs.Attributes["RedrivePolicy"], fmt.Sprintf(`"maxReceiveCount":%d`, config.ComputeFinality(cfg).MaxReceiveCount)) || attrs.Attributes["FifoQueue"] != "true" {
		t.Errorf("queue attributes %v", attrs.Attributes)
	}

	const id = "wh-cli-1"
	msgAttrs := fmt.Sprintf(`{"%s":{"DataType":"String","StringValue":"%s"},"%s":{"DataType":"String","StringValue":"orders"},"h-X-Group":{"DataType":"String","StringValue":"g-cli"},"h-X-Event-Type":{"DataType":"String","StringValue":"cli"}}`,
		webhook.AttrWebhookID, id, webhook.AttrRoute)
	aws("sqs", "send-message", "--queue-url", tw.DLQURL, "--message-body", `{"from":"cli"}`, "--message-group-id", "g-cli",
		"--message-deduplication-id", "cli-1", "--message-attributes", msgAttrs)
	var received struct {
		Messages []struct {
			Body              string
			ReceiptHandle     string
			Attributes        map[string]string
			MessageAttributes map[string]struct{ StringValue string }
		}
	}
	must(t, json.Unmarshal(aws("sqs", "receive-message", "--queue-url", tw.DLQURL, "--attribute-names", "All", "--message-attribute-names", "All"), &received))
	if len(received.Messages) != 1 {
		t.Fatalf("receive-message: %+v", received)
	}
	m := received.Messages[0]
	if m.Body != `{"from":"cli"}` || m.Attributes["MessageGroupId"] != "g-cli" || m.MessageAttributes[webhook.AttrWebhookID].StringValue != id {
		t.Errorf("received %+v", m)
	}
	aws("sqs", "change-message-visibility", "--queue-url", tw.DLQURL, "--receipt-handle", m.ReceiptHandle, "--visibility-timeout", "0")

	// The forward function's event source mapping, through Lambda's API.
	var mapping struct {
		UUID, State, EventSourceArn string
		BatchSize                   int
	}
	must(t, json.Unmarshal(aws("lambda", "get-event-source-mapping", "--uuid", tw.MappingUUID), &mapping))
	if mapping.State != "Enabled" || mapping.BatchSize != cfg.Queue.BatchSize || !strings.HasSuffix(mapping.EventSourceArn, ":"+cfg.QueueName()) {
		t.Errorf("get-event-source-mapping: %+v", mapping)
	}
	aws("lambda", "update-event-source-mapping", "--uuid", tw.MappingUUID, "--no-enabled")
	// As on AWS, the mapping passes through Disabling while a receive (here
	// the poller's long poll of up to a second) or a batch is still running.
	waitFor(t, 10*time.Second, "the mapping Disabled after update --no-enabled", func() bool {
		must(t, json.Unmarshal(aws("lambda", "get-event-source-mapping", "--uuid", tw.MappingUUID), &mapping))
		if mapping.State != "Disabled" && mapping.State != "Disabling" {
			t.Fatalf("after update --no-enabled: %s", mapping.State)
		}
		return mapping.State == "Disabled"
	})
	aws("lambda", "update-event-source-mapping", "--uuid", tw.MappingUUID, "--enabled")

	// cmd/redrive, pausing the mapping while it moves the message back.
	redrive := exec.Command("go", "run", "./cmd/redrive", "redrive", "--all", "--endpoint-url", tw.ControlURL, "--config", cfg.Path,
		"--pause-esm", "--esm-uuid", tw.MappingUUID)
	redrive.Dir = testenv.RepoRoot(t)
	redrive.Env = env
	if out, err := redrive.CombinedOutput(); err != nil {
		t.Fatalf("go run ./cmd/redrive redrive: %v\n%s", err, out)
	}
	must(t, json.Unmarshal(aws("lambda", "get-event-source-mapping", "--uuid", tw.MappingUUID), &mapping))
	if mapping.State != "Enabled" {
		t.Errorf("after redrive --pause-esm the mapping is %s", mapping.State)
	}
	waitFor(t, 20*time.Second, "the redriven message delivered", func() bool {
		for _, d := range tw.Demo().Snapshot().Recent {
			if d.WebhookID == id && d.Status == http.StatusOK {
				return true
			}
		}
		return false
	})
}

// docs/local.md's AWS CLI example runs as written (with the twin's address
// in place of the default one): its export line gives the CLI credentials
// and a region, which the AWS CLI refuses to run without.
func TestLocalDocAWSCLIExample(t *testing.T) {
	awsBin, err := exec.LookPath("aws")
	if err != nil {
		t.Fatal("the AWS CLI is not on PATH; run scripts/setup (pip install awscli)")
	}
	root := testenv.RepoRoot(t)
	doc, err := os.ReadFile(filepath.Join(root, "docs", "local.md"))
	must(t, err)
	cfg, err := config.Load(filepath.Join(root, "config", "routes.yaml"))
	must(t, err)
	tw := startTwin(t, twin.Options{Config: cfg, WorkflowsDir: filepath.Join(root, "workflows"), DemoTarget: true})

	// A clean environment: no credentials or region but the doc's.
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "AWS_CONFIG_FILE=" + os.DevNull, "AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull, "AWS_PAGER="}
	var command string
	for _, line := range strings.Split(strings.ReplaceAll(string(doc), "\\\n", ""), "\n") {
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, "export "); ok {
			if i := strings.Index(rest, "#"); i >= 0 {
				rest = rest[:i]
			}
			env = append(env, strings.Fields(rest)...)
		}
		if strings.HasPrefix(line, "aws --endpoint-url http://127.0.0.1:8081 sqs ") && command == "" {
			command = strings.ReplaceAll(line, "http://127.0.0.1:8081", tw.ControlURL)
		}
	}
	if command == "" {
		t.Fatal("docs/local.md has no 'aws --endpoint-url http://127.0.0.1:8081 sqs …' example")
	}
	fields := strings.Fields(command)
	cmd := exec.Command(awsBin, fields[1:]...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "QueueArn") {
		t.Fatalf("%s\nwith %q: %v\n%s", command, env[4:], err, out)
	}
}
