package twin_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/webhookq/webhookq/internal/testkit/testenv"
	"github.com/webhookq/webhookq/internal/twin"
	"github.com/webhookq/webhookq/internal/webhook"
)

// loadTarget answers by the webhook's X-Event-Type: ok 200, fail 500 (retried
// until parked as exhausted), bad 400 (parked at once as permanent), slow:
// held until release is closed, then 200. It counts its answers.
type loadTarget struct {
	release chan struct{}
	mu      sync.Mutex
	answers map[int]int
	held    int
	okIDs   map[string]bool
}

func (l *loadTarget) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	status := http.StatusOK
	switch r.Header.Get("X-Event-Type") {
	case "fail":
		status = http.StatusInternalServerError
	case "bad":
		status = http.StatusBadRequest
	case "slow":
		l.mu.Lock()
		l.held++
		l.mu.Unlock()
		select {
		case <-l.release:
		case <-r.Context().Done():
		}
		l.mu.Lock()
		l.held--
		l.mu.Unlock()
	}
	l.mu.Lock()
	l.answers[status]++
	if status == http.StatusOK {
		l.okIDs[r.Header.Get(webhook.HeaderWebhookID)] = true
	}
	l.mu.Unlock()
	w.WriteHeader(status)
}

func (l *loadTarget) count(status int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.answers[status]
}

func (l *loadTarget) holding() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held
}

func (l *loadTarget) delivered() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.okIDs)
}

// scrape reads /metrics with Prometheus's own text-format parser and
// returns each sample's value by "name{label=value,...}" (labels sorted as
// the exposition lists them) and each family.
func scrape(t *testing.T, controlURL string) (map[string]float64, map[string]*dto.MetricFamily) {
	t.Helper()
	resp, err := http.Get(controlURL + "/metrics")
	must(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("/metrics: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics is not Prometheus text format: %v\n%s", err, body)
	}
	values := map[string]float64{}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			key := name + "{" + strings.Join(labels, ",") + "}"
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				values[key] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				values[key] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				values[key] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return values, families
}

// TestOverviewUnderLoad drives the twin's overview in headless Chromium while
// webhooks flow and some fail: the charts draw non-zero series, executions
// held by a slow target show as RUNNING (on the overview, in the executions
// list and on their own page), and a screenshot is saved as a test artifact.
// /metrics, read by Prometheus's parser, counts exactly what the target
// answered.
func TestOverviewUnderLoad(t *testing.T) {
	target := &loadTarget{release: make(chan struct{}), answers: map[int]int{}, okIDs: map[string]bool{}}
	srv := httptest.NewServer(target)
	defer srv.Close()
	released := false
	defer func() {
		if !released {
			close(target.release)
		}
	}()
	// A slow attempt may take up to 20 s, so it stays RUNNING while the
	// browser looks.
	yaml := strings.Replace(fmt.Sprintf(pipelineConfig, srv.URL, 10), "  timeout: 2s\n", "  timeout: 20s\n", 1)
	cfg, workflows := writeProject(t, yaml)
	tw := startTwin(t, twin.Options{Config: cfg, WorkflowsDir: workflows, TimeScale: 50})
	client := &http.Client{Timeout: 10 * time.Second}

	send := func(route, event string, n int) {
		t.Helper()
		for i := range n {
			headers := map[string]string{"X-Event-Type": event, "X-Group": fmt.Sprintf("%s-%d", event, i)}
			body := fmt.Appendf(nil, `{"account":{"id":"%s-%d"},"n":%d}`, event, i, i)
			if _, status, err := post(client, tw.IngressURL+"/hooks/"+route, headers, body); err != nil || status != http.StatusOK {
				t.Fatalf("post %s %s: %d %v", route, event, status, err)
			}
		}
	}
	send("orders", "ok", 12)
	send("accounts", "ok", 8)
	send("orders", "fail", 2)
	send("accounts", "bad", 3)
	send("orders", "slow", 2)
	waitFor(t, 90*time.Second, "the ok webhooks delivered, the failing ones parked and the slow ones held", func() bool {
		parked := 0
		if st, err := tw.Store().Stats(cfg.DLQName()); err == nil {
			parked = st.Visible
		}
		return target.delivered() == 20 && parked == 5 && target.holding() == 2
	})

	wd := startBrowser(t)
	wd.call(http.MethodPost, "/session/"+wd.session+"/window/rect", map[string]int{"width": 1280, "height": 1600}, nil)
	wd.open(tw.ControlURL + "/overview")
	for _, route := range []string{"orders", "accounts"} {
		for _, s := range []string{"delivered", "failed attempts", "parked"} {
			css := `svg#flow-` + route + ` polyline[data-series="` + s + `"]`
			total, err := strconv.ParseFloat(wd.attribute(css, "data-total"), 64)
			must(t, err)
			if total <= 0 {
				t.Errorf("%s: the %s series is all zero", route, s)
			}
		}
		if w, h := wd.rect(`svg#flow-` + route); w < 200 || h < 100 {
			t.Errorf("%s: the chart is drawn %gx%g", route, w, h)
		}
		if got := wd.text(`#route-` + route + ` strong.delivered`); got == "0" {
			t.Errorf("%s: the overview shows nothing delivered", route)
		}
	}
	if got := wd.text(`#route-orders strong.running`); got != "2" {
		t.Errorf("orders: running %q, want 2 (held by the slow target)", got)
	}
	if n := len(wd.find(`#running tr.execution[data-status="RUNNING"]`)); n != 2 {
		t.Errorf("the overview lists %d running executions, want 2", n)
	}
	if got := wd.text(`#route-accounts`); !strings.Contains(got, "4xx: 3") || !strings.Contains(got, "permanent: 3") {
		t.Errorf("accounts: the totals do not show 4xx: 3 and permanent: 3: %q", got)
	}
	path := testenv.WriteArtifact(t, "twin-overview.png", wd.screenshot())
	t.Logf("screenshot of the overview under load: %s", path)

	wd.open(tw.ControlURL + "/?status=RUNNING")
	if n := len(wd.find(`tr.execution[data-status="RUNNING"]`)); n != 2 {
		t.Errorf("the executions list shows %d running, want 2", n)
	}
	wd.click(`tr.execution[data-status="RUNNING"] a`)
	if got := wd.text("#status"); got != "RUNNING" {
		t.Errorf("a running execution's page says %q", got)
	}

	values, _ := scrape(t, tw.ControlURL)
	if got := values[`webhookq_running_executions{route=orders}`]; got != 2 {
		t.Errorf("/metrics: running executions of orders %v, want 2", got)
	}

	close(target.release)
	released = true
	waitFor(t, 60*time.Second, "the slow webhooks delivered", func() bool { return target.delivered() == 22 })
	waitFor(t, 10*time.Second, "nothing running", func() bool {
		v, _ := scrape(t, tw.ControlURL)
		return v[`webhookq_running_executions{route=orders}`] == 0
	})
	values, families := scrape(t, tw.ControlURL)
	for key, want := range map[string]float64{
		`webhookq_delivered_total{route=orders}`:                     14,
		`webhookq_delivered_total{route=accounts}`:                   8,
		`webhookq_failed_attempts_total{route=orders,class=5xx}`:     float64(target.count(http.StatusInternalServerError)),
		`webhookq_failed_attempts_total{route=accounts,class=4xx}`:   float64(target.count(http.StatusBadRequest)),
		`webhookq_parked_total{route=orders,reason=exhausted}`:       2,
		`webhookq_parked_total{route=accounts,reason=permanent}`:     3,
		`webhookq_dlq_depth{route=orders}`:                           2,
		`webhookq_dlq_depth{route=accounts}`:                         3,
		`webhookq_backlog{route=orders}`:                             0,
		`webhookq_delivery_latency_milliseconds{route=orders}`:       14,
		`webhookq_target_response_time_milliseconds{route=accounts}`: float64(8 + target.count(http.StatusBadRequest)),
	} {
		if got, ok := values[key]; !ok || got != want {
			t.Errorf("/metrics %s = %v (present %v), want %v", key, got, ok, want)
		}
	}
	if target.count(http.StatusInternalServerError) == 0 {
		t.Error("the failing webhooks never reached the target")
	}
	if f := families["webhookq_delivery_latency_milliseconds"]; f.GetType() != dto.MetricType_HISTOGRAM {
		t.Errorf("delivery latency is a %v, want a histogram", f.GetType())
	}
}
