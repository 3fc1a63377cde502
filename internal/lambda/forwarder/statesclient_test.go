package forwarder_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/webhookq/webhookq/internal/lambda/forwarder"
	"github.com/webhookq/webhookq/internal/testkit/testenv"
)

// statesConfig is an SDK configuration for endpoint with the SDK's default
// retryer (testenv's turns retries off, which would hide a retrying client).
func statesConfig(endpoint string) aws.Config {
	cfg := testenv.AWSConfig(endpoint, motoRegion)
	cfg.Retryer = nil
	return cfg
}

func startSync(client *sfn.Client) error {
	_, err := client.StartSyncExecution(context.Background(), &sfn.StartSyncExecutionInput{
		StateMachineArn: aws.String(arnPrefix + "approval-progress"),
		Input:           aws.String("{}"),
	})
	return err
}

// TestStatesClientHostPrefix: against AWS the client keeps the "sync-" host
// prefix StartSyncExecution needs; against an endpoint override it drops it.
func TestStatesClientHostPrefix(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, endpoint, wantHost string
	}{
		{"AWS", "", "sync-states.us-east-1.amazonaws.com"},
		{"endpoint override", "http://127.0.0.1:4566", "127.0.0.1:4566"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			errCaptured := errors.New("captured before sending")
			var host string
			cfg := statesConfig(tc.endpoint)
			if tc.endpoint == "" {
				cfg.BaseEndpoint = nil
			}
			// The last Deserialize middleware sees the request exactly as it
			// would be sent, and stops it there.
			cfg.APIOptions = append(cfg.APIOptions, func(s *middleware.Stack) error {
				return s.Deserialize.Add(middleware.DeserializeMiddlewareFunc("CaptureHost",
					func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
						host = in.Request.(*smithyhttp.Request).URL.Host
						return middleware.DeserializeOutput{}, middleware.Metadata{}, errCaptured
					}), middleware.After)
			})
			err := startSync(forwarder.NewStatesClient(cfg, time.Minute, forwarder.DefaultConcurrency))
			if !errors.Is(err, errCaptured) {
				t.Fatalf("StartSyncExecution: %v", err)
			}
			if host != tc.wantHost {
				t.Errorf("host %q, want %q", host, tc.wantHost)
			}
		})
	}
}

// TestStatesClientTimeout: the HTTP client gives up after its timeout (the
// Lambda sets it above the longest execution) rather than waiting for the
// server.
func TestStatesClientTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
	}))
	defer slow.Close()
	defer close(release)
	err := startSync(forwarder.NewStatesClient(statesConfig(slow.URL), 300*time.Millisecond, forwarder.DefaultConcurrency))
	// Without the timeout the server answers an empty 200 after 10 s, which
	// fails to decode: only the client's own timeout is a net.Error timeout.
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("StartSyncExecution against a hanging server: %v, want the client's timeout", err)
	}
}

// TestStatesClientDoesNotRetry: a failed StartSyncExecution is sent once —
// the SDK would retry a 500 by default, running the workflow again; SQS
// redelivery is the retry.
func TestStatesClientDoesNotRetry(t *testing.T) {
	t.Parallel()
	var requests atomic.Int32
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"__type":"InternalFailure","message":"boom"}`))
	}))
	defer failing.Close()
	if err := startSync(forwarder.NewStatesClient(statesConfig(failing.URL), time.Minute, forwarder.DefaultConcurrency)); err == nil {
		t.Fatal("StartSyncExecution succeeded against a failing server")
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("%d requests, want 1 (no retry)", n)
	}
}
