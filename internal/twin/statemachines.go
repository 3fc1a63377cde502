package twin

import (
	"context"
	"fmt"
	"time"

	"github.com/webhookq/webhookq/internal/generate/asl"
	"github.com/webhookq/webhookq/internal/twin/sfnapi"
	"github.com/webhookq/webhookq/internal/twin/statemachine"
)

// buildStateMachines registers each route's workflow, rendered with the
// local function ARNs, with a runner that invokes fns; scale shortens its
// waits.
func (t *Twin) buildStateMachines(workflows []statemachine.Workflow, fns *functions, scale float64) (*statemachine.Runner, *sfnapi.Server, error) {
	cfg := t.cfg
	runner := &statemachine.Runner{
		Invoker: fns,
		Clock:   scaledClock{scale: scale},
		History: t.asyncHistory,
		Region:  cfg.Region,
		Account: Account,
	}
	states := sfnapi.New(runner)
	vars := map[string]string{asl.DeliverFunctionARNVar: fns.deliverARN, asl.NotifyFunctionARNVar: fns.notifyARN}
	for _, w := range workflows {
		route, ok := cfg.Route(w.Route)
		if !ok {
			return nil, nil, fmt.Errorf("%s: no route %s in %s", w.File, w.Route, cfg.Path)
		}
		m, err := statemachine.Render(cfg.StateMachineName(route), w.Bytes, vars)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", w.File, err)
		}
		if _, err := states.Register(m); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", w.File, err)
		}
	}
	return runner, states, nil
}

func scaleDuration(d time.Duration, scale float64) time.Duration {
	return time.Duration(float64(d) / scale)
}

// scaledClock sleeps (retry backoff, Wait states) scale times shorter;
// timeouts run on the wall clock.
type scaledClock struct {
	statemachine.SystemClock
	scale float64
}

func (c scaledClock) Sleep(ctx context.Context, d time.Duration) error {
	return c.SystemClock.Sleep(ctx, scaleDuration(d, c.scale))
}
