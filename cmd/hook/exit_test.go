package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestInterruptedExitCode: SIGTERM or SIGINT (the context main gets from
// signal.NotifyContext, cancelled) while report or gate waits on the API
// server exits 6, not 3 ("not readable") or 1 (issue 13 item 18).
func TestInterruptedExitCode(t *testing.T) {
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // an API server that never answers
	}))
	defer hung.Close()
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "`+hung.URL+`"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`), 0o600)
	for _, cmd := range []string{"report", "gate"} {
		t.Run(cmd, func(t *testing.T) {
			clearEnv(t)
			t.Setenv("KUBECONFIG", kubeconfig)
			t.Setenv("ARGOCD_APP_NAME", "web")
			t.Setenv("HOOK_TIMEOUT", "1m")
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(300*time.Millisecond, cancel) // the signal
			var out, errb bytes.Buffer
			err := run(ctx, []string{cmd}, &out, &errb)
			if code := exitCode(err); code != exitInterrupted {
				t.Fatalf("exit %d (%v); want %d", code, err, exitInterrupted)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "interrupted") || strings.Contains(msg, "\n") {
				t.Errorf("message %q: want one line that starts with interrupted", msg)
			}
		})
	}
}

// TestPanicExitCode: a panic is an internal error, exit 1, with a one-line
// message; the stack goes to stderr (issue 13 item 18). Go's own exit code
// for a panic is 2, which the README gives to bad configuration.
func TestPanicExitCode(t *testing.T) {
	clearEnv(t)
	var out, errb bytes.Buffer
	// render writes to stdout: a writer that panics stands for any bug on
	// run's goroutine.
	app := filepath.Join("..", "..", "internal", "report", "testdata", "apps", "syncfail-degraded.yaml")
	err := run(context.Background(), []string{"render", "--app-file", app}, panicWriter{}, &errb)
	if code := exitCode(err); code != exitInternal {
		t.Fatalf("exit %d (%v); want %d", code, err, exitInternal)
	}
	if msg := err.Error(); !strings.Contains(msg, "internal error") || !strings.Contains(msg, "boom") || strings.Contains(msg, "\n") || strings.Contains(msg, "goroutine") {
		t.Errorf("message %q: want one line naming the panic, no stack", msg)
	}
	if !strings.Contains(errb.String(), "goroutine") {
		t.Errorf("stderr lacks the stack: %q", errb.String())
	}
	_ = out
}

type panicWriter struct{}

func (panicWriter) Write([]byte) (int, error) { panic("boom\nsecond line") }

// TestTerminationMessageIsVisible: the gate's cause quotes pod and event
// messages; in the termination message (kubectl describe pod prints it raw)
// control and bidi characters are replaced and it stays one line.
func TestTerminationMessageIsVisible(t *testing.T) {
	path := filepath.Join(t.TempDir(), "termination-log")
	writeTerminationLog(path, "pod web-1: \x1b[2J\x1b[Hfake\u009b\u202e ok\nsecond line\xff", slog.New(slog.DiscardHandler))
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.TrimSuffix(string(b), "\n")
	if strings.ContainsAny(got, "\x1b\u009b\u202e\n") || !utf8.ValidString(got) {
		t.Errorf("termination message %q", got)
	}
	if !strings.Contains(got, "fake") || !strings.Contains(got, "second line") {
		t.Errorf("termination message lost text: %q", got)
	}
}
