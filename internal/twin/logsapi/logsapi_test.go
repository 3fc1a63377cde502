package logsapi

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/webhookq/webhookq/internal/testkit/testenv"
)

// TestFilterLogEventsWithTheSDK: the real SDK client reads what was written,
// line by line, filtered by terms and quoted phrases, across pages; an
// unsupported pattern is refused, an unknown group is not found.
func TestFilterLogEventsWithTheSDK(t *testing.T) {
	t.Parallel()
	store := NewStore("ap-northeast-1", "000000000000")
	w := store.Writer("/aws/lambda/svc-deliver", "local/[$LATEST]svc-deliver")
	for i := range 25 {
		fmt.Fprintf(w, `{"msg":"delivered","webhookId":"wh-%d","route":"orders"}`+"\n", i)
	}
	fmt.Fprint(w, `{"msg":"probe answered; nothing delivered","probeAnswer":{"id":"p-1"}}`+"\n"+`{"msg":"half a line`)
	srv := httptest.NewServer(store)
	defer srv.Close()
	logs := cloudwatchlogs.NewFromConfig(testenv.AWSConfig(srv.URL, "ap-northeast-1"))
	ctx := context.Background()

	count := func(pattern string) (int, error) {
		n := 0
		p := cloudwatchlogs.NewFilterLogEventsPaginator(logs, &cloudwatchlogs.FilterLogEventsInput{
			LogGroupName: aws.String("/aws/lambda/svc-deliver"), FilterPattern: aws.String(pattern), Limit: aws.Int32(10),
		})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return n, err
			}
			n += len(page.Events)
		}
		return n, nil
	}
	for pattern, want := range map[string]int{"": 26, `"p-1"`: 1, `delivered orders`: 25, `"wh-1"`: 1 + 10, "nothing-matches": 0} {
		if got, err := count(pattern); err != nil || got != want {
			t.Errorf("pattern %q: %d events (%v), want %d", pattern, got, err, want)
		}
	}
	if _, err := count(`{ $.route = "orders" }`); err == nil || !strings.Contains(err.Error(), "InvalidParameterException") {
		t.Errorf("a JSON pattern: %v, want InvalidParameterException", err)
	}
	if _, err := logs.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/aws/lambda/none")}); err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Errorf("an unknown group: %v", err)
	}
	groups, err := logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/aws/lambda/")})
	if err != nil || len(groups.LogGroups) != 1 || aws.ToString(groups.LogGroups[0].LogGroupName) != "/aws/lambda/svc-deliver" {
		t.Errorf("DescribeLogGroups: %+v, %v", groups, err)
	}
}
