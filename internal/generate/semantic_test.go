package generate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/generate/asl"
	"github.com/webhookq/webhookq/internal/testkit/testenv"
	"github.com/zclconf/go-cty/cty"
)

// TestGeneratedSemantics checks properties of every golden case's output that
// must hold whatever the goldens say, so an -update cannot bless a broken
// workflow or locals file.
func TestGeneratedSemantics(t *testing.T) {
	for _, name := range goldenCases(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := loadCase(t, name)
			files, err := Files(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if len(files) != len(cfg.Routes)+1 {
				t.Errorf("%d files for %d routes, want one workflow per route and the locals", len(files), len(cfg.Routes))
			}
			for p, data := range files {
				if !IsGenerated(data) {
					t.Errorf("%s does not start with the generated notice", p)
				}
			}
			checkWorkflows(t, cfg, files)
			checkLocals(t, cfg, files[TerraformLocalsPath])
			checkBudget(t, cfg)
		})
	}
}

func checkWorkflows(t *testing.T, cfg *config.Config, files map[string][]byte) {
	t.Helper()
	for _, r := range cfg.Routes {
		p := WorkflowPath(r.Name)
		sm, err := asl.Unmarshal(files[p])
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if err := asl.Validate(sm); err != nil {
			t.Errorf("%s: asl.Validate: %v", p, err)
		}
		if sm.TimeoutSeconds <= 0 || sm.TimeoutSeconds > int(config.ExpressMaxDuration.Seconds()) {
			t.Errorf("%s: TimeoutSeconds %d, want within the Express limit %s", p, sm.TimeoutSeconds, config.ExpressMaxDuration)
		}
		tasks := 0
		for stateName, s := range sm.States {
			if s.Type != asl.TypeTask {
				continue
			}
			tasks++
			if len(s.Retry) == 0 {
				t.Errorf("%s: Task %s has no Retry", p, stateName)
			}
			if len(s.Catch) == 0 {
				t.Errorf("%s: Task %s has no Catch", p, stateName)
			}
			if s.TimeoutSeconds <= 0 {
				t.Errorf("%s: Task %s has no TimeoutSeconds", p, stateName)
			}
		}
		if tasks == 0 {
			t.Errorf("%s: no Task state", p)
		}
	}
}

// checkLocals decodes generated.tf.json and checks it points every route at
// its generated workflow and carries the derived budget.
func checkLocals(t *testing.T, cfg *config.Config, data []byte) {
	t.Helper()
	var doc struct {
		Locals struct {
			Webhookq struct {
				Queue struct {
					VisibilityTimeoutSeconds int `json:"visibility_timeout_seconds"`
					BatchSize                int `json:"batch_size"`
				} `json:"queue"`
				Functions map[string]struct {
					TimeoutSeconds int `json:"timeout_seconds"`
				} `json:"functions"`
				Routes map[string]struct {
					Workflow string `json:"workflow"`
				} `json:"routes"`
			} `json:"webhookq"`
		} `json:"locals"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", TerraformLocalsPath, err)
	}
	m := doc.Locals.Webhookq
	if len(m.Routes) != len(cfg.Routes) {
		t.Errorf("locals hold %d routes, config %d", len(m.Routes), len(cfg.Routes))
	}
	for _, r := range cfg.Routes {
		want := "../" + WorkflowPath(r.Name)
		if got := m.Routes[r.Name].Workflow; got != want {
			t.Errorf("locals: route %s workflow %q, want %q", r.Name, got, want)
		}
	}
	b := config.ComputeBudget(cfg)
	if got, want := m.Functions["forward"].TimeoutSeconds, int(b.ForwardTimeout.Seconds()); got != want {
		t.Errorf("locals: forward timeout %ds, budget %ds", got, want)
	}
	if m.Queue.VisibilityTimeoutSeconds < 6*m.Functions["forward"].TimeoutSeconds {
		t.Errorf("locals: visibility timeout %ds < 6 × forward timeout %ds", m.Queue.VisibilityTimeoutSeconds, m.Functions["forward"].TimeoutSeconds)
	}
	if m.Queue.BatchSize != cfg.Queue.BatchSize {
		t.Errorf("locals: batch size %d, config %d", m.Queue.BatchSize, cfg.Queue.BatchSize)
	}
}

func checkBudget(t *testing.T, cfg *config.Config) {
	t.Helper()
	b := config.ComputeBudget(cfg)
	for _, rb := range b.Routes {
		if rb.WorstExecution >= config.ExpressMaxDuration {
			t.Errorf("route %s: worst-case execution %s, want < %s", rb.Route, rb.WorstExecution, config.ExpressMaxDuration)
		}
	}
	if b.ForwardTimeout <= b.WorstExecution || b.ForwardTimeout > config.LambdaMaxTimeout {
		t.Errorf("forward timeout %s, want above the worst-case execution %s and at most %s", b.ForwardTimeout, b.WorstExecution, config.LambdaMaxTimeout)
	}
	if b.VisibilityTimeout < 6*b.ForwardTimeout {
		t.Errorf("visibility timeout %s < 6 × forward timeout %s", b.VisibilityTimeout, b.ForwardTimeout)
	}
}

type wildcardException struct {
	sid, actionPrefix string
	commentWords      []string
}

// wildcardExceptions are the IAM statements that may grant Resource "*",
// because AWS requires it for their actions: by Sid, the prefix every action
// must have, and words the comment above them must use.
var wildcardExceptions = []wildcardException{
	// The state machines' CloudWatch Logs delivery (workflows.tf).
	{"VendedLogDelivery", "logs:", []string{"log", "delivery"}},
	// deliver's network interfaces in the target's VPC (functions.tf), only
	// with target.vpc.
	{"ManageVPCNetworkInterfaces", "ec2:", []string{"network interfaces", "aws requires"}},
}

// TestTerraformModuleSemantics reads the hand-written module's HCL: every
// event source mapping reports batch item failures, and no IAM statement
// grants Resource "*" except the commented wildcardExceptions, once each.
func TestTerraformModuleSemantics(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(testenv.RepoRoot(t), "terraform")
	paths, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no Terraform files in %s (%v)", dir, err)
	}
	mappings, wildcards := 0, 0
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		file, diags := hclsyntax.ParseConfig(src, filepath.Base(p), hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("%s: %s", p, diags.Error())
		}
		body := file.Body.(*hclsyntax.Body)
		for _, block := range body.Blocks {
			if block.Type == "resource" && block.Labels[0] == "aws_lambda_event_source_mapping" {
				mappings++
				attr := block.Body.Attributes["function_response_types"]
				if attr == nil || !slices.Contains(literalStrings(attr.Expr), "ReportBatchItemFailures") {
					t.Errorf("%s: event source mapping %q does not report batch item failures", filepath.Base(p), block.Labels[1])
				}
			}
		}
		for _, st := range iamStatements(body) {
			if !slices.Contains(st.resources, "*") {
				continue
			}
			wildcards++
			where := filepath.Base(p) + ":" + strconv.Itoa(st.line)
			i := slices.IndexFunc(wildcardExceptions, func(e wildcardException) bool { return e.sid == st.sid })
			if i < 0 {
				t.Errorf("%s: Resource \"*\" in statement %q, which is not one of the exceptions AWS requires", where, st.sid)
				continue
			}
			e := wildcardExceptions[i]
			for _, a := range st.actions {
				if !strings.HasPrefix(a, e.actionPrefix) {
					t.Errorf("%s: Resource \"*\" in %s with action %q (only %s* belongs there)", where, e.sid, a, e.actionPrefix)
				}
			}
			if len(st.actions) == 0 {
				t.Errorf("%s: Resource \"*\" with no literal actions", where)
			}
			if !commentedAs(src, st.startLine, st.line, e.commentWords...) {
				t.Errorf("%s: Resource \"*\" in %s without a comment saying why (with %q)", where, e.sid, e.commentWords)
			}
		}
	}
	t.Logf("%d event source mapping(s), %d statement(s) with Resource \"*\"", mappings, wildcards)
	if mappings == 0 {
		t.Error("no aws_lambda_event_source_mapping in the module")
	}
	if wildcards > len(wildcardExceptions) {
		t.Errorf("%d statements with Resource \"*\", want at most the %d exceptions", wildcards, len(wildcardExceptions))
	}
}

// iamStatement is one IAM policy statement found in the HCL: an object in a
// jsonencode()d policy, or a statement block of aws_iam_policy_document.
type iamStatement struct {
	// sid is the statement's literal Sid, if any.
	sid                string
	resources, actions []string
	// startLine is where the statement begins, line where its resources are.
	startLine, line int
}

func iamStatements(body *hclsyntax.Body) []iamStatement {
	var found []iamStatement
	hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
		switch n := n.(type) {
		case *hclsyntax.ObjectConsExpr:
			items := map[string]hclsyntax.Expression{}
			for _, it := range n.Items {
				key, diags := it.KeyExpr.Value(nil)
				if diags.HasErrors() || key.Type() != cty.String {
					continue
				}
				items[key.AsString()] = it.ValueExpr
			}
			if res, ok := items["Resource"]; ok {
				found = append(found, iamStatement{
					sid:       strings.Join(literalStrings(items["Sid"]), ""),
					resources: literalStrings(res), actions: literalStrings(items["Action"]),
					startLine: n.Range().Start.Line, line: res.Range().Start.Line,
				})
			}
		case *hclsyntax.Block:
			if n.Type != "statement" {
				return nil
			}
			st := iamStatement{startLine: n.Range().Start.Line, line: n.Range().Start.Line}
			if a := n.Body.Attributes["resources"]; a != nil {
				st.resources, st.line = literalStrings(a.Expr), a.Range().Start.Line
			}
			if a := n.Body.Attributes["actions"]; a != nil {
				st.actions = literalStrings(a.Expr)
			}
			found = append(found, st)
		}
		return nil
	})
	return found
}

// literalStrings returns the string literals of expr: a string, or the
// literal strings of a list. References evaluate to nothing.
func literalStrings(expr hclsyntax.Expression) []string {
	if expr == nil {
		return nil
	}
	if tuple, ok := expr.(*hclsyntax.TupleConsExpr); ok {
		var out []string
		for _, e := range tuple.Exprs {
			out = append(out, literalStrings(e)...)
		}
		return out
	}
	if len(expr.Variables()) > 0 {
		return nil
	}
	v, diags := expr.Value(nil)
	if diags.HasErrors() || !v.IsKnown() || v.IsNull() || v.Type() != cty.String {
		return nil
	}
	return []string{v.AsString()}
}

// commentedAs reports whether the comment lines between a few lines above
// the statement and its resources line, read as one text, use every word.
func commentedAs(src []byte, startLine, line int, words ...string) bool {
	lines := strings.Split(string(src), "\n")
	var comment []string
	for i := max(0, startLine-6); i < line && i < len(lines); i++ {
		l := strings.ToLower(strings.TrimSpace(lines[i]))
		if c, ok := strings.CutPrefix(l, "#"); ok {
			comment = append(comment, strings.TrimSpace(c))
		} else if c, ok := strings.CutPrefix(l, "//"); ok {
			comment = append(comment, strings.TrimSpace(c))
		}
	}
	text := strings.Join(comment, " ")
	for _, w := range words {
		if !strings.Contains(text, w) {
			return false
		}
	}
	return len(comment) > 0
}

// TestIAMStatementDetection proves the module check above can fail: it finds
// a Resource "*" in both policy forms and tells a commented exception apart.
func TestIAMStatementDetection(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, src      string
		wantWildcard   bool
		wantCommented  bool
		wantActionsLen int
	}{
		{"jsonencode uncommented", `
resource "aws_iam_role_policy" "p" {
  policy = jsonencode({
    Statement = [{
      Effect   = "Allow"
      Action   = ["sqs:SendMessage"]
      Resource = "*"
    }]
  })
}`, true, false, 1},
		{"jsonencode commented log delivery", `
resource "aws_iam_role_policy" "p" {
  policy = jsonencode({
    Statement = [
      {
        # Log delivery actions take no resource ARNs; AWS requires "*".
        Action   = ["logs:CreateLogDelivery", "logs:GetLogDelivery"]
        Resource = "*"
      },
    ]
  })
}`, true, true, 2},
		{"policy document block", `
data "aws_iam_policy_document" "d" {
  statement {
    actions   = ["states:StartSyncExecution"]
    resources = [
      "*",
    ]
  }
}`, true, false, 1},
		{"named resource", `
data "aws_iam_policy_document" "d" {
  statement {
    actions   = ["sqs:ReceiveMessage"]
    resources = [aws_sqs_queue.main.arn]
  }
}`, false, false, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			file, diags := hclsyntax.ParseConfig([]byte(tc.src), "x.tf", hcl.InitialPos)
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			sts := iamStatements(file.Body.(*hclsyntax.Body))
			if len(sts) != 1 {
				t.Fatalf("found %d statements, want 1", len(sts))
			}
			st := sts[0]
			if got := slices.Contains(st.resources, "*"); got != tc.wantWildcard {
				t.Errorf("wildcard = %v, want %v (resources %q)", got, tc.wantWildcard, st.resources)
			}
			if got := commentedAs([]byte(tc.src), st.startLine, st.line, "log", "delivery"); got != tc.wantCommented {
				t.Errorf("commented = %v, want %v", got, tc.wantCommented)
			}
			if len(st.actions) != tc.wantActionsLen {
				t.Errorf("actions = %q, want %d", st.actions, tc.wantActionsLen)
			}
		})
	}
}
