package applytest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/generate"
	"github.com/webhookq/webhookq/internal/generate/bundle"
	"github.com/webhookq/webhookq/internal/testkit/testenv"
	"github.com/webhookq/webhookq/internal/tfrun"
)

// edit is one change to config/routes.yaml for the test: the value at a
// dotted path ("routes[approval-completed]" selects a route by name).
type edit struct{ path, value string }

// testConfig is the example config/routes.yaml with only what a local run
// needs changed: the target is the test's server, retries and receives are
// few and short, and failures also go to an SNS topic in moto. Everything
// else — names, routes, secrets, logging — is the example's.
func testConfig(t *testing.T, targetURL, topicARN string) []byte {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "config", "routes.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		t.Fatal(err)
	}
	for _, e := range []edit{
		{"target.base_url", targetURL},
		{"target.timeout", "2s"},
		{"queue.retry_window", "0s"},
		{"queue.redelivery_delay", "0s"},
		{"queue.max_redelivery_delay", "0s"},
		{"retry.max_attempts", "2"},
		{"retry.interval", "1s"},
		{"retry.max_delay", "1s"},
		{"notify.sns_topic_arn", topicARN},
		{"routes[approval-completed].overrides.retry.max_attempts", "2"},
		{"routes[approval-completed].overrides.retry.interval", "1s"},
	} {
		if err := setValue(doc.Content[0], strings.Split(e.path, "."), e.value); err != nil {
			t.Fatalf("edit %s: %v", e.path, err)
		}
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// setValue sets (or adds) the scalar at path below a mapping node.
func setValue(n *yaml.Node, path []string, value string) error {
	key := path[0]
	if name, ok := strings.CutPrefix(key, "routes["); ok {
		routes := lookup(n, "routes")
		if routes == nil || routes.Kind != yaml.SequenceNode {
			return fmt.Errorf("no routes list")
		}
		for _, r := range routes.Content {
			if v := lookup(r, "name"); v != nil && v.Value == strings.TrimSuffix(name, "]") {
				return setValue(r, path[1:], value)
			}
		}
		return fmt.Errorf("no route %s", name)
	}
	child := lookup(n, key)
	if len(path) == 1 {
		if child == nil {
			n.Content = append(n.Content,
				&yaml.Node{Kind: yaml.ScalarNode, Value: key},
				&yaml.Node{Kind: yaml.ScalarNode, Value: value})
			return nil
		}
		if child.Kind != yaml.ScalarNode {
			return fmt.Errorf("%s is not a scalar", key)
		}
		child.Value, child.Tag, child.Style = value, "", 0
		return nil
	}
	if child == nil {
		return fmt.Errorf("no key %s", key)
	}
	return setValue(child, path[1:], value)
}

func lookup(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// staged is the module laid out in a temporary folder as a checkout would
// hold it: terraform/*.tf, terraform/generated.tf.json, workflows/, dist/.
type staged struct {
	Dir    string // holds terraform/, workflows/, dist/
	Config *config.Config
	Files  map[string][]byte // every generated file and zip, by repository path
	Locals locals
}

// stage generates everything from routesYAML with cmd/generate's code
// (internal/generate for the workflows and locals, internal/generate/bundle for the
// linux/arm64 zips) and copies the hand-written module beside it.
func stage(t *testing.T, routesYAML []byte) *staged {
	t.Helper()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config", "routes.yaml")
	if err := os.MkdirAll(filepath.Dir(cfgPath), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgPath, routesYAML, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(cfgPath, routesYAML)
	if err != nil {
		t.Fatalf("test routes.yaml:\n%v", err)
	}
	files, err := generate.Files(cfg)
	if err != nil {
		t.Fatal(err)
	}
	zips, err := bundle.Build(context.Background(), bundle.Options{ModuleRoot: testenv.RepoRoot(t), Config: routesYAML})
	if err != nil {
		t.Fatal(err)
	}
	for p, z := range zips {
		files[p] = z
	}
	if err := tfrun.Stage(dir, testenv.RepoRoot(t), files); err != nil {
		t.Fatal(err)
	}
	s := &staged{Dir: dir, Config: cfg, Files: files}
	var gen struct {
		Locals struct {
			Webhookq locals `json:"webhookq"`
		} `json:"locals"`
	}
	if err := json.Unmarshal(files[generate.TerraformLocalsPath], &gen); err != nil {
		t.Fatal(err)
	}
	s.Locals = gen.Locals.Webhookq
	return s
}

// locals is the part of generated.tf.json the assertions compare with.
type locals struct {
	Functions map[string]struct {
		Name           string `json:"name"`
		RoleName       string `json:"role_name"`
		TimeoutSeconds int32  `json:"timeout_seconds"`
		MemoryMB       int32  `json:"memory_mb"`
		Zip            string `json:"zip"`
	} `json:"functions"`
	Ingress struct {
		APIName  string `json:"api_name"`
		RoleName string `json:"role_name"`
	} `json:"ingress"`
	Logging struct {
		Level                string `json:"level"`
		IncludeExecutionData bool   `json:"include_execution_data"`
		RetentionDays        int32  `json:"retention_days"`
	} `json:"logging"`
	Queue struct {
		Name                     string `json:"name"`
		DLQName                  string `json:"dlq_name"`
		BatchSize                int32  `json:"batch_size"`
		MaxConcurrency           int32  `json:"max_concurrency"`
		MaxReceiveCount          int    `json:"max_receive_count"`
		RetentionSeconds         int    `json:"retention_seconds"`
		DLQRetentionSeconds      int    `json:"dlq_retention_seconds"`
		VisibilityTimeoutSeconds int    `json:"visibility_timeout_seconds"`
	} `json:"queue"`
	Routes map[string]struct {
		Path             string `json:"path"`
		RoleName         string `json:"role_name"`
		StateMachineName string `json:"state_machine_name"`
		Workflow         string `json:"workflow"`
	} `json:"routes"`
	Env map[string]string `json:"env"`
}

// motoServices are the provider endpoints the module uses (data sources
// included: sts for aws_caller_identity, apigatewayv2 for the API lookup).
var motoServices = []string{"apigatewayv2", "cloudwatch", "iam", "kms", "lambda", "logs", "sfn", "sqs", "sts"}

// writeProviderOverride points the module's AWS provider at moto with dummy
// credentials, in an override file of the temporary copy only.
func writeProviderOverride(t *testing.T, s *staged, endpoint string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("# Test only: the AWS provider talks to moto.\nprovider \"aws\" {\n")
	b.WriteString("  access_key                  = \"testing\"\n  secret_key                  = \"testing\"\n")
	b.WriteString("  skip_credentials_validation = true\n  skip_metadata_api_check     = true\n")
	b.WriteString("  skip_requesting_account_id  = true\n  skip_region_validation      = true\n")
	b.WriteString("  s3_use_path_style           = true\n\n  endpoints {\n")
	for _, svc := range motoServices {
		fmt.Fprintf(&b, "    %-12s = %q\n", svc, endpoint)
	}
	b.WriteString("  }\n}\n")
	if err := os.WriteFile(filepath.Join(s.Dir, "terraform", "moto_override.tf"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeTFVars writes terraform/terraform.tfvars in the staged module: the
// choices an operator makes at apply time.
func writeTFVars(t *testing.T, s *staged, vars string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(s.Dir, "terraform", "terraform.tfvars"), []byte(vars), 0o644); err != nil {
		t.Fatal(err)
	}
}
