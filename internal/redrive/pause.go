package redrive

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// EventSourceMappings is the part of the Lambda API that pauses the forwarder.
type EventSourceMappings interface {
	GetEventSourceMapping(ctx context.Context, in *lambda.GetEventSourceMappingInput, optFns ...func(*lambda.Options)) (*lambda.GetEventSourceMappingOutput, error)
	UpdateEventSourceMapping(ctx context.Context, in *lambda.UpdateEventSourceMappingInput, optFns ...func(*lambda.Options)) (*lambda.UpdateEventSourceMappingOutput, error)
}

// resumeTimeout bounds the wait for a resumed mapping to report Enabled: the
// resume runs detached from ctx (an interrupt must not skip it), so without
// a bound a mapping stuck in another state would hang the tool for good.
const resumeTimeout = 5 * time.Minute

// Paused disables the event source mapping uuid, waits until Lambda reports it
// disabled, runs fn, and enables the mapping again whatever fn returned — so
// redriven messages and new ones of a group do not interleave while fn runs.
// Batches already being processed when the pause starts still finish.
func Paused(ctx context.Context, esm EventSourceMappings, uuid string, poll time.Duration, progress func(string), fn func() error) (err error) {
	if err := update(ctx, esm, uuid, false); err != nil {
		return err
	}
	// From here on the mapping may be disabled: resume it whatever happens
	// next, also when the wait for Disabled fails or is interrupted.
	defer func() {
		// Resume even when ctx was cancelled: a forwarder left paused stops
		// every delivery.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), resumeTimeout)
		defer cancel()
		if rerr := setEnabled(rctx, esm, uuid, true, poll, progress); rerr != nil {
			err = errors.Join(err, fmt.Errorf("%w — resume it by hand: aws lambda update-event-source-mapping --uuid %s --enabled", rerr, uuid))
		}
	}()
	if err := waitFor(ctx, esm, uuid, false, poll, progress); err != nil {
		return err
	}
	return fn()
}

func setEnabled(ctx context.Context, esm EventSourceMappings, uuid string, enabled bool, poll time.Duration, progress func(string)) error {
	if err := update(ctx, esm, uuid, enabled); err != nil {
		return err
	}
	return waitFor(ctx, esm, uuid, enabled, poll, progress)
}

// update asks Lambda to enable or disable the mapping.
func update(ctx context.Context, esm EventSourceMappings, uuid string, enabled bool) error {
	verb := "pause"
	if enabled {
		verb = "resume"
	}
	if _, err := esm.UpdateEventSourceMapping(ctx, &lambda.UpdateEventSourceMappingInput{UUID: aws.String(uuid), Enabled: aws.Bool(enabled)}); err != nil {
		return fmt.Errorf("%s event source mapping %s: %w", verb, uuid, err)
	}
	return nil
}

// waitFor polls the mapping until Lambda reports it Enabled or Disabled.
func waitFor(ctx context.Context, esm EventSourceMappings, uuid string, enabled bool, poll time.Duration, progress func(string)) error {
	want := "Disabled"
	if enabled {
		want = "Enabled"
	}
	for i := 0; ; i++ {
		out, err := esm.GetEventSourceMapping(ctx, &lambda.GetEventSourceMappingInput{UUID: aws.String(uuid)})
		if err != nil {
			return fmt.Errorf("read event source mapping %s: %w", uuid, err)
		}
		state := aws.ToString(out.State)
		if state == want {
			progress(fmt.Sprintf("event source mapping %s: %s", uuid, state))
			return nil
		}
		if i%10 == 0 {
			progress(fmt.Sprintf("event source mapping %s: %s, waiting for %s", uuid, state, want))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
	}
}
