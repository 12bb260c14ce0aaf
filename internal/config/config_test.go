package config

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"
)

func keys() []string {
	var out []string
	t := reflect.TypeOf(Config{})
	for i := range t.NumField() {
		if k := t.Field(i).Tag.Get("envconfig"); k != "" {
			out = append(out, k)
		}
	}
	return out
}

// TestREADMEListsEveryVariable keeps the README's table honest.
func TestREADMEListsEveryVariable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys() {
		if !bytes.Contains(readme, []byte("`"+k+"`")) {
			t.Errorf("README.md does not document %s", k)
		}
	}
}

func TestUsageListsEveryVariable(t *testing.T) {
	var b strings.Builder
	if err := Usage(&b); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys() {
		if !strings.Contains(b.String(), k) {
			t.Errorf("--help lacks %s", k)
		}
	}
}

func TestTransport(t *testing.T) {
	tests := []struct {
		c    Config
		want string
	}{
		{Config{Notifier: "auto"}, "stdout"},
		{Config{Notifier: "auto", SlackToken: "x"}, "slack"},
		{Config{Notifier: "auto", SlackWebhookURL: "https://h"}, "webhook"},
		{Config{Notifier: "stdout", SlackToken: "x"}, "stdout"},
	}
	for _, tt := range tests {
		if got := tt.c.Transport(); got != tt.want {
			t.Errorf("%+v: %s; want %s", tt.c, got, tt.want)
		}
	}
}

func TestFileSecrets(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(dir+"/token", []byte("xoxb-from-file\n"), 0o600)
	for _, k := range keys() {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("SLACK_TOKEN_FILE", dir+"/token")
	t.Setenv("SLACK_CHANNEL", "#d")
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.SlackToken != "xoxb-from-file" || c.Transport() != "slack" {
		t.Fatalf("token %q transport %s", c.SlackToken, c.Transport())
	}
}
