package generate

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/webhookq/webhookq/internal/config"
)

// DefaultExistingStage is the stage of an existing API the printed command
// names: the module's existing_api_stage default.
const DefaultExistingStage = "$default"

// routeSetting is one route's throttle in API Gateway's UpdateStage
// RouteSettings shape.
type routeSetting struct {
	ThrottlingBurstLimit int     `json:"ThrottlingBurstLimit"`
	ThrottlingRateLimit  float64 `json:"ThrottlingRateLimit"`
}

// ExistingStageThrottleCommand is the AWS CLI command that sets every
// route's throttle on the stage of an existing API (ingress.http_api_name),
// which the Terraform module does not own: update-stage with one route
// setting per route key, the API looked up by name as the module looks it
// up. stage is the stage's name (the module's existing_api_stage). Empty
// when webhookq creates the API, whose stage the module throttles itself.
// (aws apigatewayv2 update-stage --route-settings, as AWS's "Throttle
// requests to your HTTP APIs" shows it:
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-throttling.html)
func ExistingStageThrottleCommand(cfg *config.Config, stage string) (string, error) {
	if cfg.Ingress.CreatesAPI() {
		return "", nil
	}
	settings := map[string]routeSetting{}
	for _, r := range cfg.Routes {
		settings["POST "+cfg.IngressPath(r)] = routeSetting{ThrottlingBurstLimit: r.Throttle.Burst, ThrottlingRateLimit: r.Throttle.Rate}
	}
	// encoding/json writes map keys sorted: the command is byte-stable.
	routeSettings, err := json.Marshal(settings)
	if err != nil {
		return "", fmt.Errorf("route settings: %w", err)
	}
	// JMESPath raw string literal: a quote in the name is escaped.
	query := "Items[?Name=='" + strings.ReplaceAll(cfg.Ingress.HTTPAPIName, "'", `\'`) + "'].ApiId"
	quoted := `"` + query + `"` // readable, and safe while nothing in it is special in double quotes
	if strings.ContainsAny(query, "\"$`\\!") {
		quoted = shellQuote(query)
	}
	lookup := "aws apigatewayv2 get-apis --region " + cfg.Region + " --query " + quoted + " --output text"
	return strings.Join([]string{
		"aws apigatewayv2 update-stage --region " + cfg.Region,
		`  --api-id "$(` + lookup + `)"`,
		"  --stage-name " + shellQuote(stage),
		"  --route-settings " + shellQuote(string(routeSettings)),
	}, " \\\n"), nil
}

// shellQuote quotes s for a POSIX shell: in single quotes, each ' written '\”.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// totalRate is the routes' rates added up: what ingress may send the queue a
// second at most.
func totalRate(routes []RouteSummary) float64 {
	var total float64
	for _, r := range routes {
		total += r.Throttle.Rate
	}
	return total
}
