package twin_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/webhookq/webhookq/internal/lambda/forwarder"
	"github.com/webhookq/webhookq/internal/testkit/testenv"
	"github.com/webhookq/webhookq/internal/twin"
)

// verifyingConfig is pipelineConfig with the orders route verifying an HMAC
// signature whose secret is ORDERS_SIGNING_SECRET.
func verifyingConfig() string {
	return strings.Replace(fmt.Sprintf(pipelineConfig, "https://app.example.com", 1),
		"    headers: [X-Event-Type, X-Group]\n    verify: {scheme: none, reason: the test sender signs nothing}",
		"    headers: [X-Event-Type, X-Group, X-Signature]\n    verify: {scheme: hmac, header: X-Signature, secret: {env: ORDERS_SIGNING_SECRET}}", 1)
}

// netnsEnv marks a test run that nonLoopbackIP started in a network
// namespace of its own.
const netnsEnv = "WEBHOOKQ_TEST_IN_NETNS"

// nonLoopbackIP is an address of this machine that is not loopback, for a
// listener other hosts could reach. A machine without one (a bare
// container) gets one in a network namespace: the test runs again there,
// under unshare, with 198.18.0.1 (a benchmarking address, RFC 2544) added to
// the namespace's own lo — no kernel module needed, and the address is not
// a loopback one — and nonLoopbackIP returns nil to the outer run, which has
// nothing left to do.
func nonLoopbackIP(t *testing.T) net.IP {
	t.Helper()
	ifaces, err := net.Interfaces()
	must(t, err)
	for _, iface := range ifaces {
		if iface.Flags&net.FlagUp == 0 {
			continue
		}
		addrs, err := iface.Addrs()
		must(t, err)
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.IsGlobalUnicast() && !ipn.IP.IsLoopback() && ipn.IP.To4() != nil {
				return ipn.IP
			}
		}
	}
	if os.Getenv(netnsEnv) != "" {
		t.Fatal("no non-loopback address even in the network namespace made for the test")
	}
	for _, tool := range []string{"unshare", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("this machine has no non-loopback address, and %s (util-linux, iproute2: scripts/setup installs them) is missing to make one in a network namespace", tool)
		}
	}
	script := `set -e; ip link set lo up; ip addr add 198.18.0.1/32 dev lo; exec "$@"`
	cmd := exec.Command("unshare", "--net", "--", "sh", "-c", script, "sh", os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), netnsEnv+"=1")
	out, err := cmd.CombinedOutput()
	t.Logf("the test in a network namespace with the address 198.18.0.1:\n%s", out)
	if err != nil {
		t.Fatalf("the test in a network namespace: %v", err)
	}
	return nil
}

// httpStatus is the HTTP status of an AWS SDK call's error, 0 without one.
func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// TestIngressAloneFacesTheNetwork: with ingress on a non-loopback address,
// webhooks are accepted there, and nothing else is: the SQS, Step Functions
// and Lambda APIs (called with the real AWS SDK), the web page and the demo
// target answer 404 there while they work on the control address, and the
// control port cannot be reached through the non-loopback address at all.
// The control plane also refuses a Host that is not a loopback name.
func TestIngressAloneFacesTheNetwork(t *testing.T) {
	ip := nonLoopbackIP(t)
	if ip == nil {
		return
	}
	cfg, workflows := writeProject(t, verifyingConfig())
	tw := startTwin(t, twin.Options{Config: cfg, WorkflowsDir: workflows, DemoTarget: true,
		Addr: net.JoinHostPort(ip.String(), "0"),
		LookupEnv: func(k string) (string, bool) {
			if k == "ORDERS_SIGNING_SECRET" {
				return "s3cret", true
			}
			return "", false
		},
	})
	if !strings.Contains(tw.IngressURL, ip.String()) || !strings.HasPrefix(tw.ControlURL, "http://127.0.0.1:") {
		t.Fatalf("ingress %s, control plane %s", tw.IngressURL, tw.ControlURL)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	if _, status, err := post(client, tw.IngressURL+"/hooks/accounts", map[string]string{"X-Event-Type": "e"}, []byte(`{"account":{"id":"a1"}}`)); err != nil || status != http.StatusOK {
		t.Fatalf("webhook to the ingress address: %d %v", status, err)
	}

	ctx := context.Background()
	calls := map[string]func(base string) error{
		"SQS ListQueues": func(base string) error {
			_, err := sqs.NewFromConfig(testenv.AWSConfig(base, cfg.Region)).ListQueues(ctx, &sqs.ListQueuesInput{})
			return err
		},
		"Step Functions StartSyncExecution": func(base string) error {
			_, err := forwarder.NewStatesClient(testenv.AWSConfig(base, cfg.Region), time.Minute, 1).StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{
				StateMachineArn: aws.String(fmt.Sprintf("arn:aws:states:%s:%s:stateMachine:%s-no-such-route", cfg.Region, twin.Account, cfg.Service)),
				Input:           aws.String(`{}`),
			})
			return err
		},
		"Lambda GetEventSourceMapping": func(base string) error {
			_, err := lambda.NewFromConfig(testenv.AWSConfig(base, cfg.Region)).GetEventSourceMapping(ctx, &lambda.GetEventSourceMappingInput{UUID: aws.String(tw.MappingUUID)})
			return err
		},
		"the web page": func(base string) error { return get(client, base+"/") },
		"the demo target": func(base string) error {
			return get(client, base+twin.DemoTargetPath+"/status")
		},
	}
	for name, call := range calls {
		if err := call(tw.IngressURL); httpStatus(err) != http.StatusNotFound {
			t.Errorf("%s through the ingress address: %v, want 404", name, err)
		}
		if err := call(tw.ControlURL); httpStatus(err) == http.StatusNotFound || (err != nil && httpStatus(err) == 0) {
			t.Errorf("%s on the control address: %v", name, err)
		}
	}

	_, controlPort, err := net.SplitHostPort(strings.TrimPrefix(tw.ControlURL, "http://"))
	must(t, err)
	if conn, err := net.DialTimeout("tcp", net.JoinHostPort(ip.String(), controlPort), 5*time.Second); err == nil {
		conn.Close()
		t.Errorf("the control port %s answers on %s", controlPort, ip)
	}

	for host, want := range map[string]int{"rebound.example.com": http.StatusForbidden, "localhost": http.StatusOK, "127.0.0.1": http.StatusOK} {
		req, err := http.NewRequest(http.MethodGet, tw.ControlURL+"/", nil)
		must(t, err)
		req.Host = net.JoinHostPort(host, controlPort)
		resp, err := client.Do(req)
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("the web page with Host %s: %d, want %d", req.Host, resp.StatusCode, want)
		}
	}
}

// get fetches url and reports a status other than 200 as an error carrying
// it, like the SDK's.
func get(client *http.Client, url string) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: resp}, Err: fmt.Errorf("GET %s: %s", url, resp.Status)}
	}
	return nil
}

// TestExposureRefusals: Start refuses a non-loopback or declared public
// ingress while a verifying route's secret is unset, naming the variable,
// and a non-loopback control plane unless RemoteControl, which then warns.
func TestExposureRefusals(t *testing.T) {
	t.Parallel()
	cfg, workflows := writeProject(t, verifyingConfig())
	noSecrets := func(string) (string, bool) { return "", false }
	_, err := twin.Start(twin.Options{Config: cfg, WorkflowsDir: workflows, DataPath: t.TempDir() + "/d.db",
		Addr: "0.0.0.0:0", LookupEnv: noSecrets})
	if err == nil || !strings.Contains(err.Error(), "route orders: set ORDERS_SIGNING_SECRET") || strings.Contains(err.Error(), "route accounts") {
		t.Errorf("Start with ingress on 0.0.0.0 and the orders secret unset: %v", err)
	}
	_, err = twin.Start(twin.Options{Config: cfg, WorkflowsDir: workflows, DataPath: t.TempDir() + "/d.db",
		Addr: "127.0.0.1:0", PublicIngress: true, LookupEnv: noSecrets})
	if err == nil || !strings.Contains(err.Error(), "declared public") || !strings.Contains(err.Error(), "route orders: set ORDERS_SIGNING_SECRET") {
		t.Errorf("Start with a public ingress on loopback (a tunnel) and the orders secret unset: %v", err)
	}
	_, err = twin.Start(twin.Options{Config: cfg, WorkflowsDir: workflows, DataPath: t.TempDir() + "/d.db",
		Addr: "127.0.0.1:0", ControlAddr: "0.0.0.0:0", LookupEnv: noSecrets})
	if err == nil || !strings.Contains(err.Error(), "-control-remote") {
		t.Errorf("Start with the control plane on 0.0.0.0: %v", err)
	}
	tw := startTwin(t, twin.Options{Config: cfg, WorkflowsDir: workflows, ControlAddr: "0.0.0.0:0", RemoteControl: true, LookupEnv: noSecrets})
	if !strings.Contains(strings.Join(tw.Warnings, "\n"), "NO authentication") {
		t.Errorf("a remote control plane without a warning: %q", tw.Warnings)
	}
	if !strings.Contains(strings.Join(tw.Warnings, "\n"), "route orders: inbound signature verification is OFF: set ORDERS_SIGNING_SECRET") {
		t.Errorf("on a loopback ingress an unset verify secret is a warning: %q", tw.Warnings)
	}
}
