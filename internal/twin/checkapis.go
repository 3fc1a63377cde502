package twin

import (
	"log/slog"

	"github.com/webhookq/webhookq/internal/lambda/probe"
	"github.com/webhookq/webhookq/internal/twin/kmsapi"
	"github.com/webhookq/webhookq/internal/twin/logsapi"
)

// What cmd/check reads on the twin, as it reads it on AWS: the functions'
// log lines in /aws/lambda/<name> log groups (internal/twin/logsapi), and
// the probe key to MAC its probes with (internal/twin/kmsapi), under the
// alias the Terraform module gives it. The key is made anew at each start;
// a probe made before a restart is refused as forged after it.

// ProbeKeyAlias is the probe key's alias for a service, on AWS (the
// Terraform module's aws_kms_alias) and on the twin.
func ProbeKeyAlias(service string) string { return "alias/" + service + "-probe" }

// openCheckAPIs makes the log groups' store and the probe key.
func (t *Twin) openCheckAPIs() error {
	t.logs = logsapi.NewStore(t.cfg.Region, Account)
	key, err := probe.NewLocalKey("arn:aws:kms:" + t.cfg.Region + ":" + Account + ":key/" + t.cfg.Service + "-probe")
	if err != nil {
		return err
	}
	t.probeKey = key
	t.kms = kmsapi.New(key, ProbeKeyAlias(t.cfg.Service))
	return nil
}

// functionLog is the logger of one of the twin's functions: its lines go to
// the twin's log and to the function's log group, as JSON lines the way the
// Lambda writes them.
func (t *Twin) functionLog(function string) *slog.Logger {
	name := t.cfg.FunctionName(function)
	group := t.logs.Writer("/aws/lambda/"+name, "local/[$LATEST]"+name)
	return slog.New(slog.NewMultiHandler(t.log.Handler(), slog.NewJSONHandler(group, nil)))
}
