package twin

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/redrive"
	"github.com/webhookq/webhookq/internal/twin/console"
	"github.com/webhookq/webhookq/internal/twin/ingress"
	"github.com/webhookq/webhookq/internal/twin/sfnapi"
	"github.com/webhookq/webhookq/internal/twin/sqsapi"
)

// defaultControlAddr is the control plane's address when Options has none:
// any free loopback port.
const defaultControlAddr = "127.0.0.1:0"

// listen opens the ingress and the control plane listeners.
func listen(ingressAddr, controlAddr string) (ingressListener, controlListener net.Listener, err error) {
	if controlAddr == "" {
		controlAddr = defaultControlAddr
	}
	ingressListener, err = net.Listen("tcp", ingressAddr)
	if err != nil {
		return nil, nil, fmt.Errorf("ingress: listen on %s: %w", ingressAddr, err)
	}
	controlListener, err = net.Listen("tcp", controlAddr)
	if err != nil {
		ingressListener.Close()
		return nil, nil, fmt.Errorf("control plane: listen on %s: %w", controlAddr, err)
	}
	return ingressListener, controlListener, nil
}

// buildHandlers are what the listeners serve: ingress serves the routes and
// answers 404 to anything else; the control plane serves the AWS APIs, told
// apart by X-Amz-Target or path as AWS tells its services apart, the demo
// target and the web page (see the package comment). Unless remoteControl,
// the control plane answers only loopback host names (loopbackHostsOnly).
func (t *Twin) buildHandlers(local *config.Config, states *sfnapi.Server, sqsClient *sqs.Client, remoteControl bool) (ingressHandler, controlHandler http.Handler, err error) {
	cfg := t.cfg
	if t.ingress, err = ingress.New(cfg, cfg.QueueName(), t.store, t.log); err != nil {
		return nil, nil, err
	}
	t.MappingUUID = mappingUUID(t.store.ARN(cfg.QueueName()))
	t.mappings = &mappingAPI{
		uuid: t.MappingUUID, queueARN: t.store.ARN(cfg.QueueName()),
		functionARN: functionARN(cfg.Region, Account, cfg.FunctionName("forward")),
		batchSize:   cfg.Queue.BatchSize, concurrency: cfg.Queue.MaxConcurrency,
		modified: time.Now(),
	}
	t.mappings.saveEnabled = func(enabled bool) error { return saveMappingEnabled(t.history, t.MappingUUID, enabled) }
	page, err := console.New(console.Options{
		Config:  cfg,
		Local:   local,
		Store:   t.store,
		History: t.asyncHistory,
		Redrive: &redrive.Tool{SQS: sqsClient, SourceURL: t.QueueURL, DLQURL: t.DLQURL, Hold: 30 * time.Second, EmptyReceives: 2,
			MaxRedrives: redrive.DefaultMaxRedrives},
		Mapping:  t.mappings,
		Stale:    t.Stale,
		Notified: t.Notifications,
		Demo:     t.demo,
		DemoPath: DemoTargetPath,
		Running:  t.runner.Running,
		Metrics:  t.metrics,
		Sample:   t.sampleGauges,
		// The refused webhooks per route, beside how each route checks.
		SignatureChecks: t.SignatureChecks,
	})
	if err != nil {
		return nil, nil, err
	}
	sqsServer := sqsapi.New(t.store, Account)
	ingressHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !t.ingress.Owns(r.URL.Path) {
			http.NotFound(w, r)
			return
		}
		t.ingress.ServeHTTP(w, r)
	})
	controlHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := r.Header.Get("X-Amz-Target")
		switch {
		case strings.HasPrefix(target, "AmazonSQS."):
			sqsServer.ServeHTTP(w, r)
		case strings.HasPrefix(target, "AWSStepFunctions."):
			states.ServeHTTP(w, r)
		case strings.HasPrefix(target, "Logs_20140328."):
			t.logs.ServeHTTP(w, r)
		case strings.HasPrefix(target, "TrentService."):
			t.kms.ServeHTTP(w, r)
		case strings.HasPrefix(r.URL.Path, lambdaPrefix):
			t.mappings.ServeHTTP(w, r)
		case strings.HasPrefix(r.URL.Path, functionsPrefix):
			t.invocations.ServeHTTP(w, r)
		case t.demo != nil && (r.URL.Path == DemoTargetPath || strings.HasPrefix(r.URL.Path, DemoTargetPath+"/")):
			http.StripPrefix(DemoTargetPath, t.demo).ServeHTTP(w, r)
		default:
			page.ServeHTTP(w, r)
		}
	})
	if !remoteControl {
		controlHandler = loopbackHostsOnly(controlHandler)
	}
	return ingressHandler, controlHandler, nil
}

// DefaultIngressReadTimeout is how long the ingress listener waits for a
// whole request: as long as API Gateway waits for an HTTP API integration
// (30 seconds, https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html).
// A sender that needs longer for a body of at most 256 KiB is more likely an
// attack holding connections open than a webhook provider.
const DefaultIngressReadTimeout = 30 * time.Second

// serve starts serving handler on listener; Shutdown stops it. readTimeout,
// when set, bounds reading each request (headers and body) and how long an
// idle keep-alive connection stays open.
func (t *Twin) serve(listener net.Listener, handler http.Handler, readTimeout time.Duration) {
	if t.served == nil {
		t.served = make(chan error, 2)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	if readTimeout > 0 {
		srv.ReadHeaderTimeout = min(srv.ReadHeaderTimeout, readTimeout)
		srv.ReadTimeout = readTimeout
		srv.IdleTimeout = 2 * readTimeout
	}
	t.servers = append(t.servers, srv)
	go func() { t.served <- srv.Serve(listener) }()
}
