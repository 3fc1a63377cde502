// Command generate reads config/routes.yaml and writes everything
// `terraform apply` needs: workflows/<route>.asl.json, terraform/generated.tf.json
// and the Lambda zips in dist/. See docs/generate.md.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/generate"
	"github.com/webhookq/webhookq/internal/generate/bundle"
	"github.com/webhookq/webhookq/internal/tfrun"
)

const usageText = `usage: go run ./cmd/generate [flags]

Reads routes.yaml and writes, below -out:
  workflows/<route>.asl.json   one Express workflow per route
  terraform/generated.tf.json  the locals the Terraform module reads
  dist/<function>.zip          forward, deliver, notify: bootstrap + routes.yaml
then prints a summary: routes, time budgets, estimated cost per million webhooks.

Flags:
`

const exitText = `
Exit status:
  0  done (with -check: every generated file is up to date)
  1  routes.yaml is invalid (every problem is printed, nothing is written);
     with -check, a generated file is stale, missing or no longer generated;
     with -validate, terraform validate reported an error
  2  bad command line
  3  generation, the Lambda build, writing the files or running terraform failed
`

// Exit statuses, as documented in exitText and docs/generate.md.
const (
	exitOK      = 0
	exitInvalid = 1
	exitUsage   = 2
	exitFailed  = 3
)

// defaultPluginDir is the filesystem mirror holding the AWS provider on the
// project's machines (internal/testkit/testenv.ProviderMirror).
const defaultPluginDir = "/opt/tf-plugins"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type options struct {
	config    string
	out       string
	check     bool
	validate  bool
	skipBuild bool
	quiet     bool
	pluginDir string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("generate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.config, "config", config.DefaultPath, "the routes file to generate from")
	fs.StringVar(&o.out, "out", ".", "the repository root to write workflows/, terraform/generated.tf.json and dist/ into")
	fs.BoolVar(&o.check, "check", false, "write nothing: regenerate in memory, print a diff of every stale or missing file and exit 1 if any (no Lambda build)")
	fs.BoolVar(&o.validate, "validate", false, "then run terraform init (providers from -plugin-dir) and terraform validate on a copy of the output")
	fs.BoolVar(&o.skipBuild, "skip-build", false, "do not build the Lambda zips (dist/ is left as it is)")
	fs.BoolVar(&o.quiet, "quiet", false, "print only problems and diffs: no progress lines, no summary")
	fs.StringVar(&o.pluginDir, "plugin-dir", defaultPluginDir, "with -validate: terraform init -plugin-dir (empty: install providers from the registry)")
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
		fmt.Fprint(stderr, exitText)
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return o, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "generate:", err)
		return exitUsage
	}
	progress := func(format string, a ...any) {
		if !o.quiet {
			fmt.Fprintf(stdout, format+"\n", a...)
		}
	}

	source, err := os.ReadFile(o.config)
	if err != nil {
		fmt.Fprintln(stderr, "generate:", err)
		return exitInvalid
	}
	cfg, err := config.Parse(o.config, source)
	if err != nil {
		var diags config.Diagnostics
		if errors.As(err, &diags) {
			fmt.Fprintln(stderr, diags.Error())
			fmt.Fprintf(stderr, "generate: %s: %d problem(s), nothing written\n", o.config, len(diags))
		} else {
			fmt.Fprintln(stderr, "generate:", err)
		}
		return exitInvalid
	}
	files, err := generate.Files(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "generate:", err)
		return exitFailed
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintf(stderr, "generate: warning: %s\n", w)
	}
	for _, ref := range envSecretRefs(cfg) {
		fmt.Fprintf(stderr, "generate: warning: %s: %s; on AWS no Lambda has that variable (the module sets none), so reference an ssm_parameter or secrets_manager before terraform apply\n", o.config, ref)
	}
	monitoring, err := generate.Monitor(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "generate:", err)
		return exitFailed
	}
	if w := monitoring.Warning(); w != "" {
		fmt.Fprintf(stderr, "generate: warning: %s: %s\n", o.config, w)
	}
	stale, err := staleWorkflows(o.out, files)
	if err != nil {
		fmt.Fprintln(stderr, "generate:", err)
		return exitFailed
	}

	code := exitOK
	if o.check {
		code, err = check(o.out, files, stale, stdout)
		if err != nil {
			fmt.Fprintln(stderr, "generate:", err)
			return exitFailed
		}
		if code == exitOK {
			progress("generated files are up to date (%d files)", len(files))
		}
	} else {
		if !o.skipBuild {
			root, err := moduleRoot()
			if err != nil {
				fmt.Fprintln(stderr, "generate:", err)
				return exitFailed
			}
			zips, err := bundle.Build(ctx, bundle.Options{
				ModuleRoot: root,
				Config:     source,
				Progress:   func(line string) { progress("%s", line) },
			})
			if err != nil {
				fmt.Fprintln(stderr, "generate:", err)
				return exitFailed
			}
			for p, z := range zips {
				files[p] = z
			}
		}
		if err := write(o.out, files, stale, progress); err != nil {
			fmt.Fprintln(stderr, "generate:", err)
			return exitFailed
		}
	}

	if o.validate {
		if c := validate(ctx, o, files, stdout, stderr, progress); c != exitOK {
			code = c
		}
	}
	if !o.quiet && code == exitOK {
		summary, err := generate.Summarize(cfg)
		if err != nil {
			fmt.Fprintln(stderr, "generate:", err)
			return exitFailed
		}
		fmt.Fprintln(stdout)
		if err := summary.WriteText(stdout); err != nil {
			return exitFailed
		}
		if err := monitoring.WriteText(stdout); err != nil {
			return exitFailed
		}
	}
	return code
}

// envSecretRefs lists the secret references that name an environment
// variable: the local twin reads those, but the Terraform module gives the
// Lambdas no such variable (and IAM grants only the SSM and Secrets Manager
// references), so on AWS every use of the secret would fail.
func envSecretRefs(cfg *config.Config) []string {
	var out []string
	add := func(path string, ref *config.SecretRef) {
		if ref != nil && ref.Env != "" {
			out = append(out, fmt.Sprintf("%s reads the environment variable %s", path, ref.Env))
		}
	}
	add("target.signing_secret", cfg.Target.Signing)
	for _, name := range slices.Sorted(maps.Keys(cfg.Target.SecretHeaders)) {
		ref := cfg.Target.SecretHeaders[name]
		add("target.secret_headers."+name, &ref)
	}
	add("notify.slack_webhook_url", cfg.Notify.SlackWebhookURL)
	for i, r := range cfg.Routes {
		if r.Verify != nil {
			add(fmt.Sprintf("routes[%d].verify.secret", i), &r.Verify.Secret)
		}
	}
	return out
}

// check compares the generated files with the ones below out, prints a diff
// for each difference, closes with the names of them all (the diffs may be
// long), and returns exitInvalid when anything is stale.
func check(out string, files map[string][]byte, stale []string, stdout io.Writer) (int, error) {
	var named []string
	for _, p := range slices.Sorted(maps.Keys(files)) {
		onDisk, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(p)))
		switch {
		case errors.Is(err, os.ErrNotExist):
			fmt.Fprintf(stdout, "%s: missing\n", p)
			fmt.Fprint(stdout, unifiedDiff("/dev/null", "b/"+p, "", string(files[p])))
			named = append(named, p+" (missing)")
		case err != nil:
			return exitFailed, err
		case !bytes.Equal(onDisk, files[p]):
			fmt.Fprintf(stdout, "%s: stale\n", p)
			fmt.Fprint(stdout, unifiedDiff("a/"+p, "b/"+p, string(onDisk), string(files[p])))
			named = append(named, p)
		}
	}
	for _, p := range stale {
		fmt.Fprintf(stdout, "%s: no longer generated (its route is gone); generate deletes it\n", p)
		named = append(named, p+" (no longer generated)")
	}
	if len(named) == 0 {
		return exitOK, nil
	}
	fmt.Fprintf(stdout, "%d generated file(s) stale: %s\nrun go run ./cmd/generate and commit the result\n", len(named), strings.Join(named, ", "))
	return exitInvalid, nil
}

// write puts every file in place atomically and deletes the stale workflows.
func write(out string, files map[string][]byte, stale []string, progress func(string, ...any)) error {
	for _, p := range slices.Sorted(maps.Keys(files)) {
		if !writable(p) {
			return fmt.Errorf("refusing to write %s: outside workflows/, dist/ and %s", p, generate.TerraformLocalsPath)
		}
		dest := filepath.Join(out, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
			return err
		}
		if old, err := os.ReadFile(dest); err == nil && bytes.Equal(old, files[p]) {
			progress("unchanged %s", p)
			continue
		}
		if err := writeFileAtomic(dest, files[p]); err != nil {
			return err
		}
		progress("wrote %s (%d bytes)", p, len(files[p]))
	}
	for _, p := range stale {
		if err := os.Remove(filepath.Join(out, filepath.FromSlash(p))); err != nil {
			return err
		}
		progress("deleted %s (route removed)", p)
	}
	return nil
}

// writable keeps the CLI's writes inside its output folders.
func writable(p string) bool {
	dir, name := filepath.Split(filepath.FromSlash(p))
	dir = filepath.ToSlash(filepath.Clean(dir))
	switch {
	case p == generate.TerraformLocalsPath:
		return true
	case dir == generate.WorkflowsDir && strings.HasSuffix(name, generate.WorkflowSuffix):
		return true
	case dir == "dist" && strings.HasSuffix(name, ".zip"):
		return true
	}
	return false
}

// staleWorkflows lists the workflow files below out that generate wrote for a
// route that no longer exists. Only files carrying the generated marker count,
// so a hand-written file in workflows/ is never deleted.
func staleWorkflows(out string, files map[string][]byte) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(out, generate.WorkflowsDir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var stale []string
	for _, e := range entries {
		p := generate.WorkflowsDir + "/" + e.Name()
		if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), generate.WorkflowSuffix) || files[p] != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(p)))
		if err != nil {
			return nil, err
		}
		if generate.IsGenerated(data) {
			stale = append(stale, p)
		}
	}
	return stale, nil
}

func validate(ctx context.Context, o options, files map[string][]byte, stdout, stderr io.Writer, progress func(string, ...any)) int {
	bin, err := tfrun.Find("-validate")
	if err != nil {
		fmt.Fprintln(stderr, "generate:", err)
		return exitFailed
	}
	stage, err := os.MkdirTemp("", "webhookq-validate-")
	if err != nil {
		fmt.Fprintln(stderr, "generate:", err)
		return exitFailed
	}
	defer os.RemoveAll(stage)
	staged := maps.Clone(files)
	for _, fn := range config.Functions {
		p := bundle.ZipPath(fn)
		if staged[p] != nil {
			continue
		}
		// Not built in this run (-skip-build, -check): stage the zips in
		// place, if any (validate does not read them; plan does).
		if zip, err := os.ReadFile(filepath.Join(o.out, filepath.FromSlash(p))); err == nil {
			staged[p] = zip
		}
	}
	if err := tfrun.Stage(stage, o.out, staged); err != nil {
		fmt.Fprintln(stderr, "generate:", err)
		return exitFailed
	}
	progress("terraform init and validate (copy in %s)", stage)
	diags, err := tfrun.Validate(ctx, bin, stage, o.pluginDir)
	if err != nil {
		fmt.Fprintln(stderr, "generate:", err)
		return exitFailed
	}
	code := exitOK
	for _, d := range diags {
		fmt.Fprintln(stdout, d.String())
		if d.Severity == "error" {
			code = exitInvalid
		}
	}
	if code == exitOK {
		progress("terraform validate: ok")
	}
	return code
}

// moduleRoot is the folder holding go.mod, found from the working directory
// up: the functions are built from there.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod in the working directory or above: run generate inside the webhookq module, or pass -skip-build")
		}
		dir = parent
	}
}

// writeFileAtomic writes to a temporary file beside path and renames it over
// path, so a reader sees the old content or the new, never a torn file.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if closeErr := tmp.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
