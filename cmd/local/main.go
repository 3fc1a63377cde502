// Command local runs the local twin: the whole webhookq pipeline — ingress,
// SQS FIFO queue and DLQ, event source mapping, forward, the generated
// workflows, deliver and notify — on one machine, on embedded durable storage
// (internal/twin). docs/local.md walks through a demo.
//
//	go run ./cmd/local [-config config/routes.yaml] [-addr 127.0.0.1:8080 [-public-ingress]]
//	                   [-control-addr 127.0.0.1:8081 [-control-remote]]
//	                   [-data .webhookq/twin.db] [-demo-target[=true|false]]
//	                   [-target-override URL] [-fast-retries]
//
// Webhooks arrive on -addr, which serves the routes and nothing else; the
// AWS APIs, the web page and the demo target are on -control-addr, which has
// no authentication and so stays on loopback unless -control-remote. With
// -addr on a non-loopback address, or -public-ingress behind a tunnel, a
// route that verifies signatures must have its secret set, or the twin
// refuses to start (docs/local.md, "Receiving real webhooks through a
// tunnel").
//
// Without -demo-target or -target-override, the demo target is started when
// every route's target is a reserved example host (example.com, .test, …),
// as in the example config: those can never answer, and a newcomer's first
// run should deliver somewhere. SIGINT or SIGTERM shut down gracefully.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/twin"
)

// fastRetryScale is how much -fast-retries shortens the retry waits and window.
const fastRetryScale = 20

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// autoBool is a flag that is on, off, or unset ("auto").
type autoBool struct{ set, on bool }

func (b *autoBool) IsBoolFlag() bool { return true }
func (b *autoBool) String() string {
	if !b.set {
		return "auto"
	}
	return strconv.FormatBool(b.on)
}
func (b *autoBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	b.set, b.on = true, v
	return nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", config.DefaultPath, "routes.yaml")
	workflows := fs.String("workflows", "workflows", "the generated workflows folder (go run ./cmd/generate writes it)")
	data := fs.String("data", ".webhookq/twin.db", "the queue store file (the execution history goes beside it)")
	addr := fs.String("addr", "127.0.0.1:8080", "listen address of ingress: the webhook routes, nothing else (the address a SaaS or a tunnel may reach)")
	publicIngress := fs.Bool("public-ingress", false, "ingress is reachable from elsewhere through a tunnel: refuse to start while a verifying route's secret is unset, as on a non-loopback -addr")
	controlAddr := fs.String("control-addr", "127.0.0.1:8081", "listen address of the control plane: the SQS, Step Functions and Lambda APIs, the web page, the demo target (loopback unless -control-remote)")
	controlRemote := fs.Bool("control-remote", false, "allow a non-loopback -control-addr; the control plane has NO authentication")
	var demo autoBool
	fs.Var(&demo, "demo-target", "start the demo target and deliver every route to it (default: when all targets are example hosts)")
	failRate := fs.Float64("demo-fail-rate", 0, "the demo target fails this share of deliveries (0..1)")
	override := fs.String("target-override", "", "deliver every route to this base URL instead (the target path is kept)")
	fast := fs.Bool("fast-retries", false, fmt.Sprintf("divide retry and redelivery waits and the retry window by %d (timeouts stay as configured)", fastRetryScale))
	grace := fs.Duration("shutdown-grace", 10*time.Second, "on SIGINT/SIGTERM, how long running deliveries may finish before they are released")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "local: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *failRate < 0 || *failRate > 1 {
		fmt.Fprintln(stderr, "local: -demo-fail-rate must be between 0 and 1")
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "local: -log-level: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	// The cores log through the default logger.
	slog.SetDefault(log)

	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "local: %v\n", err)
		return 1
	}
	useDemo := demo.on
	if !demo.set && *override == "" {
		useDemo = allExampleTargets(cfg)
	}
	scale := 1.0
	if *fast {
		scale = fastRetryScale
	}
	t, err := twin.Start(twin.Options{
		Config:         cfg,
		WorkflowsDir:   *workflows,
		DataPath:       *data,
		Addr:           *addr,
		PublicIngress:  *publicIngress,
		ControlAddr:    *controlAddr,
		RemoteControl:  *controlRemote,
		DemoTarget:     useDemo,
		DemoFailRate:   *failRate,
		TargetOverride: *override,
		TimeScale:      scale,
		ShutdownGrace:  *grace,
		Log:            log,
	})
	if err != nil {
		fmt.Fprintf(stderr, "local: %v\n", err)
		return 1
	}
	printBanner(stdout, cfg, t, useDemo, !demo.set && *override == "", *fast, *data)

	<-ctx.Done()
	fmt.Fprintln(stdout, "local: shutting down (ingress answers 503, running deliveries finish or are released)…")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), *grace+10*time.Second)
	defer cancel()
	if err := t.Shutdown(shutdownCtx); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "local: shutdown: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, "local: stopped; the store is closed. Run again to resume.")
	return 0
}

func printBanner(w io.Writer, cfg *config.Config, t *twin.Twin, demo, auto, fast bool, data string) {
	fmt.Fprintf(w, "webhookq local twin for %s, data in %s\n\n", cfg.Service, data)
	fmt.Fprintf(w, "ingress (webhooks only) on %s\n", t.IngressURL)
	for _, r := range cfg.Routes {
		fmt.Fprintf(w, "  ingress       POST %s%s   (route %s)\n", t.IngressURL, cfg.IngressPath(r), r.Name)
	}
	fmt.Fprintf(w, "control plane on %s (no authentication: keep it to yourself)\n", t.ControlURL)
	fmt.Fprintf(w, "  web page      %s/\n", t.ControlURL)
	fmt.Fprintf(w, "  overview      %s/overview   (per route, live; Prometheus metrics at %s/metrics)\n", t.ControlURL, t.ControlURL)
	fmt.Fprintf(w, "  SQS           aws --endpoint-url %s sqs …   queue %s, DLQ %s\n", t.ControlURL, t.QueueURL, t.DLQURL)
	fmt.Fprintf(w, "  Step Functions %s (StartSyncExecution)\n", t.ControlURL)
	fmt.Fprintf(w, "  Lambda        event source mapping %s (redrive --endpoint-url %s --pause-esm --esm-uuid %s)\n", t.MappingUUID, t.ControlURL, t.MappingUUID)
	if demo {
		why := ""
		if auto {
			why = " (on because the config's targets are example hosts; -demo-target=false turns it off)"
		}
		fmt.Fprintf(w, "  demo target   %s%s/   status: GET %s%s/status, fail: POST …/fail?count=N, recover: POST …/recover%s\n",
			t.ControlURL, twin.DemoTargetPath, t.ControlURL, twin.DemoTargetPath, why)
	}
	fmt.Fprintln(w, "inbound signature checks")
	for _, c := range t.SignatureChecks() {
		var state string
		switch {
		case c.Scheme == config.VerifyNone:
			state = "none by the config (" + c.Detail + ")"
		case c.On:
			state = "ON"
			if c.Detail != "" {
				state += " (" + c.Detail + ")"
			}
		default:
			state = "OFF: its secret is not set (see the note below)"
		}
		fmt.Fprintf(w, "  %-14s %s: %s\n", c.Route, c.Scheme, state)
	}
	if fast {
		fmt.Fprintf(w, "retries         -fast-retries: retry and redelivery waits divided by %d (timeouts as configured)\n", fastRetryScale)
	} else {
		fmt.Fprintf(w, "retries         waits as configured (-fast-retries divides them by %d for a demo)\n", fastRetryScale)
	}
	for _, warn := range t.Warnings {
		fmt.Fprintf(w, "  note: %s\n", warn)
	}
	fmt.Fprintln(w)
}

// allExampleTargets reports whether every route delivers to a host reserved
// for examples (RFC 2606 / 6761), which can never be a real target.
func allExampleTargets(cfg *config.Config) bool {
	for _, r := range cfg.Routes {
		u, err := url.Parse(r.TargetURL)
		if err != nil || !reservedHost(u.Hostname()) {
			return false
		}
	}
	return len(cfg.Routes) > 0
}

func reservedHost(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, d := range []string{"example.com", "example.net", "example.org", "example", "test", "invalid"} {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}
