package config

import (
	"fmt"
	"strings"
)

// Places name where a mapping sits in routes.yaml: dotted keys, "[]" for an
// item of a list and ".*" for any value of a free-form map.
var (
	secretRefKeys = []string{"ssm_parameter", "secrets_manager", "env"}
	retryKeys     = []string{"max_attempts", "interval", "backoff_rate", "max_delay", "jitter", "on"}
	functionKeys  = []string{"memory_mb"}
	throttleKeys  = []string{"rate", "burst"}

	// keysAt is the one table of the keys valid at each place: the decoder
	// rejects any other key with "did you mean", and the JSON Schema test
	// checks config/routes.schema.json against it.
	keysAt = withEach(Functions, "functions.", functionKeys, map[string][]string{
		"":                                    {"service", "region", "ingress", "target", "queue", "retry", "notify", "logging", "functions", "alarms", "routes"},
		"ingress":                             {"http_api_name", "base_path", "max_body_bytes", "throttle"},
		"ingress.throttle":                    throttleKeys,
		"target":                              {"base_url", "timeout", "headers", "secret_headers", "signing_secret", "vpc"},
		"target.vpc":                          {"subnet_ids", "security_group_ids"},
		"target.secret_headers.*":             secretRefKeys,
		"target.signing_secret":               secretRefKeys,
		"queue":                               {"retry_window", "retention", "dlq_retention", "batch_size", "max_concurrency", "high_throughput", "redelivery_delay", "max_redelivery_delay"},
		"retry":                               retryKeys,
		"notify":                              {"when", "sns_topic_arn", "slack_webhook_url"},
		"notify.slack_webhook_url":            secretRefKeys,
		"logging":                             {"level", "include_execution_data", "retention_days"},
		"functions":                           Functions,
		"alarms":                              alarmKeys(),
		"routes[]":                            {"name", "path", "group", "target_path", "target_url", "dedup", "headers", "verify", "overrides"},
		"routes[].verify":                     {"scheme", "header", "secret", "tolerance", "reason"},
		"routes[].verify.secret":              secretRefKeys,
		"routes[].overrides":                  {"target", "retry", "notify", "ingress"},
		"routes[].overrides.ingress":          {"throttle"},
		"routes[].overrides.ingress.throttle": throttleKeys,
		"routes[].overrides.target":           {"timeout"},
		"routes[].overrides.retry":            retryKeys,
		"routes[].overrides.notify":           {"when"},
	})
)

// withEach adds the place prefix+name with keys for every name: one place
// per function under functions.
func withEach(names []string, prefix string, keys []string, places map[string][]string) map[string][]string {
	for _, n := range names {
		places[prefix+n] = keys
	}
	return places
}

// retiredKeys are keys earlier versions accepted, by place, with what to do
// instead: the decoder reports them with this message rather than as typos.
var retiredKeys = map[string]map[string]string{
	"queue": {
		"max_receive_count": "max_receive_count is gone: the forwarder now retries a webhook for queue.retry_window after it was queued (default 1h), and derives SQS's maxReceiveCount from that as a backstop (docs/config.md, queue); remove max_receive_count, and set retry_window if the default does not suit",
	},
}

// unknownKeyMessage says what to do about a key that is not valid here.
func unknownKeyMessage(key string, valid []string) string {
	if s, ok := suggest(key, valid); ok {
		return fmt.Sprintf("unknown key %q; did you mean %q?", key, s)
	}
	return fmt.Sprintf("unknown key %q; remove it or use one of: %s", key, strings.Join(valid, ", "))
}

// suggest returns the candidate closest to word when it is close enough to be
// a typo: at most a third of the word's length (and at least 1) edits away.
func suggest(word string, candidates []string) (string, bool) {
	// No candidate is longer than 32 characters, so a longer word is more
	// than a third of its length away from all of them.
	if len(word) > 64 {
		return "", false
	}
	best, bestDist := "", -1
	lw := strings.ToLower(word)
	for _, c := range candidates {
		d := editDistance(lw, strings.ToLower(c))
		if bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	return best, bestDist >= 0 && bestDist <= max(1, len([]rune(word))/3)
}

// editDistance is the optimal-string-alignment distance between a and b, by
// runes: Levenshtein plus adjacent transpositions, the commonest typo.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	rows := make([][]int, len(ra)+1)
	for i := range rows {
		rows[i] = make([]int, len(rb)+1)
		rows[i][0] = i
	}
	for j := range rows[0] {
		rows[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			rows[i][j] = min(rows[i-1][j]+1, rows[i][j-1]+1, rows[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				rows[i][j] = min(rows[i][j], rows[i-2][j-2]+1)
			}
		}
	}
	return rows[len(ra)][len(rb)]
}
