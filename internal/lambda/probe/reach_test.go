package probe

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestCheckReachesWithoutSending: against a TLS server, every step succeeds
// (the certificate named), and the server never sees a request.
func TestCheckReachesWithoutSending(t *testing.T) {
	t.Parallel()
	var requests atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { requests.Add(1) }))
	defer srv.Close()
	tlsCfg := srv.Client().Transport.(*http.Transport).TLSClientConfig
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := Check(ctx, srv.URL+"/api/webhooks/orders", Network{TLS: tlsCfg})
	if !r.OK || len(r.Steps) != 3 {
		t.Fatalf("reach %+v; want dns, tcp and tls all ok", r)
	}
	for i, name := range []string{StepDNS, StepTCP, StepTLS} {
		if r.Steps[i].Name != name || !r.Steps[i].OK {
			t.Errorf("step %d: %+v, want %s ok", i, r.Steps[i], name)
		}
	}
	if !strings.Contains(r.Steps[2].Detail, "TLS 1.3") || !strings.Contains(r.Steps[2].Detail, "valid until") {
		t.Errorf("tls detail %q", r.Steps[2].Detail)
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("the target received %d requests; a probe sends none", n)
	}
}

// TestCheckStopsAtTheFirstFailure: each failure is reported at its step,
// with the steps after it not taken.
func TestCheckStopsAtTheFirstFailure(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()
	// A resolver that answers nothing, like a VPC without a route to the
	// name's zone; and one that maps the name to the loopback address.
	nowhere := &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("no route to any DNS server")
	}}
	for _, tc := range []struct {
		name   string
		url    string
		net    Network
		failAt string
		steps  int
	}{
		{"the name does not resolve", "https://orders.internal/hooks", Network{Resolver: nowhere}, StepDNS, 1},
		{"nothing listens", "http://" + closedAddr + "/hooks", Network{}, StepTCP, 2},
		{"the certificate is not for the name", "https://localhost:" + port + "/hooks",
			Network{TLS: srv.Client().Transport.(*http.Transport).TLSClientConfig}, StepTLS, 3},
		{"the certificate is not trusted", srv.URL, Network{}, StepTLS, 3},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		r := Check(ctx, tc.url, tc.net)
		cancel()
		last := r.Steps[len(r.Steps)-1]
		if r.OK || len(r.Steps) != tc.steps || last.Name != tc.failAt || last.OK || last.Error == "" {
			t.Errorf("%s: reach %+v; want a failure at %s after %d steps", tc.name, r, tc.failAt, tc.steps)
		}
	}
}

// TestCheckPlainHTTPHasNoTLSStep: an http target is reachable once its TCP
// connection opens.
func TestCheckPlainHTTPHasNoTLSStep(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	r := Check(context.Background(), srv.URL, Network{})
	if !r.OK || len(r.Steps) != 2 || r.Steps[0].Detail != "an IP address, nothing to resolve" {
		t.Errorf("reach %+v; want dns (an IP) and tcp ok", r)
	}
}
