// Package awssdk is what every AWS SDK client webhookq builds shares: the
// configuration loader and an HTTP client that closes one race between the
// SDK and net/http (GuardBodies).
package awssdk

import (
	"context"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
)

// LoadConfig is awsconfig.LoadDefaultConfig with the HTTP client it resolves
// (AWS_CA_BUNDLE and all) behind GuardBodies: the configuration the Lambdas
// and the command-line tools load.
func LoadConfig(ctx context.Context, optFns ...func(*awsconfig.LoadOptions) error) (aws.Config, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx, optFns...)
	if err != nil {
		return aws.Config{}, err
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = awshttp.NewBuildableClient()
	}
	cfg.HTTPClient = GuardBodies(cfg.HTTPClient)
	return cfg, nil
}

// HTTPClient is the SDK's default HTTP client behind GuardBodies, for an
// aws.Config built by hand (the twin's, a test's).
func HTTPClient() aws.HTTPClient { return GuardBodies(awshttp.NewBuildableClient()) }

// GuardBodies returns c with a race closed that turns a call that succeeded
// into one that failed (aws/aws-sdk-go-v2 issues 1825 and 2737).
//
// smithy-go closes the request body as soon as Do returns. net/http's write
// loop may at that moment still be in the request, having sent every byte
// (the server has already answered) but not yet drained the body for a
// trailing read. The SDK's body is closed by then, and its WriteTo answers
// io.EOF, which net/http takes as a write error: it closes the connection
// under the response the caller is reading, and the call fails with "failed
// to decode response body … use of closed network connection". For
// StartSyncExecution that reports an execution that ran as one that did not,
// for SendMessage a message that was sent as one that was not: a duplicate
// either way. Bodies larger than net/http's 4 KiB write buffer are exposed
// (the tail goes straight to the socket), and a 128 MB Lambda, which gets a
// fraction of a vCPU, widens the window.
//
// Without WriteTo, net/http drains the body through Read, where a closed
// body's io.EOF is the clean end of the body it is. (A service client applies
// AWS_DEFAULTS_MODE's connect and TLS timeouts only to an
// *awshttp.BuildableClient, so they do not apply behind the guard; webhookq
// sets no defaults mode.)
func GuardBodies(c aws.HTTPClient) aws.HTTPClient { return guarded{c} }

type guarded struct{ next aws.HTTPClient }

func (g guarded) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		// A shallow copy: the SDK's own request keeps its body, which it
		// closes after Do.
		req = req.WithContext(req.Context())
		req.Body = readCloser{req.Body}
	}
	return g.next.Do(req)
}

// readCloser is a request body with Read and Close only: no WriteTo.
type readCloser struct{ io.ReadCloser }
