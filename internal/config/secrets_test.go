package config

import (
	"strings"
	"testing"
)

// SecretUses lists every reference the configuration makes, with its reader;
// Secrets groups them by reference. tfgen grants forward and deliver exactly
// the ones SecretUses gives each, and cmd/generate's summary lists all to create.
func TestSecretUses(t *testing.T) {
	t.Parallel()
	cfg, err := Parse("s.yaml", []byte(`service: shop
region: eu-west-1
target:
  base_url: https://app.example.com
  signing_secret: {ssm_parameter: /shop/signing}
  secret_headers:
    X-Token: {secrets_manager: shop/token}
    Authorization: {ssm_parameter: /shop/auth}
notify:
  slack_webhook_url: {ssm_parameter: /shop/slack}
routes:
  - name: orders
    path: /orders
    group: header:X-Id
    headers: [X-Id, X-Sig]
    verify: {scheme: hmac, header: X-Sig, secret: {ssm_parameter: /shop/inbound}}
  - name: refunds
    path: /refunds
    group: header:X-Id
    headers: [X-Id, X-Sig]
    verify: {scheme: hmac, header: X-Sig, secret: {ssm_parameter: /shop/inbound}}
`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, u := range cfg.SecretUses() {
		got = append(got, u.Function+" "+u.Ref.SSMParameter+u.Ref.SecretsManager+" "+u.Use)
	}
	want := []string{
		"deliver /shop/signing outbound signing (target.signing_secret)",
		"deliver /shop/auth target header Authorization",
		"deliver shop/token target header X-Token",
		"forward /shop/inbound route orders: inbound hmac signature",
		"deliver /shop/inbound route orders: inbound hmac signature",
		"forward /shop/inbound route refunds: inbound hmac signature",
		"deliver /shop/inbound route refunds: inbound hmac signature",
		"notify /shop/slack Slack notifications (notify.slack_webhook_url)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("SecretUses:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	secrets := cfg.Secrets()
	if len(secrets) != 5 || secrets[3].Ref.SSMParameter != "/shop/inbound" || len(secrets[3].Uses) != 4 {
		t.Errorf("Secrets: %+v", secrets)
	}
}
