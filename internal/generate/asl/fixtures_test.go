package asl

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/testkit/testenv"
)

// loadRoutesYAML is the repository's example, through the real loader.
func loadRoutesYAML(tb testing.TB) *config.Config {
	tb.Helper()
	cfg, err := config.Load(filepath.Join(testenv.RepoRoot(tb), "config", "routes.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	return cfg
}

// exampleConfig mirrors config/routes.yaml: a route notified on the final
// receive and one, with overrides, notified on every failure.
func exampleConfig() *config.Config {
	all := []config.Outcome{config.OutcomeServerError, config.OutcomeThrottled, config.OutcomeTimeout, config.OutcomeConnection}
	retry := config.Retry{MaxAttempts: 5, Interval: 2 * time.Second, BackoffRate: 2, MaxDelay: 30 * time.Second, Jitter: config.JitterFull, On: all}
	completedRetry := retry
	completedRetry.MaxAttempts, completedRetry.Interval = 4, 5*time.Second
	return &config.Config{
		Path:    "config/routes.yaml",
		Service: "sales-approvals",
		Region:  "ap-northeast-1",
		Queue:   config.Queue{RetryWindow: time.Hour, BatchSize: 10},
		Retry:   retry,
		Notify:  config.Notify{When: config.NotifyFinal},
		Routes: []config.Route{
			{
				Name:    "approval-progress",
				Path:    "/approval-progress",
				Timeout: 10 * time.Second,
				Retry:   retry,
				Notify:  config.Notify{When: config.NotifyFinal},
			},
			{
				Name:    "approval-completed",
				Path:    "/approval-completed",
				Timeout: 20 * time.Second,
				Retry:   completedRetry,
				Notify:  config.Notify{When: config.NotifyEveryFailure},
			},
		},
	}
}

// singleRoute is a one-route config whose route is changed by edit.
func singleRoute(edit func(r *config.Route)) *config.Config {
	c := exampleConfig()
	r := c.Routes[0]
	edit(&r)
	c.Routes = []config.Route{r}
	return c
}

// buildCases is the spread of configurations the generated workflows are
// checked for, by name.
func buildCases(tb testing.TB) map[string]*config.Config {
	return map[string]*config.Config{
		"routes.yaml": loadRoutesYAML(tb),
		"example":     exampleConfig(),
		"no-retry-never-notify": singleRoute(func(r *config.Route) {
			r.Retry.MaxAttempts = 1
			r.Notify.When = config.NotifyNever
		}),
		"no-timeout-retry-no-jitter-no-cap": singleRoute(func(r *config.Route) {
			r.Retry.On = []config.Outcome{config.OutcomeServerError, config.OutcomeConnection}
			r.Retry.Jitter = config.JitterNone
			r.Retry.MaxDelay = 0
			r.Retry.BackoffRate = 1
		}),
		"fractional-timeout-every-failure": singleRoute(func(r *config.Route) {
			r.Timeout = 2500 * time.Millisecond
			r.Retry.MaxAttempts = 2
			r.Retry.BackoffRate = 1.5
			r.Notify.When = config.NotifyEveryFailure
		}),
	}
}
