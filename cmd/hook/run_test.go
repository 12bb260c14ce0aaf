package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// clearEnv unsets every variable the hook reads so the developer's own
// environment cannot change a test's outcome.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "ARGOCD_"), strings.HasPrefix(k, "SLACK_"), strings.HasPrefix(k, "POD_"),
			strings.HasPrefix(k, "HOOK_"), strings.HasPrefix(k, "NOTIFY"), k == "STDOUT_FORMAT",
			k == "RETRY_NOTIFY", k == "FAIL_ON_DELIVERY_ERROR", k == "LOG_LEVEL", k == "KUBECONFIG":
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	// No cluster: tests of bad input must fail before any I/O.
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "missing"))
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
}

// TestBadConfiguration: every bad form of every variable gives exit 2 and a
// one-line message naming the variable, before any I/O.
func TestBadConfiguration(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	tests := []struct {
		name string
		env  map[string]string
		want string // the variable the message must name
	}{
		{"unknown notifier", map[string]string{"NOTIFIER": "email"}, "NOTIFIER"},
		{"slack notifier without token", map[string]string{"NOTIFIER": "slack"}, "SLACK_TOKEN"},
		{"webhook notifier without URL", map[string]string{"NOTIFIER": "webhook"}, "SLACK_WEBHOOK_URL"},
		{"token without channel", map[string]string{"SLACK_TOKEN": "xoxb-1"}, "SLACK_CHANNEL"},
		{"token and webhook", map[string]string{"SLACK_TOKEN": "xoxb-1", "SLACK_CHANNEL": "#d", "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/x"}, "SLACK_WEBHOOK_URL"},
		{"token and token file", map[string]string{"SLACK_TOKEN": "xoxb-1", "SLACK_TOKEN_FILE": empty}, "SLACK_TOKEN_FILE"},
		{"unreadable token file", map[string]string{"SLACK_TOKEN_FILE": filepath.Join(dir, "nope"), "SLACK_CHANNEL": "#d"}, "SLACK_TOKEN_FILE"},
		{"empty token file", map[string]string{"SLACK_TOKEN_FILE": empty, "SLACK_CHANNEL": "#d"}, "SLACK_TOKEN_FILE"},
		{"unreadable webhook file", map[string]string{"SLACK_WEBHOOK_URL_FILE": dir + "/nope"}, "SLACK_WEBHOOK_URL_FILE"},
		{"malformed webhook URL", map[string]string{"SLACK_WEBHOOK_URL": "hooks.slack.com/services/x"}, "SLACK_WEBHOOK_URL"},
		{"malformed API URL", map[string]string{"SLACK_API_URL": "::nope"}, "SLACK_API_URL"},
		{"malformed Argo CD URL", map[string]string{"ARGOCD_URL": "argocd.example.com"}, "ARGOCD_URL"},
		{"unknown stdout format", map[string]string{"STDOUT_FORMAT": "yaml"}, "STDOUT_FORMAT"},
		{"unknown retry policy", map[string]string{"RETRY_NOTIFY": "never"}, "RETRY_NOTIFY"},
		{"negative timeout", map[string]string{"HOOK_TIMEOUT": "-5s"}, "HOOK_TIMEOUT"},
		{"timeout without unit", map[string]string{"HOOK_TIMEOUT": "120"}, "HOOK_TIMEOUT"},
		{"non-boolean", map[string]string{"FAIL_ON_DELIVERY_ERROR": "yes please"}, "FAIL_ON_DELIVERY_ERROR"},
		{"unknown log level", map[string]string{"LOG_LEVEL": "loud"}, "LOG_LEVEL"},
		{"pod name without namespace", map[string]string{"POD_NAME": "p"}, "POD_NAMESPACE"},
		{"unknown verdict in NOTIFY_ON", map[string]string{"NOTIFY_ON": "failed,broken"}, "NOTIFY_ON"},
		{"non-boolean SLACK_DM", map[string]string{"SLACK_DM": "sometimes"}, "SLACK_DM"},
		{"server and kubeconfig", map[string]string{"ARGOCD_SERVER": "argocd.example.com", "ARGOCD_AUTH_TOKEN": "t", "ARGOCD_KUBECONFIG_FILE": empty}, "ARGOCD_KUBECONFIG_FILE"},
		{"server without token", map[string]string{"ARGOCD_SERVER": "argocd.example.com"}, "ARGOCD_AUTH_TOKEN"},
		{"token without server", map[string]string{"ARGOCD_AUTH_TOKEN": "t"}, "ARGOCD_SERVER"},
		{"missing kubeconfig file", map[string]string{"ARGOCD_KUBECONFIG_FILE": dir + "/nope"}, "ARGOCD_KUBECONFIG_FILE"},
		{"unreadable kubeconfig", map[string]string{"ARGOCD_KUBECONFIG_FILE": empty}, "ARGOCD_KUBECONFIG_FILE"},
		{"unreadable CA file", map[string]string{"ARGOCD_SERVER": "argocd.example.com", "ARGOCD_AUTH_TOKEN": "t", "ARGOCD_CA_FILE": dir + "/nope"}, "ARGOCD_CA_FILE"},
		{"plain http server without ARGOCD_PLAINTEXT", map[string]string{"ARGOCD_SERVER": "http://argocd.example.com", "ARGOCD_AUTH_TOKEN": "t"}, "ARGOCD_SERVER"},
		{"commit author without server", map[string]string{"NOTIFY_COMMIT_AUTHOR": "true"}, "ARGOCD_SERVER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var out, errb bytes.Buffer
			err := run(context.Background(), nil, &out, &errb)
			if code := exitCode(err); code != exitUsage {
				t.Fatalf("exit %d (%v); want %d", code, err, exitUsage)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") {
				t.Errorf("message %q: want one line naming %s", msg, tt.want)
			}
			if strings.Contains(msg, "hooks.slack.com") || strings.Contains(msg, "xoxb-1") {
				t.Errorf("message leaks a secret: %q", msg)
			}
		})
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"--help"}, exitOK, "SLACK_WEBHOOK_URL"},
		{[]string{"report", "--help"}, exitOK, "HOOK_TIMEOUT"},
		{[]string{"version"}, exitOK, "commit: "},
		{[]string{"deploy"}, exitUsage, ""},
		{[]string{"report", "extra"}, exitUsage, ""},
		{[]string{"render"}, exitUsage, ""},
		{[]string{"render", "--app-file", "x.json", "--format", "xml"}, exitUsage, ""},
		{[]string{"render", "--app-file", "/nonexistent.json"}, exitUsage, ""},
		{[]string{"render", "--bogus"}, exitUsage, ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			clearEnv(t)
			var out, errb bytes.Buffer
			err := run(context.Background(), tt.args, &out, &errb)
			if code := exitCode(err); code != tt.code {
				t.Fatalf("exit %d (%v); want %d", code, err, tt.code)
			}
			if !strings.Contains(out.String(), tt.out) {
				t.Errorf("stdout %q lacks %q", out.String(), tt.out)
			}
		})
	}
}

// TestRender previews a report from a `kubectl get app -o yaml` document in
// all three formats; the slack format is the exact chat.postMessage payload.
func TestRender(t *testing.T) {
	clearEnv(t)
	app := filepath.Join("..", "..", "internal", "report", "testdata", "apps", "syncfail-degraded.yaml")
	for _, format := range []string{"text", "json", "slack", "email"} {
		t.Run(format, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := run(context.Background(), []string{"render", "--app-file", app, "--format", format, "--channel", "#deploys"}, &out, &errb)
			if err != nil {
				t.Fatal(err)
			}
			switch format {
			case "text":
				if !strings.Contains(out.String(), "web sync failed") {
					t.Errorf("text: %s", out.String())
				}
			case "json":
				var r struct {
					Verdict  string `json:"verdict"`
					Failures []struct {
						Kind, Name, Message string
					} `json:"failures"`
				}
				if err := json.Unmarshal(out.Bytes(), &r); err != nil || r.Verdict != "failed" || len(r.Failures) != 1 {
					t.Errorf("json: %v %+v", err, r)
				}
			case "email":
				if !strings.HasPrefix(out.String(), "<!DOCTYPE html>") || !strings.Contains(out.String(), "web sync failed") {
					t.Errorf("email: %s", out.String())
				}
			case "slack":
				var m struct {
					Channel string            `json:"channel"`
					Text    string            `json:"text"`
					Blocks  []json.RawMessage `json:"blocks"`
				}
				if err := json.Unmarshal(out.Bytes(), &m); err != nil || m.Channel != "#deploys" || m.Text == "" || len(m.Blocks) < 3 {
					t.Errorf("slack: %v %+v", err, m)
				}
			}
		})
	}
}
