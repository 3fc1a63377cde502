package tfgen

import (
	"fmt"
	"net/url"
	"sort"
	"time"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/lambda/metrics"
	"github.com/webhookq/webhookq/internal/webhook"
)

// alarm is one CloudWatch alarm instance terraform/alarms.tf creates: a
// kind from config.AlarmSpecs, for the service or (Route set) one route.
type alarm struct {
	Description   string `json:"description"`
	Kind          string `json:"kind"`
	Name          string `json:"name"`
	PeriodSeconds int    `json:"period_seconds"`
	Route         string `json:"route"`
	// Threshold is seconds for an age, else a count.
	Threshold int `json:"threshold"`
}

// dashboard is one CloudWatch dashboard terraform/dashboard.tf creates:
// the shared row and a row for each of its routes.
type dashboard struct {
	Name   string   `json:"name"`
	Routes []string `json:"routes"`
	URL    string   `json:"url"`
	// Widgets is how many widgets it holds (the terraform test checks the
	// drawn dashboard against it).
	Widgets int `json:"widgets"`
}

// A dashboard holds at most 500 widgets
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html).
// terraform/dashboard.tf draws dashboardSharedWidgets, then
// dashboardRouteWidgets per route (its terraform test holds it to these
// numbers and every body to the limit), so a service with more routes gets
// more dashboards.
const (
	dashboardMaxWidgets    = 500
	dashboardSharedWidgets = 7
	dashboardRouteWidgets  = 5
	// RoutesPerDashboard is how many routes' rows fit on one dashboard.
	RoutesPerDashboard = (dashboardMaxWidgets - dashboardSharedWidgets) / dashboardRouteWidgets
)

// dashboards splits cfg's routes, in name order, over as many dashboards as
// they need: "<service>", then "<service>-2", "<service>-3", ….
func dashboards(cfg *config.Config) []dashboard {
	names := make([]string, len(cfg.Routes))
	for i, r := range cfg.Routes {
		names[i] = r.Name
	}
	sort.Strings(names)
	var out []dashboard
	for i := 0; i < len(names); i += RoutesPerDashboard {
		name := cfg.Service
		if i > 0 {
			name = fmt.Sprintf("%s-%d", cfg.Service, i/RoutesPerDashboard+1)
		}
		routes := names[i:min(i+RoutesPerDashboard, len(names))]
		out = append(out, dashboard{Name: name, Routes: routes, URL: dashboardURL(cfg.Region, name),
			Widgets: dashboardSharedWidgets + dashboardRouteWidgets*len(routes)})
	}
	return out
}

// metricsTable is what the Lambdas publish (internal/lambda/metrics): the
// dashboard and the alarms name metrics only through it, and the
// terraform test checks the dashboard against it.
type metricsTable struct {
	Classes []string `json:"classes"`
	// Emitted are the metrics forward and deliver publish, by
	// metrics.Metric.Key.
	Emitted   map[string]emittedMetric `json:"emitted"`
	Namespace string                   `json:"namespace"`
	Reasons   []string                 `json:"reasons"`
}

type emittedMetric struct {
	DimensionSets [][]string `json:"dimension_sets"`
	Name          string     `json:"name"`
	Unit          string     `json:"unit"`
}

// ageAlarmPeriod is the period of an age alarm: SQS publishes its queue
// metrics once a minute.
const ageAlarmPeriod = time.Minute

// alarms lists every alarm instance of cfg, keyed "<kind>" or, per route,
// "<kind>/<route>".
func alarms(cfg *config.Config) map[string]alarm {
	out := map[string]alarm{}
	for _, s := range config.AlarmSpecs {
		period := config.AlarmWindow
		if s.Age {
			period = ageAlarmPeriod
		}
		a := alarm{
			Description:   fmt.Sprintf("%s: %s. Threshold %s (routes.yaml alarms.%s). What to do: terraform/README.md, Alarms.", cfg.Service, s.Watches, s.FormatThreshold(cfg.Alarms[s.Alarm]), s.Alarm),
			Kind:          string(s.Alarm),
			PeriodSeconds: config.WholeSeconds(period),
			Threshold:     cfg.Alarms[s.Alarm],
		}
		if !s.PerRoute {
			a.Name = cfg.AlarmName(s.Alarm, "")
			out[string(s.Alarm)] = a
			continue
		}
		for _, r := range cfg.Routes {
			a.Name, a.Route = cfg.AlarmName(s.Alarm, r.Name), r.Name
			out[string(s.Alarm)+"/"+r.Name] = a
		}
	}
	return out
}

// emittedMetrics is metrics.Table's part that forward and deliver publish.
func emittedMetrics(cfg *config.Config) metricsTable {
	t := metricsTable{Emitted: map[string]emittedMetric{}, Namespace: metrics.Namespace(cfg)}
	for _, m := range metrics.Table {
		if m.Source == metrics.SourceTwin {
			continue
		}
		e := emittedMetric{Name: string(m.Name), Unit: string(m.Unit)}
		for _, set := range m.DimensionSets {
			dims := make([]string, len(set))
			for i, d := range set {
				dims[i] = string(d)
			}
			e.DimensionSets = append(e.DimensionSets, dims)
		}
		t.Emitted[m.Key()] = e
	}
	for _, c := range metrics.Classes {
		t.Classes = append(t.Classes, string(c.Class))
	}
	for _, r := range webhook.Reasons {
		t.Reasons = append(t.Reasons, string(r.Reason))
	}
	return t
}

// dashboardURL is the CloudWatch console page of a dashboard (the module's
// dashboard_urls output; cmd/generate prints it).
func dashboardURL(region, name string) string {
	return fmt.Sprintf("https://%s.console.aws.amazon.com/cloudwatch/home?region=%s#dashboards/dashboard/%s",
		region, region, url.PathEscape(name))
}
