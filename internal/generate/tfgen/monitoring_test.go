package tfgen

import (
	"fmt"
	"testing"

	"github.com/webhookq/webhookq/internal/config"
)

// A service whose routes' rows do not fit one dashboard's 500 widgets gets
// more dashboards, each within the limit, every route on exactly one.
func TestDashboardsSplitAtTheWidgetLimit(t *testing.T) {
	cfg := &config.Config{Service: "big", Region: "eu-west-1"}
	for i := range RoutesPerDashboard + 2 {
		cfg.Routes = append(cfg.Routes, config.Route{Name: fmt.Sprintf("r%03d", i)})
	}
	ds := dashboards(cfg)
	if len(ds) != 2 || ds[0].Name != "big" || ds[1].Name != "big-2" {
		t.Fatalf("dashboards %+v", ds)
	}
	seen := map[string]int{}
	for _, d := range ds {
		if d.Widgets > dashboardMaxWidgets || d.Widgets != dashboardSharedWidgets+dashboardRouteWidgets*len(d.Routes) {
			t.Errorf("%s: %d widgets for %d routes", d.Name, d.Widgets, len(d.Routes))
		}
		if d.URL != "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards/dashboard/"+d.Name {
			t.Errorf("%s: URL %s", d.Name, d.URL)
		}
		for _, r := range d.Routes {
			seen[r]++
		}
	}
	if len(ds[0].Routes) != RoutesPerDashboard || ds[1].Routes[0] != fmt.Sprintf("r%03d", RoutesPerDashboard) {
		t.Errorf("the first dashboard has %d routes, the second starts at %s", len(ds[0].Routes), ds[1].Routes[0])
	}
	for _, r := range cfg.Routes {
		if seen[r.Name] != 1 {
			t.Errorf("route %s is on %d dashboards", r.Name, seen[r.Name])
		}
	}
	cfg.Routes = cfg.Routes[:3]
	if ds := dashboards(cfg); len(ds) != 1 || ds[0].Widgets != dashboardSharedWidgets+3*dashboardRouteWidgets {
		t.Errorf("three routes: %+v", ds)
	}
}
