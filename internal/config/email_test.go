package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEmailAndWebhookSettings: what needs a partner, plain text only to
// loopback, files read and checked before any I/O; every message names the
// variable (issue 18).
func TestEmailAndWebhookSettings(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	smtp := map[string]string{"SMTP_HOST": "smtp.example.com", "SMTP_FROM": "deploys@example.com"}
	hook := map[string]string{"WEBHOOK_URL": "https://hooks.example.com/in/x", "WEBHOOK_SECRET": "s"}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, tt := range []struct {
		name string
		env  map[string]string
		err  string // "" when it loads
	}{
		{"email", smtp, ""},
		{"email without sender", map[string]string{"SMTP_HOST": "smtp.example.com"}, "SMTP_FROM"},
		{"email settings without host", map[string]string{"EMAIL_TO": "a@example.com"}, "need SMTP_HOST"},
		{"user without password", with(smtp, "SMTP_USERNAME", "u"), "SMTP_PASSWORD"},
		{"password from file", with(smtp, "SMTP_USERNAME", "u", "SMTP_PASSWORD_FILE", write("pw", "p\n")), ""},
		{"none to a remote host", with(smtp, "SMTP_TLS", "none"), "SMTP_TLS=none"},
		{"none to loopback", with(smtp, "SMTP_TLS", "none", "SMTP_HOST", "127.0.0.1"), ""},
		{"none to localhost", with(smtp, "SMTP_TLS", "none", "SMTP_HOST", "localhost"), ""},
		{"none allowed", with(smtp, "SMTP_TLS", "none", "SMTP_ALLOW_PLAINTEXT", "true"), ""},
		{"no one to mail", with(smtp, "EMAIL_RECIPIENTS", "false"), "EMAIL_TO"},
		{"bad sender", with(smtp, "SMTP_FROM", "deploys"), "SMTP_FROM"},
		{"CA file with no PEM", with(smtp, "SMTP_CA_FILE", write("ca", "nope")), "SMTP_CA_FILE"},
		{"CA file missing", with(smtp, "SMTP_CA_FILE", filepath.Join(dir, "none")), "SMTP_CA_FILE"},
		{"webhook", hook, ""},
		{"webhook without secret", with(hook, "WEBHOOK_SECRET", ""), "WEBHOOK_SECRET"},
		{"webhook secret from file", with(hook, "WEBHOOK_SECRET", "", "WEBHOOK_SECRET_FILE", write("s", "s\n")), ""},
		{"webhook headers", with(hook, "WEBHOOK_HEADERS_FILE", write("h", "Authorization: Bearer x\n")), ""},
		{"webhook headers bad", with(hook, "WEBHOOK_HEADERS_FILE", write("hb", "oops\n")), "WEBHOOK_HEADERS_FILE"},
		{"webhook plain http", with(hook, "WEBHOOK_URL", "http://hooks.example.com/in/x"), "WEBHOOK_URL"},
		{"webhook loopback http", with(hook, "WEBHOOK_URL", "http://127.0.0.1:8080/in"), ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range keys() {
				t.Setenv(k, "")
				os.Unsetenv(k)
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			c, err := Load()
			if (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("Load: %v; want %q", err, tt.err)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			if err == nil && tt.env["WEBHOOK_HEADERS_FILE"] != "" && c.WebhookHeaders().Get("Authorization") != "Bearer x" {
				t.Errorf("headers %v", c.WebhookHeaders())
			}
		})
	}
}
