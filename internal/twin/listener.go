package twin

import (
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

// buildHandler is what the listener serves: the AWS APIs told apart by
// X-Amz-Target or path as AWS tells its services apart, ingress, the demo
// target and the web page (see the package comment).
func (t *Twin) buildHandler(local *config.Config, states *sfnapi.Server, sqsClient *sqs.Client) (http.Handler, error) {
	cfg := t.cfg
	var err error
	if t.ingress, err = ingress.New(cfg, cfg.QueueName(), t.store, t.log); err != nil {
		return nil, err
	}
	page, err := console.New(console.Options{
		Config:  cfg,
		Local:   local,
		Store:   t.store,
		History: t.asyncHistory,
		Redrive: &redrive.Tool{SQS: sqsClient, SourceURL: t.QueueURL, DLQURL: t.DLQURL, Hold: 30 * time.Second, EmptyReceives: 2,
			MaxRedrives: redrive.DefaultMaxRedrives},
		Notified: t.Notifications,
		Demo:     t.demo,
		DemoPath: DemoTargetPath,
	})
	if err != nil {
		return nil, err
	}
	t.MappingUUID = mappingUUID(t.store.ARN(cfg.QueueName()))
	t.mappings = &mappingAPI{
		uuid: t.MappingUUID, queueARN: t.store.ARN(cfg.QueueName()),
		functionARN: functionARN(cfg.Region, Account, cfg.FunctionName("forward")),
		batchSize:   cfg.Queue.BatchSize, concurrency: cfg.Queue.MaxConcurrency,
		modified: time.Now(),
	}
	sqsServer := sqsapi.New(t.store, Account)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := r.Header.Get("X-Amz-Target")
		switch {
		case strings.HasPrefix(target, "AmazonSQS."):
			sqsServer.ServeHTTP(w, r)
		case strings.HasPrefix(target, "AWSStepFunctions."):
			states.ServeHTTP(w, r)
		case strings.HasPrefix(r.URL.Path, lambdaPrefix):
			t.mappings.ServeHTTP(w, r)
		case t.ingress.Owns(r.URL.Path):
			t.ingress.ServeHTTP(w, r)
		case t.demo != nil && (r.URL.Path == DemoTargetPath || strings.HasPrefix(r.URL.Path, DemoTargetPath+"/")):
			http.StripPrefix(DemoTargetPath, t.demo).ServeHTTP(w, r)
		default:
			page.ServeHTTP(w, r)
		}
	}), nil
}

// serve starts serving handler on listener; Shutdown stops it.
func (t *Twin) serve(listener net.Listener, handler http.Handler) {
	t.server = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	t.served = make(chan error, 1)
	go func() { t.served <- t.server.Serve(listener) }()
}
