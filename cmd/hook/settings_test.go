package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/syncreport/syncreport/internal/report"
)

// withAnnotations writes the fixture with these Application annotations.
func withAnnotations(t *testing.T, fixture string, annotations map[string]string) string {
	t.Helper()
	b, err := os.ReadFile(fixturePath(fixture))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	md, _ := doc["metadata"].(map[string]any)
	a := map[string]any{}
	for k, v := range annotations {
		a[k] = v
	}
	md["annotations"] = a
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "app.json")
	if err := os.WriteFile(p, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRenderSettings: render --format json shows every effective setting
// with its source, layered as the hook layers them (the central ConfigMap
// from --settings < the environment < the Application's annotations), and
// a secret only as set or unset; an ignored central value is a warning.
func TestRenderSettings(t *testing.T) {
	clearEnv(t)
	t.Setenv("SLACK_TOKEN", "xoxb-"+canary)
	t.Setenv("SLACK_CHANNEL", "#env")
	t.Setenv("RETRY_NOTIFY", "all")
	cm := filepath.Join(t.TempDir(), "cm.yaml")
	if err := os.WriteFile(cm, []byte(`apiVersion: v1
kind: ConfigMap
metadata: {name: syncreport-settings, namespace: argocd}
data:
  SLACK_CHANNEL: "#central"
  NOTIFY_ON: failed
  RETRY_NOTIFY: final
  ARGOCD_URL: https://argocd.example.com
  GATE_IMAGE_PULL_GRACE: forever
`), 0o600); err != nil {
		t.Fatal(err)
	}
	app := withAnnotations(t, "postsync-healthy", map[string]string{"syncreport.dev/channel": "#annotated"})
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"render", "--app-file", app, "--format", "json", "--settings", cm}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	var r report.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	const central = "configmap argocd/syncreport-settings"
	for name, want := range map[string]report.Setting{
		"SLACK_CHANNEL":         {Value: "#annotated", Source: "annotation syncreport.dev/channel"},
		"NOTIFY_ON":             {Value: "failed", Source: central},
		"RETRY_NOTIFY":          {Value: "all", Source: "env"},
		"ARGOCD_URL":            {Value: "https://argocd.example.com", Source: central},
		"GATE_IMAGE_PULL_GRACE": {Value: "30s", Source: "default"},
		"SLACK_TOKEN":           {Value: "set", Source: "env", Secret: true},
		"SMTP_PASSWORD":         {Value: "unset", Source: "default", Secret: true},
	} {
		if got := r.Settings[name]; got != want {
			t.Errorf("%s: %+v, want %+v", name, got, want)
		}
	}
	if !strings.Contains(r.URL, "https://argocd.example.com/applications/") {
		t.Errorf("the central ARGOCD_URL makes no link: %q", r.URL)
	}
	if len(r.Recipients) == 0 || r.Recipients[len(r.Recipients)-1].Value != "#annotated" {
		t.Errorf("recipients %+v: want the annotated channel", r.Recipients)
	}
	if !strings.Contains(errb.String(), "warning: central setting ignored: "+central+` key GATE_IMAGE_PULL_GRACE: cannot parse "forever"`) {
		t.Errorf("stderr %q: no warning for the bad central value", errb.String())
	}
	if strings.Contains(out.String()+errb.String(), canary) {
		t.Error("render shows the token")
	}

	// The text format is the report as before: no settings in it.
	out.Reset()
	if err := run(context.Background(), []string{"render", "--app-file", app}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "SLACK_CHANNEL") || strings.Contains(out.String(), canary) {
		t.Errorf("text render shows settings:\n%s", out.String())
	}
}

// TestRenderBadAnnotation: a hostile channel annotation is refused as the
// hook refuses it (exit 2, the annotation named), never rendered as a
// mention.
func TestRenderBadAnnotation(t *testing.T) {
	for _, v := range []string{"<!channel>", "#a\nb", "<https://evil.example.com|#deploys>", "#a\u202eb"} {
		clearEnv(t)
		app := withAnnotations(t, "postsync-healthy", map[string]string{"syncreport.dev/channel": v})
		var out, errb bytes.Buffer
		err := run(context.Background(), []string{"render", "--app-file", app, "--format", "slack"}, &out, &errb)
		if code := exitCode(err); code != exitUsage || !strings.Contains(err.Error(), "annotation syncreport.dev/channel") {
			t.Errorf("%q: exit %d (%v), want %d naming the annotation", v, code, err, exitUsage)
		}
		if out.Len() > 0 {
			t.Errorf("%q: rendered %s", v, out.String())
		}
	}
}

// TestRenderSettingsLeakNoSecret: with every secret setting holding the
// canary, render --format json shows each as "set" and none of them.
func TestRenderSettingsLeakNoSecret(t *testing.T) {
	clearEnv(t)
	for k, v := range map[string]string{
		"SLACK_TOKEN": "xoxb-" + canary, "SLACK_CHANNEL": "#d",
		"SMTP_HOST": "mail.example.com", "SMTP_FROM": "d@example.com", "SMTP_USERNAME": "u", "SMTP_PASSWORD": canary,
		"WEBHOOK_URL": "https://hooks.example.com/in/" + canary, "WEBHOOK_SECRET": canary,
		"ARGOCD_SERVER": "argocd.example.com", "ARGOCD_AUTH_TOKEN": canary,
	} {
		t.Setenv(k, v)
	}
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"render", "--app-file", fixturePath("postsync-healthy"), "--format", "json"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	var r report.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"SLACK_TOKEN", "SMTP_PASSWORD", "WEBHOOK_URL", "WEBHOOK_SECRET", "ARGOCD_AUTH_TOKEN"} {
		if s := r.Settings[name]; s.Value != "set" || !s.Secret {
			t.Errorf("%s: %+v, want set and secret", name, s)
		}
	}
	if strings.Contains(out.String()+errb.String(), canary) {
		t.Error("render leaks a secret")
	}
}
