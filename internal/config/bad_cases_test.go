package config

// base is a valid config of 8 lines; cases append to it, so a problem on
// line 9 or later is in the appended text. Indented four spaces, appended
// lines belong to the route.
const base = `service: shop
region: us-east-1
target: {base_url: https://app.example.com}
routes:
  - name: orders
    path: /orders
    group: static:orders
    verify: {scheme: none, reason: the test sender signs nothing}
`

// head is a valid config of 7 lines without a target section; cases that
// need one append it.
const head = `service: shop
region: us-east-1
routes:
  - name: orders
    path: /orders
    group: static:orders
    verify: {scheme: none, reason: the test sender signs nothing}
`

// The explanation a route without verify gets, with deliveries unsigned
// and signed.
const (
	missingVerify = "required: say how this route's webhooks are verified. Its ingress URL is public: anyone who learns it can post to it, " +
		"and webhookq would deliver a forgery like any other webhook, and the app could not tell it apart. " +
		"Add verify: {scheme: SCHEME, secret: {…}} with SCHEME one of github, stripe, slack or hmac (docs/config.md), " +
		"or, when the sender signs nothing, verify: {scheme: none, reason: \"why\"}"
	missingVerifySigned = "required: say how this route's webhooks are verified. Its ingress URL is public: anyone who learns it can post to it, " +
		"and webhookq would deliver a forgery signed with target.signing_secret, so the app would receive it carrying a valid signature. " +
		"Add verify: {scheme: SCHEME, secret: {…}} with SCHEME one of github, stripe, slack or hmac (docs/config.md), " +
		"or, when the sender signs nothing, verify: {scheme: none, reason: \"why\"}"
)

// badCase is a config and every diagnostic it must produce, whole lines.
type badCase struct {
	name string
	yaml string
	want []string
}

var badCases = []badCase{
	{"yaml syntax", "service: [shop\nregion: x\n", []string{
		"bad.yaml:1:1: YAML syntax: did not find expected ',' or ']'; fix the indentation or quoting there",
	}},
	{"empty file", "", []string{
		"bad.yaml:1:1: the file is empty; start from config/routes.yaml",
	}},
	{"comments only", "# nothing\n", []string{
		"bad.yaml:1:1: the file is empty; start from config/routes.yaml",
	}},
	{"not a mapping", "- service\n", []string{
		"bad.yaml:1:1: the file must be a mapping (service: …, region: …, routes: …); start from config/routes.yaml",
	}},
	{"two documents", base + "---\nservice: other\n", []string{
		"bad.yaml:9:1: a second YAML document (after ---); keep one document per file",
	}},
	{"unknown top-level key with suggestion", base + "retyr:\n  max_attempts: 2\n", []string{
		"bad.yaml:9:1: retyr: unknown key \"retyr\"; did you mean \"retry\"?",
	}},
	{"unknown nested key with suggestion", base + "retry:\n  max_attemps: 2\n", []string{
		"bad.yaml:10:3: retry.max_attemps: unknown key \"max_attemps\"; did you mean \"max_attempts\"?",
	}},
	{"unknown route key with suggestion", base + "    targt_path: /x\n", []string{
		"bad.yaml:9:5: routes[0].targt_path: unknown key \"targt_path\"; did you mean \"target_path\"?",
	}},
	{"unknown key without suggestion", base + "colour: blue\n", []string{
		"bad.yaml:9:1: colour: unknown key \"colour\"; remove it or use one of: service, region, ingress, target, queue, retry, notify, logging, functions, alarms, routes",
	}},
	{"function memory out of Lambda's range, a typo and a string", base + "functions:\n  forward:\n    memory_mb: 64\n  deliver:\n    memory_mb: 10241\n  notfy:\n    memory_mb: 128\n  notify:\n    memory_mb: \"128\"\n", []string{
		"bad.yaml:11:16: functions.forward.memory_mb: memory_mb is 64; it must be between 128 and 10240 (Lambda memory in MB; it also sets the function's CPU share, one vCPU at 1769)",
		"bad.yaml:13:16: functions.deliver.memory_mb: memory_mb is 10241; it must be between 128 and 10240 (Lambda memory in MB; it also sets the function's CPU share, one vCPU at 1769)",
		"bad.yaml:14:3: functions.notfy: unknown key \"notfy\"; did you mean \"notify\"?",
		"bad.yaml:17:16: functions.notify.memory_mb: must be a whole number, not a string",
	}},
	{"alarm thresholds: a count below 1, a typo, an age below a minute, a string count", base + "alarms:\n  parked: 0\n  dlq_depht: 3\n  backlog_age: 30s\n  deliver_throttles: \"5\"\n", []string{
		"bad.yaml:10:11: alarms.parked: parked is 0; it must be between 1 and 1000000 (a count of events within 5m at which the alarm fires)",
		"bad.yaml:11:3: alarms.dlq_depht: unknown key \"dlq_depht\"; did you mean \"dlq_depth\"?",
		"bad.yaml:12:16: alarms.backlog_age: backlog_age is 30s; it must be between 1m and 14d (SQS publishes the age once a minute)",
		"bad.yaml:13:22: alarms.deliver_throttles: must be a whole number, not a string",
	}},
	{"backlog age not below the retention", base + "queue:\n  retention: 1h\nalarms:\n  backlog_age: 1h\n", []string{
		"bad.yaml:10:14: queue.retention: a webhook can wait up to 1h45m before it is delivered or parked (retry_window 1h + max_redelivery_delay 15m + 30m for the final executions of a batch), longer than retention 1h: SQS would delete it unannounced; shorten retry_window or raise retention",
		"bad.yaml:12:16: alarms.backlog_age: backlog_age (1h) is not below queue.retention (1h): a webhook that old has expired, so the alarm would fire only after the loss; lower it",
	}},
	{"a retention the default backlog age does not fit below", base + "queue:\n  retention: 5m\n", []string{
		"bad.yaml:10:14: queue.retention: a webhook can wait up to 1h45m before it is delivered or parked (retry_window 1h + max_redelivery_delay 15m + 30m for the final executions of a batch), longer than retention 5m: SQS would delete it unannounced; shorten retry_window or raise retention",
		"bad.yaml:10:14: queue.retention: queue.retention (5m) is not above alarms.backlog_age's default (10m), so that alarm would fire only after webhooks expired; set alarms.backlog_age below 5m",
	}},
	{"unknown key in a function", base + "functions:\n  deliver:\n    memory: 512\n", []string{
		"bad.yaml:11:5: functions.deliver.memory: unknown key \"memory\"; remove it or use one of: memory_mb",
	}},
	{"unknown secret ref key", head + "target:\n  base_url: https://app.example.com\n  signing_secret:\n    ssm_paramter: /x\n", []string{
		"bad.yaml:11:5: target.signing_secret.ssm_paramter: unknown key \"ssm_paramter\"; did you mean \"ssm_parameter\"?",
	}},
	{"merge key", base + "retry: &r {max_attempts: 2}\nnotify:\n  <<: *r\n", []string{
		"bad.yaml:11:3: notify: YAML merge keys (<<) are not supported; write the keys out (a whole value can still be an alias: key: *anchor)",
	}},
	{"duplicate key", base + "region: eu-west-1\n", []string{
		"bad.yaml:9:1: region: duplicate key \"region\" (first on line 2); keep one",
	}},
	{"wrong scalar types", base + "queue:\n  batch_size: ten\n  high_throughput: \"yes\"\nretry:\n  backoff_rate: fast\n", []string{
		"bad.yaml:10:15: queue.batch_size: must be a whole number, not a string",
		"bad.yaml:11:20: queue.high_throughput: must be true or false, not a string",
		"bad.yaml:13:17: retry.backoff_rate: must be a number, not a string",
	}},
	{"number where a string belongs", "service: 123\nregion: us-east-1\ntarget:\n  base_url: https://app.example.com\nroutes:\n  - name: orders\n    verify: {scheme: none, reason: r}\n    path: /orders\n    group: static:orders\n", []string{
		"bad.yaml:1:10: service: must be a string, not a number; quote it: \"123\"",
	}},
	{"mapping where a list belongs", "service: shop\nregion: us-east-1\ntarget:\n  base_url: https://app.example.com\nroutes:\n  name: orders\n", []string{
		"bad.yaml:6:3: routes: must be a list of routes (mappings with name, path, group), not a mapping",
	}},
	{"list where a mapping belongs", base + "queue: [1, 2]\n", []string{
		"bad.yaml:9:8: queue: must be a mapping of keys to values, not a list",
	}},
	{"route item not a mapping", base + "  - orders\n", []string{
		"bad.yaml:9:5: routes[1]: must be a mapping (name, path, group, …), not a string",
	}},
	{"missing required top-level fields", "target:\n  base_url: https://app.example.com\n", []string{
		"bad.yaml:1:1: region: required; set the AWS region to deploy to, e.g. region: ap-northeast-1",
		"bad.yaml:1:1: routes: required; add at least one route (name, path, group); see config/routes.yaml",
		"bad.yaml:1:1: service: required; name the deployment, e.g. service: sales-approvals (it prefixes every AWS resource name)",
	}},
	{"missing required route fields", "service: shop\nregion: us-east-1\ntarget:\n  base_url: https://app.example.com\nroutes:\n  - target_path: /x\n", []string{
		"bad.yaml:6:5: routes[0].group: required; say how messages are ordered: static:NAME, header:NAME or body:path.to.field",
		"bad.yaml:6:5: routes[0].name: required; give the route a name, e.g. name: approval-progress",
		"bad.yaml:6:5: routes[0].path: required; set the ingress path webhooks are POSTed to, e.g. path: /approval-progress",
		"bad.yaml:6:5: routes[0].verify: " + missingVerify,
	}},
	{"no routes", "service: shop\nregion: us-east-1\ntarget:\n  base_url: https://app.example.com\nroutes: []\n", []string{
		"bad.yaml:5:9: routes: no routes; add at least one route (name, path, group)",
	}},
	{"base_url needed", "service: shop\nregion: us-east-1\nroutes:\n  - name: orders\n    verify: {scheme: none, reason: r}\n    path: /orders\n    group: static:orders\n", []string{
		"bad.yaml:1:1: target.base_url: required unless every route has its own target_url; set the application's URL, e.g. base_url: https://app.example.com",
	}},
	{"duplicates across routes", base + "  - name: orders\n    verify: {scheme: none, reason: r}\n    path: /ORDERS\n    group: static:orders\n", []string{
		"bad.yaml:9:11: routes[1].name: route name \"orders\" is already used on line 5; route names must be unique",
		"bad.yaml:11:11: routes[1].path: ingress path /ORDERS is already used on line 6; give each route its own path",
		"bad.yaml:12:12: routes[1].group: static group \"orders\" is already used on line 7; routes sharing a group hold each other's messages back, so give each route its own",
	}},
	{"bad service name", "service: shop.events\nregion: us-east-1\ntarget:\n  base_url: https://app.example.com\nroutes:\n  - name: orders\n    verify: {scheme: none, reason: r}\n    path: /orders\n    group: static:orders\n", []string{
		"bad.yaml:1:10: service: \"shop.events\" is not a usable service name; use letters, digits, - and _ (it prefixes queue, Lambda and role names)",
	}},
	{"service too long for Lambda names", "service: " + repeat("s", 57) + "\nregion: us-east-1\ntarget:\n  base_url: https://app.example.com\nroutes:\n  - name: orders\n    verify: {scheme: none, reason: r}\n    path: /orders\n    group: static:orders\n", []string{
		"bad.yaml:1:10: service: the Lambda function name \"sssssssssssssssssssssssssssssssssssssssssssssssssssssssss-forward\" would be 65 characters, over AWS's 64; shorten service to at most 56 characters",
	}},
	{"route name too long for state machine", "service: shop\nregion: us-east-1\ntarget:\n  base_url: https://app.example.com\nroutes:\n  - name: " + repeat("r", 76) + "\n    path: /orders\n    group: static:orders\n    verify: {scheme: none, reason: r}\n", []string{
		"bad.yaml:6:11: routes[0].name: the state machine name \"shop-rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr\" would be 81 characters, over AWS's 80; shorten the route name to at most 75 characters",
	}},
	{"bad route name", "service: shop\nregion: us-east-1\ntarget:\n  base_url: https://app.example.com\nroutes:\n  - name: new orders\n    verify: {scheme: none, reason: r}\n    path: /orders\n    group: static:orders\n", []string{
		"bad.yaml:6:11: routes[0].name: \"new orders\" is not a usable route name; use letters, digits, - and _ (it names the state machine and its files)",
	}},
	{"bad region", "service: shop\nregion: Tokyo\ntarget:\n  base_url: https://app.example.com\nroutes:\n  - name: orders\n    verify: {scheme: none, reason: r}\n    path: /orders\n    group: static:orders\n", []string{
		"bad.yaml:2:9: region: \"Tokyo\" is not an AWS region name; write it like ap-northeast-1 or us-east-1",
	}},
	{"http base_url", "service: shop\nregion: us-east-1\ntarget:\n  base_url: http://app.example.com\nroutes:\n  - name: orders\n    verify: {scheme: none, reason: r}\n    path: /orders\n    group: static:orders\n", []string{
		"bad.yaml:4:13: target.base_url: \"http://app.example.com\" uses http; use https (http is allowed only for localhost, 127.0.0.1 and [::1])",
	}},
	{"url problems", base + "    target_url: https://user:pw@app.example.com/x\n  - name: b\n    verify: {scheme: none, reason: r}\n    path: /b\n    group: static:b\n    target_url: https://app.example.com/b#top\n  - name: c\n    verify: {scheme: none, reason: r}\n    path: /c\n    group: static:c\n    target_url: ftp://app.example.com/c\n  - name: d\n    verify: {scheme: none, reason: r}\n    path: /d\n    group: static:d\n    target_url: https:///d\n", []string{
		"bad.yaml:9:17: routes[0].target_url: URLs must not carry credentials (user:password@); remove them and use target.secret_headers",
		"bad.yaml:14:17: routes[1].target_url: \"https://app.example.com/b#top\" has a #fragment, which is never sent; remove it",
		"bad.yaml:19:17: routes[2].target_url: \"ftp://app.example.com/c\" is not an http(s) URL; write it like https://app.example.com",
		"bad.yaml:24:17: routes[3].target_url: \"https:///d\" has no host; write it like https://app.example.com",
	}},
	{"base_url with query", "service: shop\nregion: us-east-1\ntarget:\n  base_url: https://app.example.com/?v=1\nroutes:\n  - name: orders\n    verify: {scheme: none, reason: r}\n    path: /orders\n    group: static:orders\n", []string{
		"bad.yaml:4:13: target.base_url: \"https://app.example.com/?v=1\" has a ?query; put queries in each route's target_path",
	}},
	{"target_path problems", base + "    target_path: api/orders\n  - name: b\n    verify: {scheme: none, reason: r}\n    path: /b\n    group: static:b\n    target_path: /b\n    target_url: https://other.example.com/b\n", []string{
		"bad.yaml:9:18: routes[0].target_path: \"api/orders\" must start with a single / (it is appended to target.base_url); for another host use target_url",
		"bad.yaml:15:17: routes[1].target_url: set target_url or target_path, not both; target_url replaces target.base_url + target_path",
	}},
	{"ingress path problems", base + "  - name: b\n    verify: {scheme: none, reason: r}\n    path: /b/\n    group: static:b\n  - name: c\n    verify: {scheme: none, reason: r}\n    path: /c/{id}\n    group: static:c\ningress:\n  base_path: hooks\n", []string{
		"bad.yaml:11:11: routes[1].path: \"/b/\" is not a usable ingress path; start with / and use only letters, digits and . _ ~ - between single slashes (a static API Gateway route path), e.g. /approval-progress",
		"bad.yaml:15:11: routes[2].path: \"/c/{id}\" is not a usable ingress path; start with / and use only letters, digits and . _ ~ - between single slashes (a static API Gateway route path), e.g. /approval-progress",
		"bad.yaml:18:14: ingress.base_path: \"hooks\" is not a usable base path; start with / and use only letters, digits and . _ ~ - between single slashes (a static API Gateway route path), with no trailing slash, e.g. /hooks",
	}},
	{"static header problems", head + "target:\n  base_url: https://app.example.com\n  headers:\n    X Bad: 1\n    X-Auth-Token: abc\n    cookie: a=b\n    Webhook-Id: fixed\n    X-Count: 3\n    X-Multi: \"a\\nb\"\n", []string{
		"bad.yaml:11:5: target.headers.X Bad: \"X Bad\" is not a valid header name (RFC 7230 token: letters, digits and !#$%&'*+-.^_`|~); fix the name",
		"bad.yaml:12:5: target.headers.X-Auth-Token: header \"X-Auth-Token\" looks like a credential; put it in target.secret_headers (a secret reference), never in routes.yaml",
		"bad.yaml:13:5: target.headers.cookie: header \"cookie\" looks like a credential; put it in target.secret_headers (a secret reference), never in routes.yaml",
		"bad.yaml:14:5: target.headers.Webhook-Id: header \"Webhook-Id\" is set by webhookq on every delivery; remove it",
		"bad.yaml:15:14: target.headers.X-Count: must be a string, not a number; quote it",
		"bad.yaml:16:14: target.headers.X-Multi: header values cannot contain line breaks or control characters; remove them",
	}},
	{"secret header problems", head + "target:\n  base_url: https://app.example.com\n  headers:\n    X-Api-Version: \"2\"\n  secret_headers:\n    x-api-version:\n      env: VERSION\n    X-Key: plain-text-secret\n    X-Both:\n      env: A\n      ssm_parameter: /a\n    X-None: {}\n    X-Bad-Ssm:\n      ssm_parameter: no spaces allowed\n    X-Bad-Env:\n      env: 1ABC\n", []string{
		"bad.yaml:13:5: target.secret_headers.x-api-version: header \"x-api-version\" is also in target.headers; keep it in one of the two",
		"bad.yaml:15:12: target.secret_headers.X-Key: must reference a secret: a mapping with one of ssm_parameter, secrets_manager or env; never the secret's value",
		"bad.yaml:17:7: target.secret_headers.X-Both: set exactly one of ssm_parameter, secrets_manager or env (found 2)",
		"bad.yaml:19:13: target.secret_headers.X-None: set exactly one of ssm_parameter, secrets_manager or env (found 0)",
		"bad.yaml:21:22: target.secret_headers.X-Bad-Ssm.ssm_parameter: not an SSM parameter name; write a path like /my-service/secret-name (letters, digits, _ . - /)",
		"bad.yaml:23:12: target.secret_headers.X-Bad-Env.env: not an environment variable name; use letters, digits and _, not starting with a digit",
	}},
	{"ssm hierarchy without a leading slash", head + "target:\n  base_url: https://app.example.com\n  signing_secret:\n    ssm_parameter: my-service/signing\n", []string{
		"bad.yaml:11:20: target.signing_secret.ssm_parameter: not an SSM parameter name; write a path like /my-service/secret-name (letters, digits, _ . - /)",
	}},
	{"sns topic in another region", base + "notify:\n  sns_topic_arn: arn:aws:sns:eu-west-1:123456789012:failures\n", []string{
		"bad.yaml:10:18: notify.sns_topic_arn: the topic is in eu-west-1, but webhookq deploys to us-east-1; the notify Lambda publishes in its own region and the alarms can notify only a topic there, so use a topic in us-east-1",
	}},
	{"queue limits", base + "queue:\n  retry_window: 15d\n  retention: 30s\n  dlq_retention: 15d\n  batch_size: 11\n  max_concurrency: 1\n  redelivery_delay: 13h\n  max_redelivery_delay: 1.5s\n", []string{
		"bad.yaml:10:17: queue.retry_window: retry_window is 15d; it must be between 0s and 14d (how long after it was queued a webhook is retried; SQS keeps a message at most 14d)",
		"bad.yaml:11:14: queue.retention: retention is 30s; it must be between 1m and 14d (SQS MessageRetentionPeriod)",
		"bad.yaml:12:18: queue.dlq_retention: dlq_retention is 15d; it must be between 1m and 14d (SQS MessageRetentionPeriod)",
		"bad.yaml:13:15: queue.batch_size: batch_size is 11; it must be between 1 and 10 (a FIFO event source mapping takes at most 10 messages a batch)",
		"bad.yaml:14:20: queue.max_concurrency: max_concurrency is 1; it must be between 2 and 1000 (the event source mapping's MaximumConcurrency)",
		"bad.yaml:15:21: queue.redelivery_delay: redelivery_delay is 13h; it must be between 0s and 12h (ChangeMessageVisibility takes at most 12h)",
		"bad.yaml:16:25: queue.max_redelivery_delay: max_redelivery_delay is 1.5s; use whole seconds (AWS counts this setting in seconds)",
	}},
	{"dlq retention shorter than retention", base + "queue:\n  retention: 7d\n  dlq_retention: 2d\n", []string{
		"bad.yaml:11:18: queue.dlq_retention: dlq_retention (2d) is shorter than retention (7d): the DLQ is where failed webhooks wait for an operator, and for FIFO queues SQS restarts the retention clock when a message moves there, so dlq_retention is all the time an operator has to redrive it; raise dlq_retention to at least 7d",
	}},
	{"redelivery delays out of order", base + "queue:\n  redelivery_delay: 10m\n  max_redelivery_delay: 5m\n", []string{
		"bad.yaml:11:25: queue.max_redelivery_delay: max_redelivery_delay (5m) is shorter than redelivery_delay (10m), the first wait it caps; raise max_redelivery_delay or lower redelivery_delay",
	}},
	{"retired max_receive_count", base + "queue:\n  max_receive_count: 5\n", []string{
		"bad.yaml:10:3: queue.max_receive_count: max_receive_count is gone: the forwarder now retries a webhook for queue.retry_window after it was queued (default 1h), and derives SQS's maxReceiveCount from that as a backstop (docs/config.md, queue); remove max_receive_count, and set retry_window if the default does not suit",
	}},
	{"no redelivery delay leaves the window's receives unbounded", base + "queue:\n  retry_window: 10m\n  redelivery_delay: 0s\n  max_redelivery_delay: 0s\n", []string{
		"bad.yaml:11:21: queue.redelivery_delay: redelivery_delay 0s hands a failing message back at once, so its receives inside retry_window (10m) have no bound, and SQS's redrive policy, the backstop, allows at most 1000; set redelivery_delay (e.g. 30s), or retry_window: 0s for one execution per webhook",
	}},
	{"window receives over SQS's limit", base + "queue:\n  retry_window: 14d\n  retention: 14d\n  redelivery_delay: 1s\n  max_redelivery_delay: 5s\n", []string{
		"bad.yaml:10:17: queue.retry_window: retry_window 14d with redelivery_delay 1s (doubling up to max_redelivery_delay 5s) needs an SQS backstop of over 1000 receives inside the 14d window alone, and SQS's maxReceiveCount is at most 1000; shorten retry_window, or raise redelivery_delay or max_redelivery_delay",
	}},
	{"backstop just over SQS's limit", base + "queue:\n  retry_window: 13m12s\n  redelivery_delay: 1s\n  max_redelivery_delay: 1s\n", []string{
		"bad.yaml:10:17: queue.retry_window: retry_window 13m12s with redelivery_delay 1s (doubling up to max_redelivery_delay 1s) needs an SQS backstop of 1005 = 990 receives inside the 13m12s window + 10 for a batch of followers + 5 margin, and SQS's maxReceiveCount is at most 1000; shorten retry_window, or raise redelivery_delay or max_redelivery_delay",
	}},
	{"retry window longer than retention allows", base + "queue:\n  retry_window: 2d\n  retention: 2d\n  max_redelivery_delay: 12h\n", []string{
		"bad.yaml:10:17: queue.retry_window: a webhook can wait up to 60h30m before it is delivered or parked (retry_window 2d + max_redelivery_delay 12h + 30m for the final executions of a batch), longer than retention 2d: SQS would delete it unannounced; shorten retry_window or raise retention",
	}},
	{"retry limits", base + "retry:\n  max_attempts: 0\n  interval: 500ms\n  backoff_rate: 0.5\n  max_delay: 1.5s\n  jitter: ful\n  on: [server_error, 5xx, server_error]\n", []string{
		"bad.yaml:10:17: retry.max_attempts: max_attempts is 0; it must be between 1 and 100000000 (every attempt counts, the first included; Step Functions allows MaxAttempts up to 99999999 retries)",
		"bad.yaml:11:13: retry.interval: interval is 500ms; it must be between 1s and 99999999s (Step Functions IntervalSeconds)",
		"bad.yaml:12:17: retry.backoff_rate: backoff_rate is 0.5; Step Functions requires at least 1.0 (1 keeps the interval constant, 2 doubles it)",
		"bad.yaml:13:14: retry.max_delay: max_delay is 1.5s; use whole seconds (AWS counts this setting in seconds)",
		"bad.yaml:14:11: retry.jitter: \"ful\" is not one of full, none; did you mean \"full\"?",
		"bad.yaml:15:22: retry.on: \"5xx\" is not one of server_error, throttled, timeout, connection; use one of them",
		"bad.yaml:15:27: retry.on: \"server_error\" is listed twice; keep one",
	}},
	{"retry on empty", base + "retry:\n  on: []\n", []string{
		"bad.yaml:10:7: retry.on: lists no outcome; to turn retries off set max_attempts: 1 instead",
	}},
	{"max_delay below interval", base + "retry:\n  interval: 40s\n", []string{
		"bad.yaml:10:13: retry.max_delay: max_delay (30s) is shorter than interval (40s), so it caps every wait; raise max_delay or lower interval",
	}},
	{"bad durations", head + "target:\n  base_url: https://app.example.com\n  timeout: 5 minutes\nqueue:\n  retention: 4\n  dlq_retention: -5s\n  redelivery_delay: 1d2\n", []string{
		"bad.yaml:10:12: target.timeout: invalid duration \"5 minutes\" (time: unknown unit \" minutes\" in duration \"5 minutes\"); write it like 30s, 5m, 1h30m or 4d",
		"bad.yaml:12:14: queue.retention: must be a duration like 30s, 5m, 1h30m or 4d, not a number; add a unit",
		"bad.yaml:13:18: queue.dlq_retention: invalid duration \"-5s\" (negative duration); write it like 30s, 5m, 1h30m or 4d",
		"bad.yaml:14:21: queue.redelivery_delay: invalid duration \"1d2\" (time: missing unit in duration \"2\"); write it like 30s, 5m, 1h30m or 4d",
	}},
	{"timeout out of range", base + "    overrides:\n      target:\n        timeout: 900s\n", []string{
		"bad.yaml:11:18: routes[0].overrides.target.timeout: timeout is 15m; it must be between 1s and 14m55s (one delivery attempt; the deliver Lambda's timeout adds 5s and may not pass 15m)",
	}},
	{"notify problems", base + "notify:\n  when: always\n  sns_topic_arn: arn:aws:sqs:us-east-1:123:x\n", []string{
		"bad.yaml:10:9: notify.when: \"always\" is not one of final, every_failure, never; use one of them",
		"bad.yaml:11:18: notify.sns_topic_arn: \"arn:aws:sqs:us-east-1:123:x\" is not an SNS topic ARN; write it like arn:aws:sns:ap-northeast-1:123456789012:webhook-failures",
	}},
	{"notify without channel", base + "notify:\n  when: final\n", []string{
		"bad.yaml:10:9: notify.when: notify.when is final but notify has no channel; set notify.sns_topic_arn or notify.slack_webhook_url, or when: never",
	}},
	{"override notify without channel", base + "    overrides:\n      notify:\n        when: every_failure\n", []string{
		"bad.yaml:11:15: routes[0].overrides.notify.when: notify.when is every_failure but notify has no channel; set notify.sns_topic_arn or notify.slack_webhook_url",
	}},
	{"logging problems", base + "logging:\n  level: DEBUG\n  retention_days: 10\n  include_execution_data: 1\n", []string{
		"bad.yaml:10:10: logging.level: \"DEBUG\" is not one of ALL, ERROR, FATAL, OFF; use one of them",
		"bad.yaml:11:19: logging.retention_days: CloudWatch Logs keeps logs for one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 days; pick one of those",
		"bad.yaml:12:27: logging.include_execution_data: must be true or false, not a number",
	}},
	{"group and dedup problems", base + "    dedup: contents\n  - name: b\n    verify: {scheme: none, reason: r}\n    path: /b\n    group: heder:X-Id\n    dedup: \"header:\"\n  - name: c\n    verify: {scheme: none, reason: r}\n    path: /c\n    group: \"static:\"\n  - name: d\n    verify: {scheme: none, reason: r}\n    path: /d\n    group: body:a..b\n  - name: e\n    verify: {scheme: none, reason: r}\n    path: /e\n    group: header:X Y\n  - name: f\n    verify: {scheme: none, reason: r}\n    path: /f\n    group: orders\n", []string{
		"bad.yaml:9:12: routes[0].dedup: \"contents\" is not a dedup source; use content, request_id or header:NAME (a provider's delivery-id header)",
		"bad.yaml:13:12: routes[1].group: unknown group source \"heder\" (did you mean header:X-Id?); write static:NAME, header:NAME or body:path.to.field",
		"bad.yaml:14:12: routes[1].dedup: \"\" is not a valid header name (RFC 7230 token); fix the name after header:",
		"bad.yaml:18:12: routes[2].group: a static group is an SQS message group id: 1 to 128 printable ASCII characters without spaces; fix the name after static:",
		"bad.yaml:22:12: routes[3].group: \"a..b\" is not a JSON field path; write field names joined by dots after body:, e.g. body:account.id",
		"bad.yaml:26:12: routes[4].group: \"X Y\" is not a valid header name (RFC 7230 token); fix the name after header:",
		"bad.yaml:30:12: routes[5].group: \"orders\" is not a group; write static:NAME, header:NAME or body:path.to.field",
	}},
	{"throttle problems", base + "    overrides:\n      ingress:\n        throttle: {rate: 0, burst: 0}\ningress:\n  throttle:\n    rate: 20000\n    burst: 5001\n", []string{
		"bad.yaml:11:26: routes[0].overrides.ingress.throttle.rate: rate is 0; it must be above 0 requests per second (0 would refuse every webhook)",
		"bad.yaml:11:36: routes[0].overrides.ingress.throttle.burst: burst is 0; it must be between 1 and 5000 (requests accepted at once above the rate; API Gateway's account-level bucket in us-east-1 holds 5000)",
		"bad.yaml:14:11: ingress.throttle.rate: rate is 20000; API Gateway's account-level quota in us-east-1 is 10000 requests per second for all APIs of the account, and a route's limit cannot exceed it",
		"bad.yaml:15:12: ingress.throttle.burst: burst is 5001; it must be between 1 and 5000 (requests accepted at once above the rate; API Gateway's account-level bucket in us-east-1 holds 5000)",
	}},
	// Regions with a reduced account quota (2,500 a second, a bucket of 1,250) bound the throttle lower.
	{"throttle above a reduced regional quota", "service: shop\nregion: af-south-1\ntarget: {base_url: https://app.example.com}\nroutes:\n  - name: orders\n    path: /orders\n    group: static:orders\n    verify: {scheme: none, reason: r}\ningress:\n  throttle: {rate: 2501, burst: 1251}\n", []string{
		"bad.yaml:10:20: ingress.throttle.rate: rate is 2501; API Gateway's account-level quota in af-south-1 is 2500 requests per second for all APIs of the account, and a route's limit cannot exceed it",
		"bad.yaml:10:33: ingress.throttle.burst: burst is 1251; it must be between 1 and 1250 (requests accepted at once above the rate; API Gateway's account-level bucket in af-south-1 holds 1250)",
	}},
	{"verify problems", base + "  - name: a\n    path: /a\n    group: static:a\n    verify:\n      scheme: gihub\n  - name: b\n    path: /b\n    group: static:b\n    verify:\n      scheme: hmac\n      secret: {env: B_SECRET}\n  - name: c\n    path: /c\n    group: static:c\n    verify:\n      scheme: github\n      header: X-Hub-Signature-256\n      tolerance: 1m\n      secret: {env: C_SECRET}\n      reason: belt and braces\n", []string{
		"bad.yaml:13:7: routes[1].verify.secret: required; reference the signing secret, e.g. secret: {ssm_parameter: /my-service/signing-secret}",
		"bad.yaml:13:15: routes[1].verify.scheme: \"gihub\" is not one of github, stripe, slack, hmac, none; did you mean \"github\"?",
		"bad.yaml:18:7: routes[2].verify.header: required; scheme hmac needs the signature header's name, e.g. header: X-Signature",
		"bad.yaml:24:7: routes[3].verify: scheme github reads the header X-Hub-Signature-256, which the route does not carry: add it to the route's headers",
		"bad.yaml:25:15: routes[3].verify.header: the github scheme reads its own signature header (X-Hub-Signature-256); remove header (it is for scheme: hmac)",
		"bad.yaml:26:18: routes[3].verify.tolerance: github signatures carry no timestamp; remove tolerance (it is for stripe and slack)",
		"bad.yaml:28:15: routes[3].verify.reason: reason is for scheme: none; a route that verifies needs none, so remove it",
	}},
	{"scheme none problems", base + "  - name: a\n    path: /a\n    group: static:a\n    verify: {scheme: none}\n  - name: b\n    path: /b\n    group: static:b\n    verify:\n      scheme: none\n      reason: \"  \"\n      secret: {env: B_SECRET}\n      header: X-Sig\n      tolerance: 1m\n", []string{
		"bad.yaml:12:13: routes[1].verify.reason: required; scheme none needs a reason: say why this route's webhooks cannot be verified, e.g. reason: \"the sender signs nothing; the route only triggers an idempotent refresh\"",
		"bad.yaml:18:15: routes[2].verify.reason: the reason is empty; say why this route's webhooks cannot be verified",
		"bad.yaml:19:15: routes[2].verify.secret: scheme none verifies nothing; remove secret, or name the scheme that uses it",
		"bad.yaml:20:15: routes[2].verify.header: scheme none verifies nothing; remove header, or name the scheme that uses it",
		"bad.yaml:21:18: routes[2].verify.tolerance: scheme none verifies nothing; remove tolerance, or name the scheme that uses it",
	}},
	// Without verify a route would launder forgeries: the message says so,
	// naming the outbound signature when deliveries are signed.
	{"no verify", base + "  - name: a\n    path: /a\n    group: static:a\n", []string{
		"bad.yaml:9:5: routes[1].verify: " + missingVerify,
	}},
	{"no verify, deliveries signed", head + "  - name: a\n    path: /a\n    group: static:a\n    verify:\ntarget:\n  base_url: https://app.example.com\n  signing_secret: {ssm_parameter: /shop/outbound}\n", []string{
		"bad.yaml:8:5: routes[1].verify: " + missingVerifySigned,
	}},
	{"carried header problems", base + "    headers: [X-A, x-a, X-B, X-C, X-D, X-E, X-F, X!G, 7]\n", []string{
		"bad.yaml:9:14: routes[0].headers: 6 headers carried; an SQS message holds at most 10 attributes and webhookq uses 6, so carry at most 4 headers",
		"bad.yaml:9:20: routes[0].headers[1]: header \"x-a\" is listed twice (header names ignore case); keep one",
		"bad.yaml:9:50: routes[0].headers[7]: header \"X!G\" travels as the SQS message attribute \"h-X!G\", and attribute names allow only letters, digits, -, _ and .; carry a header without other characters",
		"bad.yaml:9:55: routes[0].headers[8]: must be a header name, not a number",
	}},
	{"max_body_bytes too large", base + "ingress:\n  max_body_bytes: 262145\n", []string{
		"bad.yaml:10:19: ingress.max_body_bytes: max_body_bytes is 262145; it must be between 1 and 262144 (no larger body can reach a workflow, whose input Step Functions limits to 262144 bytes; leave the key out to accept bodies up to the limit derived from the workflows (cmd/generate prints it))",
	}},
	{"vpc problems", head + "target:\n  base_url: https://app.example.com\n  vpc:\n    subnet_ids: [subnet-0123456789abcdef0, subnet-0123456789abcdef0, subnet-xyz, 12]\n    security_group_ids: []\n    vpc_id: vpc-01234567\n", []string{
		"bad.yaml:11:44: target.vpc.subnet_ids[1]: subnet-0123456789abcdef0 is listed twice; keep one",
		"bad.yaml:11:70: target.vpc.subnet_ids[2]: \"subnet-xyz\" is not a subnet id; write it like subnet-0123456789abcdef0",
		"bad.yaml:11:82: target.vpc.subnet_ids[3]: must be a subnet id, not a number",
		"bad.yaml:12:25: target.vpc.security_group_ids: lists no security group; list the security groups of deliver's network interfaces, e.g. security_group_ids: [sg-0123456789abcdef0] (it needs outbound access to the target)",
		"bad.yaml:13:5: target.vpc.vpc_id: unknown key \"vpc_id\"; remove it or use one of: subnet_ids, security_group_ids",
	}},
	{"vpc incomplete", head + "target:\n  base_url: https://app.example.com\n  vpc:\n    security_group_ids: [sg-01234567, sg-01234568, sg-01234569, sg-0123456a, sg-0123456b, sg-0123456c]\n", []string{
		"bad.yaml:11:5: target.vpc.subnet_ids: required; list the private subnets deliver runs in, e.g. subnet_ids: [subnet-0123456789abcdef0] (two or more, in different Availability Zones, for availability)",
		"bad.yaml:11:25: target.vpc.security_group_ids: 6 security groups; Lambda attaches a function to at most 5",
	}},
	{"vpc not a mapping", head + "target:\n  base_url: https://app.example.com\n  vpc: subnet-01234567\n", []string{
		"bad.yaml:10:8: target.vpc: must be a mapping of keys to values, not a string",
	}},
	{"budget over the Express limit", head + "notify:\n  sns_topic_arn: arn:aws:sns:us-east-1:123456789012:failures\ntarget:\n  base_url: https://app.example.com\n  timeout: 30s\nretry:\n  max_attempts: 6\n  interval: 5s\n  max_delay: 60s\n", []string{
		"bad.yaml:4:5: routes[0]: worst case 516s = 6 attempts × 37s + 135s backoff + 66s Lambda retries + 93s notify, not under the 300s Express limit; lower retry.max_attempts, retry.max_delay or target.timeout",
	}},
	{"budget that saturates still names the notify time", head + "notify:\n  sns_topic_arn: arn:aws:sns:us-east-1:123456789012:failures\ntarget:\n  base_url: https://app.example.com\nretry:\n  max_attempts: 99999999\n  interval: 1s\n  max_delay: 31622400s\n", []string{
		"bad.yaml:4:5: routes[0]: worst case 9223372036.854776s = 99999999 attempts × 17s + 9223372036.854776s backoff + 46s Lambda retries + 93s notify, not under the 300s Express limit; lower retry.max_attempts, retry.max_delay or target.timeout",
	}},
	{"route budget over the Express limit", base + "    overrides:\n      retry:\n        max_attempts: 12\n", []string{
		"bad.yaml:5:5: routes[0]: worst case 490s = 12 attempts × 17s + 240s backoff + 46s Lambda retries, not under the 300s Express limit; lower retry.max_attempts, retry.max_delay or target.timeout",
	}},
}

func repeat(s string, n int) string {
	out := ""
	for range n {
		out += s
	}
	return out
}
