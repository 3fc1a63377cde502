package sqsconformance

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/webhookq/webhookq/internal/testkit/testenv"
	"github.com/webhookq/webhookq/internal/twin/fifo"
	"github.com/webhookq/webhookq/internal/twin/sqsapi"
)

const region = "us-east-1"

// TestConformance runs every scenario against the twin's SQS endpoint (over
// a temporary store) and against moto, and compares both with AWS's
// documented behaviour.
func TestConformance(t *testing.T) {
	store, err := fifo.Open(filepath.Join(t.TempDir(), "queues.db"), fifo.Options{Region: region})
	if err != nil {
		t.Fatal(err)
	}
	twin := httptest.NewServer(sqsapi.New(store, ""))
	t.Cleanup(func() {
		twin.Close()
		store.Close()
	})
	endpoints := map[string]string{"twin": twin.URL, "moto": testenv.Moto(t)}

	for _, sc := range Scenarios() {
		// Scenarios run one after another: moto's SQS backend is not safe
		// for concurrent requests (it answered 500 under parallel scenarios).
		t.Run(sc.Name, func(t *testing.T) {
			var mu sync.Mutex
			var wg sync.WaitGroup
			got := map[string][]string{}
			for name, endpoint := range endpoints {
				client := sqs.NewFromConfig(testenv.AWSConfig(endpoint, region))
				wg.Go(func() {
					tr := sc.Run(context.Background(), &Env{Client: client, Prefix: sc.Name + "-"})
					mu.Lock()
					got[name] = tr
					mu.Unlock()
				})
			}
			wg.Wait()
			if diff := compare(sc.Want, got["twin"]); diff != "" {
				t.Errorf("twin differs from AWS's documented behaviour (%s):\n%s", sc.AWS, diff)
			}
			switch {
			case sc.Moto == nil:
				if diff := compare(sc.Want, got["moto"]); diff != "" {
					t.Errorf("moto differs from AWS's documented behaviour and no difference is declared (%s):\n%s", sc.AWS, diff)
				}
			case compare(sc.Want, got["moto"]) == "":
				t.Errorf("moto now behaves like AWS; remove the declared difference %q", sc.Moto.Reason)
			default:
				if diff := compare(sc.Moto.Transcript, got["moto"]); diff != "" {
					t.Errorf("moto differs from its declared difference (%s):\n%s", sc.Moto.Reason, diff)
				}
				t.Logf("known moto difference: %s", sc.Moto.Reason)
			}
		})
	}
}

func compare(want, got []string) string {
	if strings.Join(want, "\n") == strings.Join(got, "\n") {
		return ""
	}
	var b strings.Builder
	for i := 0; i < max(len(want), len(got)); i++ {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		mark := " "
		if w != g {
			mark = "!"
		}
		fmt.Fprintf(&b, "%s want %q\n  got  %q\n", mark, w, g)
	}
	return b.String()
}
