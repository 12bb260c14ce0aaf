package config

import (
	"os"
	"strings"
	"testing"
)

// TestCheckVariableAgreesWithLoad: CheckVariable accepts a value exactly
// when Load accepts it with no other variable set, for variables that need
// no partner; it parses on its own, not through FromLookup, so this keeps
// the two from drifting.
func TestCheckVariableAgreesWithLoad(t *testing.T) {
	for _, tt := range []struct{ name, value string }{
		{"NOTIFY_ON", "failed"}, {"NOTIFY_ON", "failure"}, {"NOTIFY_ON", "succeeded, degraded"}, {"NOTIFY_ON", ""},
		{"NOTIFIER", "stdout"}, {"NOTIFIER", "email"}, {"RETRY_NOTIFY", "final"}, {"RETRY_NOTIFY", "never"},
		{"STDOUT_FORMAT", "json"}, {"STDOUT_FORMAT", "yaml"}, {"LOG_LEVEL", "warn"}, {"LOG_LEVEL", "WARN"},
		{"HOOK_TIMEOUT", "90s"}, {"HOOK_TIMEOUT", "120"}, {"HOOK_TIMEOUT", "-1s"}, {"HOOK_TIMEOUT", "0s"},
		{"HOOK_LOG_LINES", "20"}, {"HOOK_LOG_LINES", "0x10"}, {"HOOK_LOG_LINES", "201"}, {"HOOK_LOG_LINES", "ten"},
		{"SLACK_DM", "true"}, {"SLACK_DM", "1"}, {"SLACK_DM", "yes"}, {"HOOK_DIAGNOSE", "F"},
		{"ARGOCD_URL", "https://argocd.example.com"}, {"ARGOCD_URL", "argocd.example.com"}, {"ARGOCD_URL", ""},
		{"SLACK_API_URL", "http://proxy:8080/api/"}, {"SLACK_API_URL", "::nope"},
		{"SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/x"}, {"SLACK_WEBHOOK_URL", "hooks.slack.com"},
		{"GATE_WAVE", "-5"}, {"GATE_WAVE", "1.5"}, {"GATE_RESTARTS", "0"}, {"GATE_TIMEOUT", "1h30m"},
		{"GATE_IMAGE_PULL_GRACE", "0s"}, {"GATE_IMAGE_PULL_GRACE", "-1s"}, {"SLACK_CHANNEL_FAILED", "#incidents"},
		{"ARGOCD_NAMESPACE", "argocd"}, {"ARGOCD_APP_NAME", "web"}, {"SLACK_ATTEMPT_TIMEOUT", "0s"},
		{"SMTP_TLS", "tls"}, {"SMTP_TLS", "ssl"}, {"SMTP_PORT", "465"}, {"SMTP_PORT", "-1"}, {"SMTP_PORT", "70000"},
		{"SMTP_HOST", "smtp.example.com:587"}, {"EMAIL_TO", "not-an-address"}, {"EMAIL_RECIPIENTS", "false"},
		{"SMTP_ALLOW_PLAINTEXT", "maybe"}, {"WEBHOOK_URL", "hooks.example.com/x"}, {"WEBHOOK_URL", "http://hooks.example.com/x"},
	} {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			for _, k := range keys() {
				t.Setenv(k, "")
				os.Unsetenv(k)
			}
			t.Setenv(tt.name, tt.value)
			_, loadErr := Load()
			checkErr := CheckVariable(tt.name, tt.value)
			if (loadErr == nil) != (checkErr == nil) {
				t.Fatalf("Load: %v; CheckVariable: %v", loadErr, checkErr)
			}
			if checkErr != nil && (!strings.Contains(checkErr.Error(), tt.name) || checkErr.Error() != loadErr.Error()) {
				t.Errorf("CheckVariable says %q, Load %q", checkErr, loadErr)
			}
		})
	}
	if err := CheckVariable("NOTIFY", "failed"); err == nil || !strings.Contains(err.Error(), "NOTIFY") {
		t.Errorf("unknown variable: %v", err)
	}
}

// TestChoicesInMessages: the enum messages list what Choices lists.
func TestChoicesInMessages(t *testing.T) {
	for name, want := range Choices() {
		err := CheckVariable(name, "bogus")
		if err == nil {
			t.Fatalf("%s=bogus accepted", name)
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: message %q lacks %q", name, err, w)
			}
		}
	}
}
