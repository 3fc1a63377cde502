package generate

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/generate/tfgen"
)

// Monitoring is what cmd/generate says about the dashboard and the alarms
// the Terraform module creates, read back from the generated locals so it
// names exactly what Terraform deploys.
type Monitoring struct {
	// DashboardURLs are the dashboards' console pages (more than one when
	// the routes need more than one dashboard holds).
	DashboardURLs []string
	Alarms        []AlarmSummary
	// Topic is the SNS topic every alarm notifies; empty, they notify no one.
	Topic string
}

// AlarmSummary is one alarm: its routes.yaml key ("execution_failures" for
// every route's), CloudWatch name and threshold as routes.yaml writes it.
type AlarmSummary struct {
	Key, Name, Threshold string
}

// Monitor reads cfg's dashboard and alarms from its generated locals.
func Monitor(cfg *config.Config) (Monitoring, error) {
	locals, err := tfgen.Locals(cfg, workflowRefs(cfg))
	if err != nil {
		return Monitoring{}, err
	}
	var doc struct {
		Locals struct {
			Webhookq struct {
				Alarms map[string]struct {
					Kind      string `json:"kind"`
					Name      string `json:"name"`
					Threshold int    `json:"threshold"`
				} `json:"alarms"`
				Dashboards []struct {
					URL string `json:"url"`
				} `json:"dashboards"`
			} `json:"webhookq"`
		} `json:"locals"`
	}
	if err := json.Unmarshal(locals, &doc); err != nil {
		return Monitoring{}, fmt.Errorf("read generated locals: %w", err)
	}
	m := Monitoring{Topic: cfg.Notify.SNSTopicARN}
	for _, d := range doc.Locals.Webhookq.Dashboards {
		m.DashboardURLs = append(m.DashboardURLs, d.URL)
	}
	for _, key := range slices.Sorted(maps.Keys(doc.Locals.Webhookq.Alarms)) {
		a := doc.Locals.Webhookq.Alarms[key]
		i := slices.IndexFunc(config.AlarmSpecs, func(s config.AlarmSpec) bool { return string(s.Alarm) == a.Kind })
		if i < 0 {
			return Monitoring{}, fmt.Errorf("generated locals: alarm %s of unknown kind %q", key, a.Kind)
		}
		m.Alarms = append(m.Alarms, AlarmSummary{Key: a.Kind, Name: a.Name, Threshold: config.AlarmSpecs[i].FormatThreshold(a.Threshold)})
	}
	return m, nil
}

// Warning is what cmd/generate warns about the alarms, or "": without an
// SNS topic they fire into the void.
func (m Monitoring) Warning() string {
	if m.Topic != "" {
		return ""
	}
	return fmt.Sprintf("notify.sns_topic_arn is not set, so the %d alarms (terraform/alarms.tf) notify no one; set it to hear when the backlog ages, webhooks are parked or signatures are rejected", len(m.Alarms))
}

// WriteText renders the monitoring section of the summary.
func (m Monitoring) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, u := range m.DashboardURLs {
		fmt.Fprintf(&b, "\nDashboard (the dashboard_urls output): %s", u)
	}
	b.WriteString("\n")
	to := "notify " + m.Topic
	if m.Topic == "" {
		to = "notify no one: set notify.sns_topic_arn"
	}
	fmt.Fprintf(&b, "Alarms (%s; what to do: terraform/README.md)\n", to)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, a := range m.Alarms {
		fmt.Fprintf(tw, "  %s\t%s\tat %s\n", a.Name, a.Key, a.Threshold)
	}
	tw.Flush()
	_, err := io.WriteString(w, b.String())
	return err
}
