package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func fixturePath(name string) string {
	return filepath.Join("..", "..", "internal", "report", "testdata", "apps", name+".yaml")
}

// TestRenderRunningOperation: a saved document of a running operation is
// rendered days later; the duration must not count up to the wall clock
// ("281h30m"), and the text says since when it runs instead.
func TestRenderRunningOperation(t *testing.T) {
	clearEnv(t)
	var text, js, errb bytes.Buffer
	if err := run(context.Background(), []string{"render", "--app-file", fixturePath("progressing")}, &text, &errb); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(text.String(), "duration") {
		t.Errorf("text shows a duration for an operation that has not finished:\n%s", text.String())
	}
	if !strings.Contains(text.String(), "running since 2026-11-20 10:00:00 UTC") {
		t.Errorf("text does not say since when the operation runs:\n%s", text.String())
	}
	if err := run(context.Background(), []string{"render", "--app-file", fixturePath("progressing"), "--format", "json"}, &js, &errb); err != nil {
		t.Fatal(err)
	}
	var r map[string]any
	if err := json.Unmarshal(js.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if d, ok := r["durationSeconds"]; ok {
		t.Errorf("json durationSeconds=%v for an operation that has not finished", d)
	}
	// A finished operation keeps its duration.
	text.Reset()
	if err := run(context.Background(), []string{"render", "--app-file", fixturePath("terminated")}, &text, &errb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "duration      12m30s") {
		t.Errorf("finished operation lost its duration:\n%s", text.String())
	}
}

// TestRenderHelp: `render --help` prints render's own usage, its flags
// included, on stdout, and not the hook's environment table.
func TestRenderHelp(t *testing.T) {
	for _, args := range [][]string{{"render", "--help"}, {"render", "-h"}, {"render", "--app-file", "x", "-help"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			clearEnv(t)
			var out, errb bytes.Buffer
			if err := run(context.Background(), args, &out, &errb); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"hook render", "-app-file", "-format", "-argocd-url", "-channel"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("render help lacks %q:\n%s", want, out.String())
				}
			}
			if strings.Contains(out.String(), "GATE_TIMEOUT") {
				t.Errorf("render help prints the global help:\n%s", out.String())
			}
		})
	}
}

// TestRenderArgoCDURL: render checks --argocd-url (and ARGOCD_URL, its
// default) as `hook report` checks ARGOCD_URL, instead of making a broken
// link.
func TestRenderArgoCDURL(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		env  string
	}{
		{"flag", []string{"--argocd-url", "argocd.example.com"}, ""},
		{"environment", nil, "argocd.example.com"},
		{"no host", []string{"--argocd-url", "https://"}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			if tt.env != "" {
				t.Setenv("ARGOCD_URL", tt.env)
			}
			var out, errb bytes.Buffer
			err := run(context.Background(), append([]string{"render", "--app-file", fixturePath("progressing")}, tt.args...), &out, &errb)
			if code := exitCode(err); code != exitUsage {
				t.Fatalf("exit %d (%v), output %q; want %d", code, err, out.String(), exitUsage)
			}
			if msg := err.Error(); !strings.Contains(msg, "--argocd-url") || !strings.Contains(msg, "ARGOCD_URL") {
				t.Errorf("message %q: want it to name --argocd-url and ARGOCD_URL", msg)
			}
		})
	}
	clearEnv(t)
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"render", "--app-file", fixturePath("progressing"), "--argocd-url", "https://argocd.example.com/"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "https://argocd.example.com/applications/argocd/web") {
		t.Errorf("no link:\n%s", out.String())
	}
}
