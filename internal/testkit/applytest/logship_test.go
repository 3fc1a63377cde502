package applytest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/webhookq/webhookq/internal/testkit/lambdarie"
)

// shipInterval is how often the functions' output is shipped.
const shipInterval = 200 * time.Millisecond

// shipLogs plays Lambda's log delivery, which moto does not run: each
// function's output under the emulator — its own lines and the emulator's
// START/END/REPORT — goes to its log group, /aws/lambda/<name>, in a stream
// named as Lambda names them, written with the function's own role (its
// WriteOwnLogs statement allows logs:CreateLogStream and logs:PutLogEvents
// on exactly that group). It ships until stop, which ships what is left.
func shipLogs(t *testing.T, p principals, s *staged, running map[string]*lambdarie.Function) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for name, fn := range running {
		f := s.Locals.Functions[name]
		logs := p.as(t, f.RoleName).logs
		group := "/aws/lambda/" + f.Name
		suffix := make([]byte, 16)
		_, _ = rand.Read(suffix)
		stream := time.Now().UTC().Format("2006/01/02") + "/[$LATEST]" + hex.EncodeToString(suffix)
		if _, err := logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)}); err != nil {
			t.Fatalf("create log stream for %s: %v", name, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			shipped := 0
			ship := func() {
				out := fn.Logs()
				end := strings.LastIndexByte(out, '\n') + 1
				if end <= shipped {
					return
				}
				var events []cwltypes.InputLogEvent
				now := time.Now().UnixMilli()
				for _, line := range strings.Split(out[shipped:end-1], "\n") {
					if line != "" {
						events = append(events, cwltypes.InputLogEvent{Message: aws.String(line), Timestamp: aws.Int64(now)})
					}
				}
				if len(events) > 0 {
					if _, err := logs.PutLogEvents(context.Background(), &cloudwatchlogs.PutLogEventsInput{
						LogGroupName: aws.String(group), LogStreamName: aws.String(stream), LogEvents: events,
					}); err != nil {
						t.Errorf("ship %s's log: %v", name, err)
						return
					}
				}
				shipped = end
			}
			for {
				select {
				case <-ctx.Done():
					ship()
					return
				case <-time.After(shipInterval):
					ship()
				}
			}
		}()
	}
	return func() {
		cancel()
		wg.Wait()
	}
}
