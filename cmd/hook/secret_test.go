package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// canary stands for a secret in every variable that can hold one; it must
// never reach stdout, stderr or the error main prints (which the kubelet
// can copy into the pod's termination message).
const canary = "CANARYsecret"

// TestBadConfigLeaksNoSecret runs report and gate with bad configurations
// whose secret-bearing variables hold the canary (issue 13 item 14).
func TestBadConfigLeaksNoSecret(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tokenFile := file("token", "xoxb-"+canary+"\n")
	badKubeconfig := file("kubeconfig", "apiVersion: v1\nusers:\n- name: u\n  user:\n    token: "+canary+"\n  bad: [\n")
	slack := map[string]string{"SLACK_TOKEN": "xoxb-" + canary, "SLACK_CHANNEL": "#d"}
	argo := map[string]string{"ARGOCD_AUTH_TOKEN": canary}
	smtp := map[string]string{"SMTP_HOST": "mail.example.com", "SMTP_FROM": "d@example.com", "SMTP_USERNAME": "u", "SMTP_PASSWORD": canary}
	hook := map[string]string{"WEBHOOK_URL": "https://hooks.example.com/in/" + canary + "?k=" + canary, "WEBHOOK_SECRET": canary}
	passwordFile := file("password", canary+"\n")
	headers := file("headers", "Authorization: Bearer "+canary+"\nBad Header: "+canary+"\n")
	forgedHeader := file("forged", "X-Syncreport-Signature: "+canary+"\n")
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name string
		env  map[string]string
	}{
		{"API URL with user info, bad scheme", with(slack, "SLACK_API_URL", "ftp://bot:"+canary+"@proxy.example.com/api/?token="+canary)},
		{"API URL unparsable", with(slack, "SLACK_API_URL", "https://bot:"+canary+"@proxy.example.com/%zz?token="+canary)},
		{"API URL bad port", with(slack, "SLACK_API_URL", "https://proxy.example.com:"+canary+"/api/")},
		{"API URL without scheme", with(slack, "SLACK_API_URL", "bot:"+canary+"@proxy.example.com/api/")},
		{"API URL plain http", with(slack, "SLACK_API_URL", "http://bot:"+canary+"@proxy.example.com/api/?token="+canary)},
		{"webhook URL malformed", map[string]string{"SLACK_WEBHOOK_URL": "hooks.slack.com/services/" + canary}},
		{"webhook URL plain http", map[string]string{"SLACK_WEBHOOK_URL": "http://hooks.slack.com/services/" + canary}},
		{"webhook URL and token", with(slack, "SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/"+canary)},
		{"token with newline", with(slack, "SLACK_TOKEN", "xoxb-"+canary+"\n")},
		{"token and token file", with(slack, "SLACK_TOKEN_FILE", tokenFile)},
		{"Argo CD URL with query", map[string]string{"ARGOCD_URL": "ftp://u:" + canary + "@argocd.example.com/?token=" + canary}},
		{"Argo CD URL unparsable", map[string]string{"ARGOCD_URL": "https://argocd.example.com/%zz?token=" + canary}},
		{"server with query", with(argo, "ARGOCD_SERVER", "argocd.example.com?token="+canary)},
		{"server with fragment", with(argo, "ARGOCD_SERVER", "https://argocd.example.com/#"+canary)},
		{"server plain http with query", with(argo, "ARGOCD_SERVER", "http://argocd.example.com/?token="+canary)},
		{"server bad port", with(argo, "ARGOCD_SERVER", "https://argocd.example.com:"+canary)},
		{"server with user info", with(argo, "ARGOCD_SERVER", "https://u:"+canary+"@argocd.example.com")},
		{"server bad scheme", with(argo, "ARGOCD_SERVER", "ftp://argocd.example.com/?t="+canary)},
		{"server https with plaintext", with(argo, "ARGOCD_SERVER", "https://argocd.example.com/?token="+canary, "ARGOCD_PLAINTEXT", "true")},
		{"Argo CD token with space", with(argo, "ARGOCD_SERVER", "argocd.example.com", "ARGOCD_AUTH_TOKEN", canary+" x")},
		{"token file without server", map[string]string{"ARGOCD_AUTH_TOKEN_FILE": tokenFile}},
		{"kubeconfig that does not parse", map[string]string{"ARGOCD_KUBECONFIG_FILE": badKubeconfig}},
		{"SMTP password with newline", with(smtp, "SMTP_PASSWORD", canary+"\nx")},
		{"SMTP password and file", with(smtp, "SMTP_PASSWORD_FILE", passwordFile)},
		{"SMTP password without user", with(smtp, "SMTP_USERNAME", "")},
		{"SMTP plain text to a remote host", with(smtp, "SMTP_TLS", "none")},
		{"SMTP password, bad port", with(smtp, "SMTP_PORT", "70000")},
		{"SMTP password, bad CA file", with(smtp, "SMTP_CA_FILE", passwordFile)},
		{"SMTP password file without host", map[string]string{"SMTP_PASSWORD_FILE": passwordFile, "SMTP_USERNAME": "u"}},
		{"webhook URL plain http", with(hook, "WEBHOOK_URL", "http://hooks.example.com/in/"+canary)},
		{"webhook URL malformed", with(hook, "WEBHOOK_URL", "hooks.example.com/in/"+canary)},
		{"webhook URL with newline", with(hook, "WEBHOOK_URL", "https://hooks.example.com/in/"+canary+"\n")},
		{"webhook without secret", with(hook, "WEBHOOK_SECRET", "")},
		{"webhook secret without URL", map[string]string{"WEBHOOK_SECRET": canary}},
		{"webhook headers malformed", with(hook, "WEBHOOK_HEADERS_FILE", headers)},
		{"webhook header forged", with(hook, "WEBHOOK_HEADERS_FILE", forgedHeader)},
		{"webhook set, other variable bad", with(hook, "HOOK_TIMEOUT", "forever")},
		{"secrets set, other variable bad", with(with(slack, "HOOK_TIMEOUT", "forever"), "ARGOCD_SERVER", "argocd.example.com?token="+canary)},
		{"token set, channel a mention", with(slack, "SLACK_CHANNEL", "<!channel>")},
		{"token set, failed channel with a newline", with(slack, "SLACK_CHANNEL_FAILED", "#x\nforged line")},
		{"token set, central Secret name invalid", with(slack, "SETTINGS_SECRET", "Not_A_Name")},
	}
	for _, cmd := range []string{"report", "gate"} {
		for _, tt := range tests {
			t.Run(cmd+"/"+tt.name, func(t *testing.T) {
				clearEnv(t)
				for k, v := range tt.env {
					t.Setenv(k, v)
				}
				var out, errb bytes.Buffer
				err := run(context.Background(), []string{cmd}, &out, &errb)
				if err == nil {
					t.Fatal("no error")
				}
				if code := exitCode(err); code != exitUsage {
					t.Errorf("exit %d (%v); want %d", code, err, exitUsage)
				}
				for what, s := range map[string]string{"error": err.Error(), "stdout": out.String(), "stderr": errb.String()} {
					if strings.Contains(s, canary) {
						t.Errorf("%s leaks the secret: %q", what, s)
					}
				}
			})
		}
	}
}
