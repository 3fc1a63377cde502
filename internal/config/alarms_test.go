package config

import (
	"os"
	"strings"
	"testing"
)

// docs/config.md's alarms table lists every alarm with its type and default,
// as AlarmSpecs has them.
func TestDocsListEveryAlarm(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range AlarmSpecs {
		kind := "integer"
		if s.Age {
			kind = "duration"
		}
		row := "| `" + string(s.Alarm) + "` | " + kind + " | `" + s.FormatThreshold(s.Default) + "` |"
		if !strings.Contains(string(data), row) {
			t.Errorf("docs/config.md has no row starting %q", row)
		}
	}
}

func TestAlarmName(t *testing.T) {
	t.Parallel()
	c := &Config{Service: "sales-approvals"}
	if got := c.AlarmName(AlarmBacklogAge, ""); got != "sales-approvals-backlog-age" {
		t.Errorf("service alarm %q", got)
	}
	if got := c.AlarmName(AlarmExecutionFailures, "approval-progress"); got != "sales-approvals-approval-progress-execution-failures" {
		t.Errorf("route alarm %q", got)
	}
}

// terraform/README.md says what to do when each alarm fires.
func TestTerraformReadmeListsEveryAlarm(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../terraform/README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(data), "\n## Alarms\n")
	section, _, _ = strings.Cut(section, "\n## ")
	var rows []string
	for _, line := range strings.Split(section, "\n") {
		if strings.HasPrefix(line, "| `") {
			rows = append(rows, strings.SplitN(line, " | ", 2)[0])
		}
	}
	var want []string
	for _, s := range AlarmSpecs {
		want = append(want, "| `"+string(s.Alarm)+"`")
	}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("terraform/README.md's alarm rows:\n%s\nwant (AlarmSpecs, in order):\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
}
