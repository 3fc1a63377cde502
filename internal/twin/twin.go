// Package twin wires the local twin: the whole webhookq pipeline on one
// machine, on embedded durable storage, with the same routes, the same
// generated workflows and the same Lambda cores as on AWS.
//
// One listener (default 127.0.0.1:8080) serves everything, told apart the way
// AWS tells its services apart:
//
//	X-Amz-Target: AmazonSQS.*          the SQS JSON protocol (internal/twin/sqsapi)
//	X-Amz-Target: AWSStepFunctions.*   StartSyncExecution & co. (internal/twin/sfnapi)
//	/2015-03-31/event-source-mappings  Lambda's API for the forward mapping (pause)
//	POST <base_path>/<route path>      ingress (internal/twin/ingress)
//	/demo-target/…                     the demo target, when on (internal/twin/demotarget)
//	anything else                      the web page (internal/twin/console)
//
// The pieces talk as they do on AWS: the event source mapping (internal/twin/esm)
// invokes the forward core through the Lambda JSON path; the forward core
// calls StartSyncExecution with the real AWS SDK client against this very
// listener and changes visibility with the real SQS client; the state machine
// runner invokes the deliver and notify cores in process, through the Lambda
// JSON path too, so their errors reach Retry and Catch under the same names.
//
// Storage: the queues live in the data file (fifo, bbolt, fsync'd before
// ingress answers); execution histories in a second bbolt file beside it
// ("<data>-history.db"), because a bbolt file has one owner.
//
// Local differences, on purpose and documented in docs/local.md: a received
// batch is leased (10 s, extended while it runs) rather than held for the
// queue's visibility timeout, so a crashed twin's in-flight messages come
// back within seconds;
// TimeScale shortens the retry and redelivery waits (never the timeouts);
// secrets come from environment variables (see SecretEnvName); SNS is not
// used.
package twin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	bolt "go.etcd.io/bbolt"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/generate"
	"github.com/webhookq/webhookq/internal/generate/asl"
	"github.com/webhookq/webhookq/internal/lambda/delivery"
	"github.com/webhookq/webhookq/internal/lambda/forwarder"
	"github.com/webhookq/webhookq/internal/lambda/notifier"
	"github.com/webhookq/webhookq/internal/redrive"
	"github.com/webhookq/webhookq/internal/twin/console"
	"github.com/webhookq/webhookq/internal/twin/demotarget"
	"github.com/webhookq/webhookq/internal/twin/esm"
	"github.com/webhookq/webhookq/internal/twin/fifo"
	"github.com/webhookq/webhookq/internal/twin/ingress"
	"github.com/webhookq/webhookq/internal/twin/sfnapi"
	"github.com/webhookq/webhookq/internal/twin/sqsapi"
	"github.com/webhookq/webhookq/internal/twin/statemachine"
	"github.com/webhookq/webhookq/internal/webhook"
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
	// Addr is the listen address, e.g. 127.0.0.1:8080 (port 0: any free one).
	Addr string
	// DemoTarget starts the demo target and points every route at it;
	// DemoFailRate is its initial failure probability.
	DemoTarget   bool
	DemoFailRate float64
	// TargetOverride, when set, replaces every route target's scheme and
	// host (the path is kept). DemoTarget wins over it.
	TargetOverride string
	// TimeScale > 1 divides the in-workflow retry waits and the forwarder's
	// redelivery delays by it, for demos; timeouts are never scaled.
	TimeScale float64
	// Lease is how long a received batch stays invisible without being
	// extended, so how soon a crashed twin's in-flight messages come back;
	// default 10 s (see internal/twin/esm).
	Lease time.Duration
	// ShutdownGrace is how long Shutdown lets running batches finish before
	// cancelling and releasing them; default 10 s.
	ShutdownGrace time.Duration
	// LookupEnv reads secrets (see SecretEnvName); nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	Log       *slog.Logger
}

// Twin is a running local twin.
type Twin struct {
	// URL is the listener's base URL, e.g. http://127.0.0.1:8080.
	URL string
	// QueueURL and DLQURL are the queues' SQS URLs on the listener.
	QueueURL, DLQURL string
	// MappingUUID names the forward function's event source mapping in the
	// twin's Lambda API (cmd/redrive --pause-esm --esm-uuid).
	MappingUUID string
	// Warnings lists what runs differently from the config (secrets not set,
	// SNS not used), one line each.
	Warnings []string

	cfg     *config.Config
	store   *fifo.Store
	history *bolt.DB
	// boltHistory writes into history; asyncHistory is written behind the
	// executions and feeds it. Both are closed, in that order, before history.
	boltHistory  *statemachine.BoltHistory
	asyncHistory *asyncHistory
	ingress      *ingress.Handler
	poller       *esm.Poller
	server       *http.Server
	served       chan error
	demo         *demotarget.Target
	notified     *notifications
	log          *slog.Logger
	grace        time.Duration
	stopOnce     sync.Once
	stopErr      error
}

// Start checks the workflows, opens the store, creates the queues, and
// starts serving and polling.
func Start(o Options) (t *Twin, err error) {
	cfg := o.Config
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	expected, err := generate.Files(cfg)
	if err != nil {
		return nil, err
	}
	workflows, err := statemachine.LoadWorkflows(o.WorkflowsDir, expected)
	if err != nil {
		return nil, err
	}
	lookup := o.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	t = &Twin{cfg: cfg, log: log, grace: o.ShutdownGrace, notified: &notifications{keep: 200}}
	if t.grace <= 0 {
		t.grace = 10 * time.Second
	}

	listener, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", o.Addr, err)
	}
	t.URL = "http://" + listener.Addr().String()
	defer func() {
		if err != nil {
			listener.Close()
			t.closeStores()
		}
	}()

	targetBase := o.TargetOverride
	if o.DemoTarget {
		t.demo = demotarget.New(o.DemoFailRate, log)
		targetBase = t.URL + DemoTargetPath
	}
	seen := map[string]bool{}
	secrets := newEnvSecrets(lookup)
	local := localConfig(cfg, secrets, targetBase, func(w string) {
		if !seen[w] {
			seen[w] = true
			t.Warnings = append(t.Warnings, w)
		}
	})

	if err := os.MkdirAll(filepath.Dir(o.DataPath), 0o700); err != nil {
		return nil, err
	}
	if t.store, err = fifo.Open(o.DataPath, fifo.Options{Region: cfg.Region, AccountID: Account}); err != nil {
		return nil, err
	}
	// The history is a log for people, not a promise: it is not fsync'd per
	// execution (that would cap the twin at one execution per disk flush).
	// A crash may lose the newest histories, never a message.
	if t.history, err = bolt.Open(historyPath(o.DataPath), 0o600, &bolt.Options{Timeout: 5 * time.Second, NoSync: true}); err != nil {
		return nil, fmt.Errorf("open execution history: %w", err)
	}
	if t.boltHistory, err = statemachine.NewBoltHistory(t.history, 0); err != nil {
		return nil, err
	}
	history := newAsyncHistory(t.boltHistory, log)
	t.asyncHistory = history
	budget := config.ComputeBudget(cfg)
	if err := createQueues(t.store, cfg, budget); err != nil {
		return nil, err
	}
	t.QueueURL = t.URL + "/" + Account + "/" + cfg.QueueName()
	t.DLQURL = t.URL + "/" + Account + "/" + cfg.DLQName()

	scale := max(o.TimeScale, 1)
	deliverARN := functionARN(cfg.Region, Account, cfg.FunctionName("deliver"))
	notifyARN := functionARN(cfg.Region, Account, cfg.FunctionName("notify"))
	deliverer, err := delivery.New(&delivery.Config{Routes: local, Secrets: secrets, HTTPClient: DeliveryClient(), Logger: log})
	if err != nil {
		return nil, err
	}
	notify, err := notifier.New(&notifier.Config{Routes: local, Secrets: secrets, HTTPClient: &http.Client{}, Logger: log})
	if err != nil {
		return nil, err
	}
	fns := &functions{
		byName: map[string]lambda.Handler{
			deliverARN: lambda.NewHandler(deliverer.Handle),
			notifyARN:  lambda.NewHandler(notify.Notify),
		},
		notifyARN: notifyARN,
		onNotify:  t.recordNotification,
	}
	runner := &statemachine.Runner{
		Invoker: fns,
		Clock:   scaledClock{scale: scale},
		History: history,
		Region:  cfg.Region,
		Account: Account,
	}
	states := sfnapi.New(runner)
	vars := map[string]string{asl.DeliverFunctionARNVar: deliverARN, asl.NotifyFunctionARNVar: notifyARN}
	for _, w := range workflows {
		route, ok := cfg.Route(w.Route)
		if !ok {
			return nil, fmt.Errorf("%s: no route %s in %s", w.File, w.Route, cfg.Path)
		}
		m, err := statemachine.Render(cfg.StateMachineName(route), w.Bytes, vars)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", w.File, err)
		}
		if _, err := states.Register(m); err != nil {
			return nil, fmt.Errorf("%s: %w", w.File, err)
		}
	}

	lease := o.Lease
	if lease <= 0 {
		lease = 10 * time.Second
	}
	sfnClient, sqsClient := t.clients(cfg.Region, budget.SDKTimeout, cfg.Queue.MaxConcurrency*forwarder.DefaultConcurrency)
	fwdCfg := *local
	fwdCfg.Queue.RedeliveryDelay = scaleDuration(cfg.Queue.RedeliveryDelay, scale)
	fwdCfg.Queue.MaxRedeliveryDelay = scaleDuration(cfg.Queue.MaxRedeliveryDelay, scale)
	fwd, err := forwarder.New(&forwarder.Config{
		Routes:                &fwdCfg,
		StateMachineARNPrefix: runner.StateMachineARN(cfg.Service + "-"),
		QueueURL:              t.QueueURL,
		// As on AWS (terraform/functions.tf), the forwarder parks what failed
		// for good in the DLQ itself, with the failure recorded on it.
		DLQURL:      t.DLQURL,
		DeadLetters: sqsClient,
		Starter:     sfnClient,
		Queue:       claimingQueue{client: sqsClient, claim: func(h string) { t.poller.Claim(h) }},
		Logger:      log,
		Jitter:      rand.Float64,
	})
	if err != nil {
		return nil, err
	}

	t.ingress = ingress.New(cfg, cfg.QueueName(), t.store, log)
	page, err := console.New(console.Options{
		Config:   cfg,
		Local:    local,
		Store:    t.store,
		History:  history,
		Redrive:  &redrive.Tool{SQS: sqsClient, SourceURL: t.QueueURL, DLQURL: t.DLQURL, Hold: 30 * time.Second, EmptyReceives: 2},
		Notified: t.Notifications,
		Demo:     t.demo,
		DemoPath: DemoTargetPath,
	})
	if err != nil {
		return nil, err
	}
	t.MappingUUID = mappingUUID(t.store.ARN(cfg.QueueName()))
	mappings := &mappingAPI{
		uuid: t.MappingUUID, queueARN: t.store.ARN(cfg.QueueName()),
		functionARN: functionARN(cfg.Region, Account, cfg.FunctionName("forward")),
		batchSize:   cfg.Queue.BatchSize, concurrency: cfg.Queue.MaxConcurrency,
		modified: time.Now(),
	}
	sqsServer := sqsapi.New(t.store, Account)
	mux := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := r.Header.Get("X-Amz-Target")
		switch {
		case strings.HasPrefix(target, "AmazonSQS."):
			sqsServer.ServeHTTP(w, r)
		case strings.HasPrefix(target, "AWSStepFunctions."):
			states.ServeHTTP(w, r)
		case strings.HasPrefix(r.URL.Path, lambdaPrefix):
			mappings.ServeHTTP(w, r)
		case t.ingress.Owns(r.URL.Path):
			t.ingress.ServeHTTP(w, r)
		case t.demo != nil && (r.URL.Path == DemoTargetPath || strings.HasPrefix(r.URL.Path, DemoTargetPath+"/")):
			http.StripPrefix(DemoTargetPath, t.demo).ServeHTTP(w, r)
		default:
			page.ServeHTTP(w, r)
		}
	})
	t.server = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	t.served = make(chan error, 1)
	go func() { t.served <- t.server.Serve(listener) }()

	t.poller, err = esm.Start(esm.Options{
		Queue:          t.store,
		QueueName:      cfg.QueueName(),
		Region:         cfg.Region,
		Function:       lambda.NewHandler(fwd.Handle),
		BatchSize:      cfg.Queue.BatchSize,
		MaxConcurrency: cfg.Queue.MaxConcurrency,
		Timeout:        budget.ForwardTimeout,
		Lease:          lease,
		Log:            log,
	})
	if err != nil {
		_ = t.server.Close()
		return nil, err
	}
	mappings.poller.Store(t.poller)
	for _, w := range t.Warnings {
		log.Warn("local: " + w)
	}
	return t, nil
}

// DeliveryClient is the deliver core's HTTP client (delivery.NewHTTPClient)
// with room for the twin's concurrency: one Lambda container delivers one
// webhook at a time, the twin runs many deliveries to the same target at once
// and keeps their connections open.
func DeliveryClient() *http.Client {
	c := delivery.NewHTTPClient()
	if tr, ok := c.Transport.(*http.Transport); ok {
		tr.MaxIdleConnsPerHost = 256
	}
	return c
}

// createQueues creates the DLQ and the queue as terraform/queue.tf does, or
// updates their attributes when the config changed since the last run.
func createQueues(s *fifo.Store, cfg *config.Config, b config.Budget) error {
	scope, limit := "queue", "perQueue"
	if cfg.Queue.HighThroughput {
		scope, limit = "messageGroup", "perMessageGroupId"
	}
	common := func(retention time.Duration) map[string]string {
		return map[string]string{
			fifo.AttrFifoQueue:                 "true",
			fifo.AttrContentBasedDeduplication: "true",
			fifo.AttrDeduplicationScope:        scope,
			fifo.AttrFifoThroughputLimit:       limit,
			fifo.AttrMessageRetentionPeriod:    strconv.Itoa(int(retention.Seconds())),
		}
	}
	dlq := common(cfg.Queue.DLQRetention)
	main := common(cfg.Queue.Retention)
	main[fifo.AttrVisibilityTimeout] = strconv.Itoa(int(min(b.VisibilityTimeout, config.SQSMaxVisibility).Seconds()))
	main[fifo.AttrRedrivePolicy] = fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":%d}`, s.ARN(cfg.DLQName()), cfg.Queue.MaxReceiveCount)
	for _, q := range []struct {
		name  string
		attrs map[string]string
	}{{cfg.DLQName(), dlq}, {cfg.QueueName(), main}} {
		err := s.CreateQueue(q.name, q.attrs)
		if errors.Is(err, fifo.ErrQueueNameExists) {
			update := map[string]string{}
			for k, v := range q.attrs {
				if k != fifo.AttrFifoQueue {
					update[k] = v
				}
			}
			err = s.SetQueueAttributes(q.name, update)
		}
		if err != nil {
			return fmt.Errorf("queue %s: %w", q.name, err)
		}
	}
	return nil
}

// clients are the forward function's AWS SDK clients, pointed at the twin;
// conns is how many calls of each may be in flight at once.
func (t *Twin) clients(region string, sdkTimeout time.Duration, conns int) (*sfn.Client, *sqs.Client) {
	httpClient := awshttp.NewBuildableClient().WithTimeout(sdkTimeout).WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConns = conns + 10
		tr.MaxIdleConnsPerHost = conns + 10
	})
	cfg := aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(t.URL),
		HTTPClient:   httpClient,
	}
	return forwarder.NewStatesClient(cfg, sdkTimeout, conns), sqs.NewFromConfig(cfg)
}

// claimingQueue is the forward function's SQS client: before the function
// sets a record's visibility (its redelivery backoff), the event source
// mapping stops extending that record's lease.
type claimingQueue struct {
	client *sqs.Client
	claim  func(handle string)
}

func (c claimingQueue) ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	c.claim(aws.ToString(in.ReceiptHandle))
	return c.client.ChangeMessageVisibility(ctx, in, opts...)
}

func (t *Twin) recordNotification(req webhook.NotifyRequest, delivered []string, err error) {
	n := Notification{
		At: time.Now().UTC(), Route: req.Webhook.Route, Group: req.Webhook.Group, WebhookID: req.Webhook.WebhookID,
		Error: req.Error.Error, Execution: req.ExecutionID, Channels: delivered,
	}
	if err != nil {
		n.Problem = err.Error()
	}
	t.notified.add(n)
	t.log.Warn("local: NOTIFICATION: delivery failed", "route", n.Route, "group", n.Group, "webhookId", n.WebhookID,
		"error", n.Error, "channels", n.Channels, "headedForDLQ", req.Webhook.FinalAttempt,
		"redrive", notifier.RedriveCommand(n.WebhookID))
}

// Notifications lists the notify invocations so far, newest first.
func (t *Twin) Notifications() []Notification { return t.notified.newestFirst() }

// Store is the twin's queue store.
func (t *Twin) Store() *fifo.Store { return t.store }

// Demo is the demo target, or nil.
func (t *Twin) Demo() *demotarget.Target { return t.demo }

// Shutdown stops the twin: ingress refuses new webhooks (503), the event
// source mapping stops polling and lets running batches finish for the grace
// period (then cancels them and releases their messages), the listener
// closes, and the stores are closed. Every acknowledged webhook stays on disk;
// a restart resumes from there.
func (t *Twin) Shutdown(ctx context.Context) error {
	t.stopOnce.Do(func() {
		t.ingress.Close()
		t.poller.Stop(t.grace)
		err := t.server.Shutdown(ctx)
		if err != nil {
			_ = t.server.Close()
		}
		<-t.served
		t.stopErr = errors.Join(err, t.closeStores())
	})
	return t.stopErr
}

func (t *Twin) closeStores() error {
	var errs []error
	if t.store != nil {
		errs = append(errs, t.store.Close())
	}
	if t.asyncHistory != nil {
		t.asyncHistory.Close()
	}
	if t.boltHistory != nil {
		// Commits what the asynchronous writer handed it; closing the file
		// first would drop those executions. A history is a log for people:
		// its failure is logged, not a failed shutdown.
		if err := t.boltHistory.Close(); err != nil {
			t.log.Error("local: execution history not written", "error", err.Error())
		}
	}
	if t.history != nil {
		errs = append(errs, t.history.Close())
	}
	return errors.Join(errs...)
}

// historyPath is the execution history file beside the data file.
func historyPath(data string) string {
	return strings.TrimSuffix(data, filepath.Ext(data)) + "-history.db"
}

func scaleDuration(d time.Duration, scale float64) time.Duration {
	return time.Duration(float64(d) / scale)
}

// scaledClock sleeps (retry backoff, Wait states) scale times shorter;
// timeouts run on the wall clock.
type scaledClock struct {
	statemachine.SystemClock
	scale float64
}

func (c scaledClock) Sleep(ctx context.Context, d time.Duration) error {
	return c.SystemClock.Sleep(ctx, scaleDuration(d, c.scale))
}
