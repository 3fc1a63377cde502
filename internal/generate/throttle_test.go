package generate

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/webhookq/webhookq/internal/config"
)

// fakeAPIGateway answers the two calls of the printed command as API
// Gateway's v2 API would: GetApis lists one API, UpdateStage records what it
// was asked to set.
type fakeAPIGateway struct {
	apiName string
	mu      sync.Mutex
	updates []stageUpdate
}

type stageUpdate struct {
	path string
	body map[string]map[string]map[string]float64 // routeSettings → route key → setting
}

const fakeAPIID = "a1b2c3d4e5"

func (f *fakeAPIGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/v2/apis":
		_ = json.NewEncoder(w).Encode(map[string]any{"items": []map[string]any{
			{"apiId": "zzzzzzzzzz", "name": "another-api", "protocolType": "HTTP", "routeSelectionExpression": "$request.method $request.path"},
			{"apiId": fakeAPIID, "name": f.apiName, "protocolType": "HTTP", "routeSelectionExpression": "$request.method $request.path"},
		}})
	case r.Method == http.MethodPatch && strings.HasPrefix(r.URL.Path, "/v2/apis/"):
		raw, _ := io.ReadAll(r.Body)
		var body map[string]map[string]map[string]float64
		if err := json.Unmarshal(raw, &body); err != nil {
			http.Error(w, `{"message":"bad body"}`, http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.updates = append(f.updates, stageUpdate{path: r.URL.EscapedPath(), body: body})
		f.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{"stageName": "$default"})
	default:
		http.Error(w, `{"message":"unexpected call"}`, http.StatusNotFound)
	}
}

// The command the summary prints for an existing API runs as printed, with
// the real AWS CLI, and asks API Gateway to set each route's rate and burst
// on the stage of the API the name finds — also for a name a shell or
// JMESPath would misread.
func TestExistingStageThrottleCommandRunsWithTheAWSCLI(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("aws"); err != nil {
		t.Fatal("the AWS CLI is not on PATH; run scripts/setup")
	}
	for _, apiName := range []string{"sales-support-api", `it's "$HOME" and \ too`} {
		t.Run(apiName, func(t *testing.T) {
			t.Parallel()
			cfg := loadCase(t, "example")
			cfg.Ingress.HTTPAPIName = apiName
			cfg.Routes[1].Throttle = config.Throttle{Rate: 2.5, Burst: 7}
			cmd, err := ExistingStageThrottleCommand(cfg, DefaultExistingStage)
			if err != nil {
				t.Fatal(err)
			}
			fake := &fakeAPIGateway{apiName: apiName}
			srv := httptest.NewServer(fake)
			defer srv.Close()

			sh := exec.Command("sh", "-c", cmd)
			sh.Env = append(os.Environ(),
				"AWS_ENDPOINT_URL="+srv.URL,
				"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing",
				"AWS_CONFIG_FILE="+os.DevNull, "AWS_SHARED_CREDENTIALS_FILE="+os.DevNull,
				"AWS_EC2_METADATA_DISABLED=true")
			if out, err := sh.CombinedOutput(); err != nil {
				t.Fatalf("%v\n%s\ncommand:\n%s", err, out, cmd)
			}
			if len(fake.updates) != 1 {
				t.Fatalf("%d UpdateStage calls, want 1", len(fake.updates))
			}
			u := fake.updates[0]
			if want := "/v2/apis/" + fakeAPIID + "/stages/%24default"; u.path != want {
				t.Errorf("UpdateStage on %s, want %s", u.path, want)
			}
			got := u.body["routeSettings"]
			if len(got) != len(cfg.Routes) {
				t.Errorf("route settings %v, want one per route", got)
			}
			for _, r := range cfg.Routes {
				s := got["POST "+cfg.IngressPath(r)]
				if s["throttlingRateLimit"] != r.Throttle.Rate || s["throttlingBurstLimit"] != float64(r.Throttle.Burst) {
					t.Errorf("route %s: sent %v, want rate %v burst %d", r.Name, s, r.Throttle.Rate, r.Throttle.Burst)
				}
			}
		})
	}
}

// On an API webhookq creates, the module throttles the stage: nothing to print.
func TestCreatedAPINeedsNoThrottleCommand(t *testing.T) {
	t.Parallel()
	cmd, err := ExistingStageThrottleCommand(loadCase(t, "minimal"), DefaultExistingStage)
	if err != nil || cmd != "" {
		t.Errorf("command %q, %v; want none for a created API", cmd, err)
	}
}
