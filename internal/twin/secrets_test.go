package twin

import (
	"strings"
	"testing"

	"github.com/webhookq/webhookq/internal/config"
)

func TestSecretEnvName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ref  config.SecretRef
		want string
	}{
		{config.SecretRef{SSMParameter: "/sales-approvals/outbound-signing-secret"}, "WEBHOOKQ_SECRET_SALES_APPROVALS_OUTBOUND_SIGNING_SECRET"},
		{config.SecretRef{SecretsManager: "arn:aws:secretsmanager:eu-west-1:1:secret:hook//x"}, "WEBHOOKQ_SECRET_ARN_AWS_SECRETSMANAGER_EU_WEST_1_1_SECRET_HOOK_X"},
		{config.SecretRef{SSMParameter: "plain"}, "WEBHOOKQ_SECRET_PLAIN"},
		{config.SecretRef{Env: "MY_SECRET"}, "MY_SECRET"},
	} {
		if got := SecretEnvName(tc.ref); got != tc.want {
			t.Errorf("SecretEnvName(%+v) = %q, want %q", tc.ref, got, tc.want)
		}
	}
}

// TestLocalConfig: a secret that is not set turns off only what needs it,
// with a warning naming the variable and never a value; a set one is kept.
func TestLocalConfig(t *testing.T) {
	t.Parallel()
	signing := config.SecretRef{SSMParameter: "/s/signing"}
	verify := config.SecretRef{SSMParameter: "/s/verify"}
	slack := config.SecretRef{SSMParameter: "/s/slack"}
	notify := config.Notify{When: config.NotifyFinal, SNSTopicARN: "arn:aws:sns:eu-west-1:1:t", SlackWebhookURL: &slack}
	cfg := &config.Config{
		Target: config.Target{Signing: &signing, SecretHeaders: map[string]config.SecretRef{"Authorization": {SSMParameter: "/s/token"}}},
		Notify: notify,
		Routes: []config.Route{
			{Name: "a", TargetURL: "https://app.example.com/in/a?x=1", Verify: &config.Verify{Scheme: config.VerifyGitHub, Secret: verify}, Notify: notify},
			{Name: "b", TargetURL: "https://app.example.com", Notify: notify},
		},
	}
	env := map[string]string{"WEBHOOKQ_SECRET_S_VERIFY": "s3cr3t-value", "WEBHOOKQ_SECRET_S_TOKEN": "tok3n-value"}
	var warnings []string
	local := localConfig(cfg, newEnvSecrets(func(k string) (string, bool) { v, ok := env[k]; return v, ok }),
		"http://127.0.0.1:9/demo", func(w string) { warnings = append(warnings, w) })

	if local.Target.Signing != nil || cfg.Target.Signing == nil {
		t.Error("signing without its secret must be off locally, and the original config untouched")
	}
	if _, ok := local.Target.SecretHeaders["Authorization"]; !ok {
		t.Error("a secret header whose secret is set was dropped")
	}
	if local.Routes[0].Verify == nil {
		t.Error("verification whose secret is set was turned off")
	}
	for _, r := range local.Routes {
		if r.Notify.SlackWebhookURL != nil || r.Notify.SNSTopicARN != "" {
			t.Errorf("route %s keeps a channel it cannot use locally: %+v", r.Name, r.Notify)
		}
	}
	if got := local.Routes[0].TargetURL; got != "http://127.0.0.1:9/demo/in/a?x=1" {
		t.Errorf("retargeted URL %q", got)
	}
	if got := local.Routes[1].TargetURL; got != "http://127.0.0.1:9/demo" {
		t.Errorf("retargeted URL without a path %q", got)
	}
	all := strings.Join(warnings, "\n")
	for _, want := range []string{"WEBHOOKQ_SECRET_S_SIGNING", "WEBHOOKQ_SECRET_S_SLACK", "SNS"} {
		if !strings.Contains(all, want) {
			t.Errorf("no warning mentions %s:\n%s", want, all)
		}
	}
	for _, secret := range env {
		if strings.Contains(all, secret) {
			t.Errorf("a warning shows a secret value:\n%s", all)
		}
	}
}
