// Package twin wires the local twin: the whole webhookq pipeline on one
// machine, on embedded durable storage, with the same routes, the same
// generated workflows and the same Lambda cores as on AWS.
//
// Two listeners, as on AWS the webhook URL and the AWS APIs are different
// things. Ingress (Options.Addr; 127.0.0.1:8080 in cmd/local) serves the routes'
// POST <base_path>/<route path> (internal/twin/ingress) and nothing else: it
// is the address a SaaS or a tunnel may reach. The control plane
// (Options.ControlAddr, loopback only unless Options.RemoteControl) serves
// the rest, told apart the way AWS tells its services apart:
//
//	X-Amz-Target: AmazonSQS.*            the SQS JSON protocol (internal/twin/sqsapi)
//	X-Amz-Target: AWSStepFunctions.*     StartSyncExecution & co. (internal/twin/sfnapi)
//	X-Amz-Target: Logs_20140328.*        the functions' log groups (internal/twin/logsapi)
//	X-Amz-Target: TrentService.*         the probe key's GenerateMac/VerifyMac (internal/twin/kmsapi)
//	/2015-03-31/event-source-mappings    Lambda's API for the forward mapping (pause)
//	/2015-03-31/functions/…/invocations  Lambda's Invoke: the forwarder's asynchronous notify
//	/demo-target/…                       the demo target, when on (internal/twin/demotarget)
//	anything else                        the web page and /metrics (internal/twin/console)
//
// The control plane has no authentication — whoever reaches it can read,
// delete or forge the queue's messages and run workflows that POST signed
// requests to the target — so it binds to loopback, answers only loopback
// host names (a web page cannot reach it by DNS rebinding), and a
// non-loopback address needs RemoteControl and gets a warning. When ingress
// is not on loopback (or is declared public, behind a tunnel), a route that
// verifies signatures must have its secret set, or Start refuses
// (exposure.go).
//
// The pieces talk as they do on AWS: the event source mapping (internal/twin/esm)
// invokes the forward core through the Lambda JSON path; the forward core
// calls StartSyncExecution with the real AWS SDK client against the control
// plane, changes visibility with the real SQS client and invokes the notify
// function with the real Lambda client; the state machine
// runner invokes the deliver and notify cores in process, through the Lambda
// JSON path too, so their errors reach Retry and Catch under the same names.
//
// Metrics: the cores record into memory what they write as EMF lines on AWS,
// and the twin samples what SQS and Step Functions publish there (observe.go);
// the page's overview and /metrics read them.
//
// Storage: the queues live in the data file (fifo, bbolt, fsync'd before
// ingress answers); execution histories in a second bbolt file beside it
// ("<data>-history.db"), because a bbolt file has one owner.
//
// Local differences, on purpose and documented in docs/local.md: a received
// batch is leased (10 s, extended while it runs) rather than held for the
// queue's visibility timeout, so a crashed twin's in-flight messages come
// back within seconds;
// TimeScale shortens the retry and redelivery waits and the retry window
// (never the timeouts);
// secrets come from environment variables (see SecretEnvName); SNS is not
// used.
package twin

import (
	"github.com/webhookq/webhookq/internal/lambda/probe"
	"github.com/webhookq/webhookq/internal/twin/kmsapi"
	"github.com/webhookq/webhookq/internal/twin/logsapi"

	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/generate"
	"github.com/webhookq/webhookq/internal/lambda/metrics"
	"github.com/webhookq/webhookq/internal/twin/demotarget"
	"github.com/webhookq/webhookq/internal/twin/esm"
	"github.com/webhookq/webhookq/internal/twin/fifo"
	"github.com/webhookq/webhookq/internal/twin/ingress"
	"github.com/webhookq/webhookq/internal/twin/statemachine"
)

// Account is the twin's AWS account id in every ARN and queue URL.
const Account = "000000000000"

// DemoTargetPath is where the demo target is mounted.
const DemoTargetPath = "/demo-target"

// Options configure a twin.
type Options struct {
	Config *config.Config
	// WorkflowsDir holds the generated workflows/*.asl.json; they must equal
	// what generate.Files writes for Config.
	WorkflowsDir string
	// DataPath is the queue store file; its directory is created.
	DataPath string
	// Addr is ingress's listen address, e.g. 127.0.0.1:8080 (port 0: any
	// free one); it serves the routes and nothing else.
	Addr string
	// PublicIngress declares ingress reachable from elsewhere although Addr
	// is loopback (a tunnel connects from there): a verifying route without
	// its secret is then refused as on a non-loopback Addr.
	PublicIngress bool
	// ControlAddr is the control plane's listen address (the AWS APIs, the
	// web page, the demo target); empty is 127.0.0.1:0. Start refuses a
	// non-loopback one unless RemoteControl is set.
	ControlAddr string
	// RemoteControl allows a non-loopback ControlAddr, with a warning: the
	// control plane has no authentication.
	RemoteControl bool
	// DemoTarget starts the demo target and points every route at it;
	// DemoFailRate is its initial failure probability.
	DemoTarget   bool
	DemoFailRate float64
	// TargetOverride, when set, replaces every route target's scheme and
	// host (the path is kept). DemoTarget wins over it.
	TargetOverride string
	// TimeScale > 1 divides the in-workflow retry waits, the forwarder's
	// redelivery delays and the retry window by it, for demos; timeouts are
	// never scaled, so an execution is final as soon as its route's
	// unscaled worst case could end past the shortened window.
	TimeScale float64
	// Lease is how long a received batch stays invisible without being
	// extended, so how soon a crashed twin's in-flight messages come back;
	// default 10 s (see internal/twin/esm).
	Lease time.Duration
	// IngressReadTimeout bounds how long the ingress listener waits for a
	// request's headers and body, so a sender that trickles bytes cannot
	// hold connections open; default DefaultIngressReadTimeout.
	IngressReadTimeout time.Duration
	// ShutdownGrace is how long Shutdown lets running batches finish before
	// cancelling and releasing them; default 10 s.
	ShutdownGrace time.Duration
	// ForwardTimeout, when set, replaces the forward function's derived
	// timeout: a test can see a batch run out of time without waiting for
	// the derived one (up to 15 minutes).
	ForwardTimeout time.Duration
	// LookupEnv reads secrets (see SecretEnvName); nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	Log       *slog.Logger
}

// Twin is a running local twin.
type Twin struct {
	// IngressURL is the ingress listener's base URL, e.g.
	// http://127.0.0.1:8080; the routes' POST URLs are below it.
	IngressURL string
	// ControlURL is the control plane's base URL, e.g. http://127.0.0.1:8081:
	// the AWS APIs' endpoint (--endpoint-url), the web page, the demo target.
	ControlURL string
	// QueueURL and DLQURL are the queues' SQS URLs on the control plane.
	QueueURL, DLQURL string
	// MappingUUID names the forward function's event source mapping in the
	// twin's Lambda API (cmd/redrive --pause-esm --esm-uuid).
	MappingUUID string
	// Warnings lists what runs differently from the config (secrets not set,
	// SNS not used), one line each.
	Warnings []string

	cfg *config.Config
	// local is cfg as the twin runs it (localConfig).
	local *config.Config
	// watcher notices routes.yaml and workflows/ changing on disk.
	watcher *watcher
	store   *fifo.Store
	history *bolt.DB
	// boltHistory writes into history; asyncHistory is written behind the
	// executions and feeds it. Both are closed, in that order, before history.
	boltHistory  *statemachine.BoltHistory
	asyncHistory *asyncHistory
	ingress      *ingress.Handler
	poller       *esm.Poller
	mappings     *mappingAPI
	// logs, probeKey and kms are what cmd/check reads (checkapis.go).
	logs        *logsapi.Store
	probeKey    *probe.LocalKey
	kms         *kmsapi.Server
	servers     []*http.Server
	served      chan error
	demo        *demotarget.Target
	notified    *notifications
	invocations *invokeAPI
	// metrics are what the cores record and sampleGauges adds (observe.go);
	// runner runs the executions, sampled for the running ones.
	metrics           *metrics.Memory
	runner            *statemachine.Runner
	sampling, sampled chan struct{}
	log               *slog.Logger
	grace             time.Duration
	stopOnce          sync.Once
	stopErr           error
}

// Start checks the workflows, opens the stores, creates the queues, builds
// the functions, the state machines and the forwarder, and starts serving
// and polling. Each step is a method below, in this order.
func Start(o Options) (_ *Twin, err error) {
	cfg := o.Config
	t := &Twin{cfg: cfg, log: o.Log, grace: o.ShutdownGrace}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	if t.grace <= 0 {
		t.grace = 10 * time.Second
	}
	t.watcher = newWatcher(cfg.Path, o.WorkflowsDir)
	workflows, err := checkWorkflows(cfg, o.WorkflowsDir)
	if err != nil {
		return nil, err
	}

	ingressListener, controlListener, err := listen(o.Addr, o.ControlAddr)
	if err != nil {
		return nil, err
	}
	t.IngressURL = "http://" + ingressListener.Addr().String()
	t.ControlURL = "http://" + controlListener.Addr().String()
	defer func() {
		if err != nil {
			ingressListener.Close()
			controlListener.Close()
			t.closeStores()
		}
	}()
	if err := t.checkControlExposure(controlListener.Addr(), o.RemoteControl); err != nil {
		return nil, err
	}

	local, secrets := t.localRoutes(o)
	if err := checkIngressExposure(t.cfg, o.Addr, ingressListener.Addr(), o.PublicIngress, secrets); err != nil {
		return nil, err
	}
	if err := t.openStores(o.DataPath); err != nil {
		return nil, err
	}
	if err := t.openCheckAPIs(); err != nil {
		return nil, err
	}
	budget := config.ComputeBudget(cfg)
	if err := t.createQueues(budget); err != nil {
		return nil, err
	}
	scale := max(o.TimeScale, 1)
	if err := t.newMetrics(); err != nil {
		return nil, err
	}
	fns, err := t.buildFunctions(local, secrets)
	if err != nil {
		return nil, err
	}
	runner, states, err := t.buildStateMachines(workflows, fns, scale)
	if err != nil {
		return nil, err
	}
	t.runner = runner
	fwd, sqsClient, err := t.buildForwarder(local, secrets, runner, budget, scale)
	if err != nil {
		return nil, err
	}
	ingressHandler, controlHandler, err := t.buildHandlers(local, states, sqsClient, o.RemoteControl)
	if err != nil {
		return nil, err
	}
	ingressTimeout := o.IngressReadTimeout
	if ingressTimeout <= 0 {
		ingressTimeout = DefaultIngressReadTimeout
	}
	t.watcher.start(func(note string) { t.log.Warn("local: " + note) })
	t.serve(ingressListener, ingressHandler, ingressTimeout)
	// The control plane's requests are small, but its answers may take
	// minutes (StartSyncExecution, long polls): only the headers are timed.
	t.serve(controlListener, controlHandler, 0)
	if err := t.startMapping(fwd, budget, o.ForwardTimeout, o.Lease); err != nil {
		for _, srv := range t.servers {
			_ = srv.Close()
		}
		t.watcher.Stop()
		return nil, err
	}
	t.startSampling()
	for _, w := range t.Warnings {
		t.log.Warn("local: " + w)
	}
	return t, nil
}

// checkWorkflows loads the generated workflows and checks them against what
// generate.Files writes for cfg.
func checkWorkflows(cfg *config.Config, dir string) ([]statemachine.Workflow, error) {
	expected, err := generate.Files(cfg)
	if err != nil {
		return nil, err
	}
	return statemachine.LoadWorkflows(dir, expected)
}

// localRoutes is the config as the twin runs it (localConfig), with the
// demo target or TargetOverride in place of the targets; what differs from
// routes.yaml goes to t.Warnings, once per line.
func (t *Twin) localRoutes(o Options) (*config.Config, *envSecrets) {
	lookup := o.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	targetBase := o.TargetOverride
	if o.DemoTarget {
		t.demo = demotarget.New(o.DemoFailRate, t.log)
		targetBase = t.ControlURL + DemoTargetPath
	}
	seen := map[string]bool{}
	secrets := newEnvSecrets(lookup)
	t.local = localConfig(t.cfg, secrets, targetBase, func(w string) {
		if !seen[w] {
			seen[w] = true
			t.Warnings = append(t.Warnings, w)
		}
	})
	return t.local, secrets
}

// Stale says what changed on disk since the twin started (routes.yaml, the
// workflows) and that it must be restarted to use it; empty while nothing did.
func (t *Twin) Stale() []string { return t.watcher.Stale() }

// Store is the twin's queue store.
func (t *Twin) Store() *fifo.Store { return t.store }

// History is the twin's execution history, what the web page shows; an
// execution appears in it shortly after it ends.
func (t *Twin) History() statemachine.HistoryStore { return t.asyncHistory }

// Demo is the demo target, or nil.
func (t *Twin) Demo() *demotarget.Target { return t.demo }

// Shutdown stops the twin: ingress refuses new webhooks (503), the event
// source mapping stops polling and lets running batches finish for the grace
// period (then cancels them and releases their messages), the listeners
// close, and the stores are closed. Every acknowledged webhook stays on disk;
// a restart resumes from there.
func (t *Twin) Shutdown(ctx context.Context) error {
	t.stopOnce.Do(func() {
		t.watcher.Stop()
		t.ingress.Close()
		t.poller.Stop(t.grace)
		var errs []error
		for _, srv := range t.servers {
			err := srv.Shutdown(ctx)
			if err != nil {
				_ = srv.Close()
			}
			errs = append(errs, err)
		}
		for range t.servers {
			<-t.served
		}
		t.invocations.Wait()
		t.stopSampling()
		t.stopErr = errors.Join(append(errs, t.closeStores())...)
	})
	return t.stopErr
}
