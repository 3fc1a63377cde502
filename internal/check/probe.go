package check

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/lambda/probe"
	"github.com/webhookq/webhookq/internal/lambda/secret"
	"github.com/webhookq/webhookq/internal/lambda/signature"
	"github.com/webhookq/webhookq/internal/webhook"
)

// postTimeout bounds one probe's POST to its public URL.
const postTimeout = 30 * time.Second

// logSlack is how far before a probe was sent its log lines are looked for
// (clocks differ a little between here and AWS).
const logSlack = time.Minute

// probeRoutes probes the selected routes at once: each gives its probe's
// result and its target's reachability.
func probeRoutes(ctx context.Context, d Deployment, c Clients, o Options) []Result {
	var routes []config.Route
	var results []Result
	for _, name := range o.Routes {
		if _, ok := d.Config.Route(name); !ok {
			results = append(results, Result{Check: "route " + name, Status: Fail, Detail: "no such route in " + d.Config.Path,
				Fix: "name one of: " + strings.Join(routeNames(d.Config), ", ")})
		}
	}
	for _, r := range d.Config.Routes {
		if len(o.Routes) == 0 || slices.Contains(o.Routes, r.Name) {
			routes = append(routes, r)
		}
	}
	per := make([][]Result, len(routes))
	var wg sync.WaitGroup
	for i, r := range routes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			per[i] = probeRoute(ctx, d, c, o, r)
		}()
	}
	wg.Wait()
	for _, rs := range per {
		results = append(results, rs...)
	}
	return results
}

func routeNames(cfg *config.Config) []string {
	var names []string
	for _, r := range cfg.Routes {
		names = append(names, r.Name)
	}
	return names
}

// sent is a probe on its way: what identifies it in the logs.
type sent struct {
	id        string // the probe's id, in deliver's answer
	webhookID string // the request id ingress gave it, in forward's lines
	at        time.Time
}

func probeRoute(ctx context.Context, d Deployment, c Clients, o Options, route config.Route) []Result {
	res := Result{Check: "route " + route.Name + ": probe through the pipeline"}
	reach := Result{Check: "route " + route.Name + ": target reachable from deliver", Status: Skip, Detail: "not probed: the probe did not reach deliver"}
	s, fail := post(ctx, d, c, o, route)
	if fail != nil {
		return []Result{*fail, reach}
	}
	o.Progress(fmt.Sprintf("route %s: probe %s sent, waiting up to %s for deliver's answer", route.Name, s.id, o.Wait))
	ans, err := awaitAnswer(ctx, d, c, o, s)
	if err != nil {
		res.Status, res.Detail = Fail, err.Error()
		res.Fix = "check the region and your credentials (logs:FilterLogEvents)"
		return []Result{res, reach}
	}
	if ans == nil {
		res.Status = Fail
		res.Detail, res.Fix = trace(ctx, d, c, o, route, s)
		return []Result{res, reach}
	}
	took := o.Now().Sub(s.at).Round(100 * time.Millisecond)
	parked := fmt.Sprintf("; it is parked in the DLQ now: go run ./cmd/redrive purge --webhook-id %s --yes", s.webhookID)
	switch ans.Verdict {
	case probe.Answered:
		res.Status = Pass
		res.Detail = fmt.Sprintf("probe %s answered by deliver after %s: public URL → API Gateway → SQS → event source mapping → forward → %s → deliver, nothing delivered",
			s.id, took, d.Config.StateMachineName(route))
		reach = reachResult(reach.Check, ans.Reach)
	case probe.Expired:
		res.Status, res.Detail = Fail, fmt.Sprintf("deliver answered probe %s as expired (%s) after %s", s.id, ans.Reason, took)
		res.Fix = "it took too long to get through (a backlog in its message group?), or the clocks differ; run the check again"
	case probe.Forged:
		res.Status, res.Detail = Fail, fmt.Sprintf("deliver refused probe %s as forged: %s", s.id, ans.Reason)
		res.Fix = "deliver checks MACs with another key than " + d.ProbeKey + ": apply again so its WEBHOOKQ_PROBE_KEY is the module's probe key" + parked
	default:
		res.Status, res.Detail = Fail, fmt.Sprintf("deliver could not check probe %s: %s", s.id, ans.Reason)
		res.Fix = "deliver needs kms:VerifyMac on the probe key (apply again) and, in a VPC, a way to KMS (a NAT gateway, or an interface endpoint for com.amazonaws." + d.Config.Region + ".kms)" + parked
	}
	return []Result{res, reach}
}

// post makes route's probe and posts it to the route's public URL as the
// provider would post a webhook: every header the route maps, signed with
// the route's scheme. A non-nil Result is the failure that ends the probe.
func post(ctx context.Context, d Deployment, c Clients, o Options, route config.Route) (sent, *Result) {
	fail := func(detail, fix string) (sent, *Result) {
		return sent{}, &Result{Check: "route " + route.Name + ": probe through the pipeline", Status: Fail, Detail: detail, Fix: fix}
	}
	url := d.IngressURLs[route.Name]
	if url == "" {
		return fail("no ingress URL for the route in the outputs", applyFix(d))
	}
	s := sent{id: randomID(), at: o.Now()}
	p, err := probe.New(ctx, c.MACs, d.ProbeKey, route.Name, s.id, s.at)
	if err != nil {
		return fail(err.Error(), "your credentials need kms:GenerateMac on "+d.ProbeKey+" (the key policy lets the account's IAM policies grant it)")
	}
	tag := "webhookq-probe-" + s.id
	groupPath := ""
	if route.Group.Source == config.GroupBody {
		groupPath = route.Group.Value
	}
	body, err := probe.Body(p, groupPath, tag)
	if err != nil {
		return fail(err.Error(), "group the route by another field")
	}
	// Every header the route's mapping names must be present, or API
	// Gateway refuses the request; a probe carries its own values (its
	// own message group, so it waits behind no one's failures).
	headers := map[string]string{"Content-Type": "application/json", "User-Agent": "webhookq-check"}
	for _, h := range route.Headers {
		headers[h] = tag
	}
	if route.Group.Source == config.GroupHeader {
		headers[route.Group.Value] = tag
	}
	if route.Dedup.Source == config.DedupHeader {
		headers[route.Dedup.Header] = tag
	}
	if v := route.Verify; v != nil && v.Scheme != config.VerifyNone {
		sec, err := c.Secrets.Resolve(ctx, v.Secret)
		if err != nil {
			return fail("cannot read the route's verification secret to sign the probe as its provider does: "+err.Error(),
				"your credentials need to read "+secret.Describe(v.Secret)+" (ssm:GetParameter / secretsmanager:GetSecretValue)")
		}
		sig, err := signature.SignInbound(v.Scheme, []byte(sec), v.Header, s.at, body)
		if err != nil {
			return fail("cannot sign the probe: "+err.Error(), "")
		}
		for k, val := range sig {
			headers[k] = val
		}
	}
	pctx, cancel := context.WithTimeout(ctx, postTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(pctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fail(err.Error(), "")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fail("POST "+url+": "+err.Error(), "check that the URL resolves and answers from here: "+url)
	}
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
	resp.Body.Close()
	s.webhookID = resp.Header.Get("Apigw-Requestid")
	said := fmt.Sprintf("POST %s answered %s", url, resp.Status)
	if text := strings.TrimSpace(string(answer)); text != "" {
		said += ": " + webhook.Bound(strings.Join(strings.Fields(text), " "), 300)
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		return s, nil
	case resp.StatusCode == http.StatusNotFound:
		fix := "the stage does not serve this route: it is not deployed"
		if d.DeployCommand != "" {
			fix = "deploy the stage: " + d.DeployCommand
		} else if !d.Local() {
			fix += fmt.Sprintf(" (aws apigatewayv2 create-deployment --api-id %s --stage-name '%s'), or the ingress URL names the wrong stage (existing_api_stage)", d.APIID, d.Stage)
		}
		return fail(said+": the route is not live", fix)
	case resp.StatusCode == http.StatusTooManyRequests:
		return fail(said, "the route's ingress throttling refused it; run the check again in a minute")
	default:
		return fail(said, "API Gateway did not queue it; the stage's access log says why (see the access-log check)")
	}
}

// awaitAnswer waits for deliver's answer to s in deliver's log group: nil
// when none came within o.Wait.
func awaitAnswer(ctx context.Context, d Deployment, c Clients, o Options, s sent) (*probe.Answer, error) {
	group := "/aws/lambda/" + d.FunctionNames["deliver"]
	deadline := s.at.Add(o.Wait)
	for {
		events, err := logEvents(ctx, c, group, s.id, s.at)
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", group, err)
		}
		for _, msg := range events {
			var line map[string]json.RawMessage
			if json.Unmarshal([]byte(msg), &line) != nil || line[probe.LogKey] == nil {
				continue
			}
			var a probe.Answer
			if json.Unmarshal(line[probe.LogKey], &a) == nil && a.ID == s.id {
				return &a, nil
			}
		}
		if !o.Now().Before(deadline) {
			return nil, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(o.Poll):
		}
	}
}

// logEvents are the messages of group that contain term, since at (less the
// slack).
func logEvents(ctx context.Context, c Clients, group, term string, at time.Time) ([]string, error) {
	var msgs []string
	p := cloudwatchlogs.NewFilterLogEventsPaginator(c.Logs, &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName:  aws.String(group),
		FilterPattern: aws.String(`"` + term + `"`),
		StartTime:     aws.Int64(at.Add(-logSlack).UnixMilli()),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, e := range page.Events {
			msgs = append(msgs, aws.ToString(e.Message))
		}
	}
	return msgs, nil
}

// trace explains a probe deliver never answered, from forward's log.
func trace(ctx context.Context, d Deployment, c Clients, o Options, route config.Route, s sent) (detail, fix string) {
	detail = fmt.Sprintf("no answer from deliver within %s for probe %s", o.Wait, s.id)
	if s.webhookID == "" {
		return detail + " (and ingress gave it no request id to trace)", "look in forward's log group, /aws/lambda/" + d.FunctionNames["forward"]
	}
	lines, err := logEvents(ctx, c, "/aws/lambda/"+d.FunctionNames["forward"], s.webhookID, s.at)
	if err != nil || len(lines) == 0 {
		fix = "forward never logged webhook " + s.webhookID + ": is the event source mapping enabled (above)? Then it waits in the queue"
		if route.Group.Source == config.GroupStatic {
			fix += " behind the other webhooks of group " + route.Group.Value
		}
		return detail, fix + "; run the check again, with --wait longer if the queue is busy"
	}
	var last struct {
		Msg   string `json:"msg"`
		Error string `json:"error"`
		Cause string `json:"cause"`
	}
	_ = json.Unmarshal([]byte(lines[len(lines)-1]), &last)
	said := strings.TrimSpace(strings.Join([]string{last.Msg, last.Error, webhook.Bound(last.Cause, 300)}, " "))
	detail += "; forward's last line on webhook " + s.webhookID + ": " + said
	switch {
	case strings.Contains(last.Msg, "signature"):
		fix = "forward refused the probe's signature: the secret you can read is not the one forward verifies with, or the route's scheme is not the provider's"
	case strings.Contains(last.Msg, "parked"):
		fix = "it failed for good; the line says why"
	default:
		fix = "the line says what failed; forward retries it, so run the check again once that is fixed"
	}
	return detail, fix + fmt.Sprintf("; if it is parked in the DLQ: go run ./cmd/redrive purge --webhook-id %s --yes", s.webhookID)
}

// reachResult turns deliver's reachability answer into a result with what
// to do at the step that failed.
func reachResult(name string, r *probe.Reach) Result {
	res := Result{Check: name}
	if r == nil || len(r.Steps) == 0 {
		res.Status, res.Detail = Fail, "deliver answered without a reachability report"
		return res
	}
	var parts []string
	for _, s := range r.Steps {
		part := fmt.Sprintf("%s %dms", s.Name, s.MS)
		if s.Detail != "" {
			part += " (" + s.Detail + ")"
		}
		if !s.OK {
			part = fmt.Sprintf("%s FAILED after %dms: %s", s.Name, s.MS, s.Error)
		}
		parts = append(parts, part)
	}
	res.Detail = r.Target + ": " + strings.Join(parts, "; ")
	if r.OK {
		res.Status = Pass
		return res
	}
	res.Status = Fail
	host, _, _ := net.SplitHostPort(r.Target)
	switch r.Steps[len(r.Steps)-1].Name {
	case probe.StepDNS:
		res.Fix = "deliver cannot resolve " + host + ": a private name needs deliver in the target's VPC (target.vpc) and the VPC's DNS to answer it (docs/deploy.md#private-targets)"
	case probe.StepTCP:
		res.Fix = "nothing answers on " + r.Target + " from deliver: the target is down, or a security group, network ACL or route table is in the way (deliver's security groups need outbound, the target's inbound from them)"
	case probe.StepTLS:
		res.Fix = "the TLS handshake with " + host + " failed: its certificate must be valid for that name and trusted by a public CA (deliver uses the system's roots)"
	}
	return res
}

func randomID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
