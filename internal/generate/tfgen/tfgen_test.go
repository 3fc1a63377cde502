package tfgen

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/webhook"
)

var update = flag.Bool("update", false, "rewrite testdata/*.tf.json from the current output")

func mustLocals(t testing.TB, cfg *config.Config) []byte {
	t.Helper()
	b, err := Locals(cfg, workflowFiles(cfg))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decoded is generated.tf.json read back the way Terraform reads it (modulo
// template escapes), for semantic assertions.
type decoded struct {
	Comment string `json:"//"`
	Locals  struct {
		Webhookq module `json:"webhookq"`
	} `json:"locals"`
}

func decode(t *testing.T, b []byte) module {
	t.Helper()
	var d decoded
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("generated.tf.json does not decode: %v", err)
	}
	if d.Comment != GeneratedNotice {
		t.Errorf("// = %q, want the generated notice", d.Comment)
	}
	return d.Locals.Webhookq
}

func TestLocalsGolden(t *testing.T) {
	t.Parallel()
	for name, cfg := range testConfigs(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := mustLocals(t, cfg)
			path := filepath.Join("testdata", name+".tf.json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/generate/tfgen -run Golden -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Locals differs from %s (run with -update after checking the change):\n%s", path, got)
			}
		})
	}
}

func TestLocalsDeterministicSortedIndented(t *testing.T) {
	t.Parallel()
	for name, cfg := range testConfigs(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			first := mustLocals(t, cfg)
			for range 5 {
				if again := mustLocals(t, cfg); !bytes.Equal(first, again) {
					t.Fatal("Locals is not deterministic")
				}
			}
			// Re-encoding through generic maps sorts every object's keys; equal
			// bytes mean the output was sorted and indented the same way.
			var generic any
			if err := json.Unmarshal(first, &generic); err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(generic); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(first, buf.Bytes()) {
				t.Errorf("output is not sorted, two-space indented JSON:\n%s", first)
			}
			if !bytes.HasSuffix(first, []byte("}\n")) {
				t.Error("output must end in a newline")
			}
			if !bytes.HasPrefix(first, []byte("{\n  \"//\": ")) {
				t.Errorf("the generated notice must be the first key:\n%.80s", first)
			}
		})
	}
}

// TestLocalsCarryWhatTheModuleReads checks every value against its source
// in the config, the budget and the wire contract.
func TestLocalsCarryWhatTheModuleReads(t *testing.T) {
	t.Parallel()
	for name, cfg := range testConfigs(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m := decode(t, mustLocals(t, cfg))
			budget := config.ComputeBudget(cfg)
			check := func(what string, got, want any) {
				t.Helper()
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %#v, want %#v", what, got, want)
				}
			}
			check("service", m.Service, cfg.Service)
			check("region", m.Region, cfg.Region)
			check("queue.name", m.Queue.Name, cfg.QueueName())
			check("queue.dlq_name", m.Queue.DLQName, cfg.DLQName())
			check("queue.visibility_timeout_seconds", m.Queue.VisibilityTimeoutSeconds, int(budget.VisibilityTimeout.Seconds()))
			check("queue.retention_seconds", m.Queue.RetentionSeconds, int(cfg.Queue.Retention.Seconds()))
			check("queue.dlq_retention_seconds", m.Queue.DLQRetentionSeconds, int(cfg.Queue.DLQRetention.Seconds()))
			check("queue.max_receive_count", m.Queue.MaxReceiveCount, config.ComputeFinality(cfg).MaxReceiveCount)
			check("queue.batch_size", m.Queue.BatchSize, cfg.Queue.BatchSize)
			check("queue.max_concurrency", m.Queue.MaxConcurrency, cfg.Queue.MaxConcurrency)
			check("queue.high_throughput", m.Queue.HighThroughput, cfg.Queue.HighThroughput)
			check("queue.max_message_bytes", m.Queue.MaxMessageBytes, config.QueueMaxMessageBytes)
			check("queue.dlq_max_message_bytes", m.Queue.DLQMaxMessageBytes, config.DLQMaxMessageBytes)

			check("functions.forward.name", m.Functions.Forward.Name, cfg.FunctionName("forward"))
			check("functions.deliver.name", m.Functions.Deliver.Name, cfg.FunctionName("deliver"))
			check("functions.notify.name", m.Functions.Notify.Name, cfg.FunctionName("notify"))
			check("functions.forward.timeout_seconds", m.Functions.Forward.TimeoutSeconds, int(budget.ForwardTimeout.Seconds()))
			check("functions.notify.timeout_seconds", m.Functions.Notify.TimeoutSeconds, int(config.NotifyTimeout.Seconds()))
			for _, rb := range budget.Routes {
				if m.Functions.Deliver.TimeoutSeconds < int(rb.DeliverTimeout.Seconds()) {
					t.Errorf("deliver timeout %ds is shorter than route %s needs (%v)", m.Functions.Deliver.TimeoutSeconds, rb.Route, rb.DeliverTimeout)
				}
			}
			if m.Queue.VisibilityTimeoutSeconds < 6*m.Functions.Forward.TimeoutSeconds {
				t.Errorf("visibility timeout %ds < 6 × forward timeout %ds", m.Queue.VisibilityTimeoutSeconds, m.Functions.Forward.TimeoutSeconds)
			}

			check("attributes", m.Attributes, attributes{
				HeaderPrefix: webhook.AttrHeaderPrefix, ReceivedAt: webhook.AttrReceivedAt,
				Route: webhook.AttrRoute, WebhookID: webhook.AttrWebhookID,
			})
			check("env", m.Env, env{DLQURL: webhook.EnvDLQURL, NotifyFunction: webhook.EnvNotifyFunction, ProbeKey: webhook.EnvProbeKey, QueueURL: webhook.EnvQueueURL, StateMachineARNPrefix: webhook.EnvStateMachineARNPrefix})
			check("logging", m.Logging, logging{
				IncludeExecutionData: cfg.Logging.IncludeExecutionData,
				Level:                string(cfg.Logging.Level),
				RetentionDays:        cfg.Logging.RetentionDays,
			})
			var verifySSM, verifySM []string
			for _, r := range cfg.Routes {
				if r.Verify != nil && r.Verify.Secret.SSMParameter != "" && !slices.Contains(verifySSM, r.Verify.Secret.SSMParameter) {
					verifySSM = append(verifySSM, r.Verify.Secret.SSMParameter)
				}
				if r.Verify != nil && r.Verify.Secret.SecretsManager != "" && !slices.Contains(verifySM, r.Verify.Secret.SecretsManager) {
					verifySM = append(verifySM, r.Verify.Secret.SecretsManager)
				}
			}
			slices.Sort(verifySSM)
			slices.Sort(verifySM)
			check("verify_secrets", m.VerifySecrets, secretRefs{SSMParameters: append([]string{}, verifySSM...), SecretsManager: append([]string{}, verifySM...)})
			check("ingress.create_api", m.Ingress.CreateAPI, cfg.Ingress.CreatesAPI())
			check("ingress.base_path", m.Ingress.BasePath, cfg.Ingress.BasePath)
			check("ingress.throttle", m.Ingress.Throttle, throttle{Rate: cfg.Ingress.Throttle.Rate, Burst: cfg.Ingress.Throttle.Burst})
			if cfg.Ingress.CreatesAPI() {
				check("ingress.api_name", m.Ingress.APIName, cfg.Service)
			} else {
				check("ingress.api_name", m.Ingress.APIName, cfg.Ingress.HTTPAPIName)
			}

			check("route names", sortedKeys(m.Routes), sortedKeys(workflowFiles(cfg)))
			for _, r := range cfg.Routes {
				got := m.Routes[r.Name]
				check(r.Name+".state_machine_name", got.StateMachineName, cfg.StateMachineName(r))
				check(r.Name+".path", got.Path, cfg.IngressPath(r))
				check(r.Name+".workflow", got.Workflow, "../workflows/"+r.Name+".asl.json")
				check(r.Name+".group", []string{got.Group.Source, got.Group.Value}, []string{string(r.Group.Source), r.Group.Value})
				check(r.Name+".dedup", []string{got.Dedup.Source, got.Dedup.Header}, []string{string(r.Dedup.Source), r.Dedup.Header})
				check(r.Name+".headers", got.Headers, append([]string{}, r.Headers...))
				check(r.Name+".throttle", got.Throttle, throttle{Rate: r.Throttle.Rate, Burst: r.Throttle.Burst})
			}
		})
	}
}

func TestLocalsSecretReferences(t *testing.T) {
	t.Parallel()
	ex := decode(t, mustLocals(t, exampleConfig(t)))
	if want := []string{"/sales-approvals/outbound-signing-secret", "/sales-approvals/workflow-saas-signing-secret"}; !reflect.DeepEqual(ex.Secrets.SSMParameters, want) {
		t.Errorf("example deliver ssm parameters = %q, want %q", ex.Secrets.SSMParameters, want)
	}
	if len(ex.Secrets.SecretsManager) != 0 {
		t.Errorf("example deliver secrets = %q, want none", ex.Secrets.SecretsManager)
	}
	if want := []string{"/sales-approvals/slack-webhook-url"}; !reflect.DeepEqual(ex.Notify.SlackWebhookURL.SSMParameters, want) {
		t.Errorf("example slack parameter = %q, want %q", ex.Notify.SlackWebhookURL.SSMParameters, want)
	}

	cr := decode(t, mustLocals(t, createdAPIConfig(t)))
	want := []string{
		"arn:aws:secretsmanager:us-east-1:123456789012:secret:billing/token-AbCdEf",
		"billing/api-key",
		"billing/stripe-signing",
	}
	if !reflect.DeepEqual(cr.Secrets.SecretsManager, want) {
		t.Errorf("deliver secrets = %q, want %q (sorted, from secret headers and verify)", cr.Secrets.SecretsManager, want)
	}
	if len(cr.Secrets.SSMParameters) != 0 {
		t.Errorf("deliver ssm parameters = %q, want none", cr.Secrets.SSMParameters)
	}
	if cr.Notify.SNSTopicARN != "arn:aws:sns:us-east-1:123456789012:billing-alerts" ||
		!reflect.DeepEqual(cr.Notify.SlackWebhookURL.SecretsManager, []string{"billing/slack-webhook"}) {
		t.Errorf("notify = %+v", cr.Notify)
	}

	// A secret used twice is granted once; env references are the local
	// twin's and grant nothing.
	cfg := exampleConfig(t)
	cfg.Target.SecretHeaders = map[string]config.SecretRef{
		"Authorization": {SSMParameter: "/sales-approvals/outbound-signing-secret"},
		"X-Local":       {Env: "LOCAL_TOKEN"},
	}
	m := decode(t, mustLocals(t, cfg))
	if len(m.Secrets.SSMParameters) != 2 || len(m.Secrets.SecretsManager) != 0 {
		t.Errorf("secrets = %+v, want the two distinct SSM parameters only", m.Secrets)
	}
}

// Empty lists are JSON arrays, never null: the module iterates over them.
func TestLocalsEmptyListsAreArrays(t *testing.T) {
	t.Parallel()
	cfg := createdAPIConfig(t)
	cfg.Notify = config.Notify{When: config.NotifyNever}
	cfg.Target.SecretHeaders = nil
	cfg.Routes[1].Verify = nil
	b := mustLocals(t, cfg)
	if bytes.Contains(b, []byte("null")) {
		t.Errorf("output holds null:\n%s", b)
	}
}

func TestLocalsEscapesTemplateSequences(t *testing.T) {
	t.Parallel()
	cfg := createdAPIConfig(t)
	cfg.Notify.SNSTopicARN = "arn:aws:sns:us-east-1:123456789012:a${b}%{c}"
	b := mustLocals(t, cfg)
	if !bytes.Contains(b, []byte(`a$${b}%%{c}`)) {
		t.Errorf("template sequences not escaped:\n%s", b)
	}
	for in, want := range map[string]string{
		`"${x}"`:   `"$${x}"`,
		`"%{x}"`:   `"%%{x}"`,
		`"$${x}"`:  `"$$${x}"`, // Terraform reads "$" + "${x}": the literal stays.
		`"$x {y}"`: `"$x {y}"`,
	} {
		if got := string(escapeTemplates([]byte(in))); got != want {
			t.Errorf("escapeTemplates(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestLocalsReportsEveryProblem(t *testing.T) {
	t.Parallel()
	cfg := exampleConfig(t)
	cfg.Routes[0].Headers = []string{"A", "B", "C", "D", "E"}
	cfg.Routes[1].Headers = []string{"X Bad"}
	workflows := workflowFiles(cfg)
	delete(workflows, "approval-completed")
	_, err := Locals(cfg, workflows)
	if err == nil {
		t.Fatal("Locals accepted an invalid input")
	}
	for _, want := range []string{
		fmt.Sprintf("route approval-progress: 5 headers carried, at most %d", config.MaxCarriedHeaders),
		`route approval-completed: header "X Bad" cannot be an SQS message attribute name`,
		"route approval-completed: no workflow file",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestRoleName(t *testing.T) {
	t.Parallel()
	short := "sales-approvals-forward"
	if got := roleName(short); got != short {
		t.Errorf("roleName(%q) = %q, want it unchanged", short, got)
	}
	a := strings.Repeat("x", 60) + "-route-one-sfn"
	b := strings.Repeat("x", 60) + "-route-two-sfn"
	ra, rb := roleName(a), roleName(b)
	if len(ra) != maxRoleName || len(rb) != maxRoleName {
		t.Errorf("lengths %d, %d; want %d", len(ra), len(rb), maxRoleName)
	}
	if ra == rb {
		t.Errorf("two long names collide: %q", ra)
	}
	if roleName(a) != ra {
		t.Error("roleName is not stable")
	}
}

// manyRoutes is the example with n routes.
func manyRoutes(b *testing.B, n int) *config.Config {
	cfg := exampleConfig(b)
	base := cfg.Routes
	cfg.Routes = make([]config.Route, n)
	for i := range cfg.Routes {
		r := base[i%len(base)]
		r.Name = fmt.Sprintf("route-%04d", i)
		r.Path = "/" + r.Name
		cfg.Routes[i] = r
	}
	return cfg
}

func BenchmarkLocals(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		cfg := manyRoutes(b, n)
		workflows := workflowFiles(cfg)
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Locals(cfg, workflows); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func testConfigs(t *testing.T) map[string]*config.Config {
	return map[string]*config.Config{"example": exampleConfig(t), "created-api": createdAPIConfig(t)}
}
