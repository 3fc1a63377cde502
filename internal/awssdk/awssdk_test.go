package awssdk_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/webhookq/webhookq/internal/awssdk"
)

// widenedConn pauses after each Write, its bytes on the wire: net/http's
// write loop is then still inside the request when the server has answered
// and the SDK has closed the request body, the window GuardBodies closes. (The
// pauses widen a race; nothing is timed.)
type widenedConn struct{ net.Conn }

func (c widenedConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	time.Sleep(50 * time.Millisecond)
	return n, err
}

// startExecutions makes n StartExecution calls with an input larger than
// net/http's write buffer, through the client made of a BuildableClient that
// opens the window, to a server that reads each request
// whole and answers at once, and returns the calls' errors.
func startExecutions(t *testing.T, client func(*testing.T, *awshttp.BuildableClient) aws.HTTPClient, n int) []error {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		// The answer's head at once, its tail later: the client is still
		// reading the answer from the connection when the write loop,
		// paused by widenedConn, goes on.
		_, _ = io.WriteString(w, `{"executionArn":"arn:aws:states:us-east-1:123456789012:execution:m:e",`)
		w.(http.Flusher).Flush()
		time.Sleep(100 * time.Millisecond)
		_, _ = io.WriteString(w, `"startDate":1}`)
	}))
	t.Cleanup(srv.Close)
	http := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		dial := tr.DialContext
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return widenedConn{c}, nil
		}
	})
	states := sfn.NewFromConfig(aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(srv.URL),
		HTTPClient:   client(t, http),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	})
	input := `{"body":"` + strings.Repeat("x", 16<<10) + `"}`
	var errs []error
	for range n {
		_, err := states.StartExecution(context.Background(), &sfn.StartExecutionInput{
			StateMachineArn: aws.String("arn:aws:states:us-east-1:123456789012:stateMachine:m"),
			Input:           aws.String(input),
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// TestGuardBodies: with the answer arriving while net/http is still in the
// request, every call through GuardBodies, or through the client LoadConfig
// resolves, succeeds; the same calls without it fail (which shows the harness
// opens the window; should they stop failing, the SDK has fixed the race and
// GuardBodies can go).
func TestGuardBodies(t *testing.T) {
	t.Parallel()
	const calls = 8
	for name, guarded := range map[string]func(*testing.T, *awshttp.BuildableClient) aws.HTTPClient{
		"GuardBodies": func(_ *testing.T, c *awshttp.BuildableClient) aws.HTTPClient { return awssdk.GuardBodies(c) },
		"LoadConfig": func(t *testing.T, c *awshttp.BuildableClient) aws.HTTPClient {
			cfg, err := awssdk.LoadConfig(context.Background(), awsconfig.WithHTTPClient(c), awsconfig.WithRegion("us-east-1"))
			if err != nil {
				t.Fatal(err)
			}
			return cfg.HTTPClient
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, err := range startExecutions(t, guarded, calls) {
				t.Errorf("a call failed behind the guard: %v", err)
			}
		})
	}
	t.Run("unguarded", func(t *testing.T) {
		t.Parallel()
		errs := startExecutions(t, func(_ *testing.T, c *awshttp.BuildableClient) aws.HTTPClient { return c }, calls)
		if len(errs) == 0 {
			t.Fatalf("all %d calls succeeded without GuardBodies: the harness no longer opens the window, or the SDK no longer closes the body under net/http", calls)
		}
		if !strings.Contains(errs[0].Error(), "use of closed network connection") {
			t.Errorf("without GuardBodies a call failed otherwise than by the race: %v", errs[0])
		}
		t.Logf("without GuardBodies %d of %d calls failed; the first: %v", len(errs), calls, errs[0])
	})
}
