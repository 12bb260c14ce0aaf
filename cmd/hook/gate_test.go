package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// clearGateEnv unsets the GATE_* variables on top of clearEnv.
func clearGateEnv(t *testing.T) {
	t.Helper()
	clearEnv(t)
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "GATE_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
}

// TestGateBadConfiguration: a bad GATE_* value is exit 2 naming the
// variable, before any I/O (there is no cluster here).
func TestGateBadConfiguration(t *testing.T) {
	for _, tt := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"GATE_WAVE": "one"}, "GATE_WAVE"},
		{map[string]string{"GATE_RESTARTS": "0"}, "GATE_RESTARTS"},
		{map[string]string{"GATE_RESTARTS": "two"}, "GATE_RESTARTS"},
		{map[string]string{"GATE_IMAGE_PULL_GRACE": "-1s"}, "GATE_IMAGE_PULL_GRACE"},
		{map[string]string{"GATE_CONFIG_ERROR_GRACE": "30"}, "GATE_CONFIG_ERROR_GRACE"},
		{map[string]string{"GATE_UNSCHEDULABLE_GRACE": "-2m"}, "GATE_UNSCHEDULABLE_GRACE"},
		{map[string]string{"GATE_TIMEOUT": "0s"}, "GATE_TIMEOUT"},
		{map[string]string{"GATE_MARK_DEGRADED": "maybe"}, "GATE_MARK_DEGRADED"},
	} {
		t.Run(tt.want, func(t *testing.T) {
			clearGateEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var out, errb bytes.Buffer
			err := run(context.Background(), []string{"gate"}, &out, &errb)
			if code := exitCode(err); code != exitUsage {
				t.Fatalf("exit %d (%v); want %d", code, err, exitUsage)
			}
			if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("message %q does not name %s on one line", err, tt.want)
			}
		})
	}
}

func TestGateUsage(t *testing.T) {
	clearGateEnv(t)
	var out, errb bytes.Buffer
	if code := exitCode(run(context.Background(), []string{"gate", "now"}, &out, &errb)); code != exitUsage {
		t.Errorf("gate with an argument: exit %d, want %d", code, exitUsage)
	}
	if err := run(context.Background(), []string{"--help"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"hook gate", "GATE_TIMEOUT", "5 gate"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("--help lacks %q", s)
		}
	}
}

// TestGateNotLocatable: without a cluster the gate cannot find its app: exit 3.
func TestGateNotLocatable(t *testing.T) {
	clearGateEnv(t)
	var out, errb bytes.Buffer
	if code := exitCode(run(context.Background(), []string{"gate"}, &out, &errb)); code != exitUnreadable {
		t.Errorf("exit %d, want %d", code, exitUnreadable)
	}
}

func TestExitCodeRollout(t *testing.T) {
	if got := exitCode(kindError{errRollout, errors.New("Deployment web: …")}); got != exitRollout || exitRollout != 5 {
		t.Errorf("exit %d, want 5", got)
	}
}

func TestWriteTerminationLog(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "termination-log")
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))

	writeTerminationLog(path, "Deployment web: pod web-1: container \"app\" CrashLoopBackOff", log)
	if b, _ := os.ReadFile(path); string(b) != "Deployment web: pod web-1: container \"app\" CrashLoopBackOff\n" {
		t.Errorf("wrote %q", b)
	}

	long := strings.Repeat("é", 3000) // 6000 bytes
	writeTerminationLog(path, long, log)
	b, _ := os.ReadFile(path)
	if len(b) > 4096 || !utf8.Valid(b) || !strings.HasSuffix(strings.TrimSpace(string(b)), "…") {
		t.Errorf("long cause: %d bytes, valid %v", len(b), utf8.Valid(b))
	}

	writeTerminationLog(filepath.Join(dir, "missing", "log"), "x", log)
	if !strings.Contains(logs.String(), "cannot write the termination message") {
		t.Error("a write error is not logged")
	}
}

// TestJobDeadline: the gate's hard end is its Job's start plus
// activeDeadlineSeconds, so the gate can end its watch before the kubelet
// kills it.
func TestJobDeadline(t *testing.T) {
	started := time.Date(2026, 3, 1, 12, 0, 30, 0, time.UTC)
	job := func(fields map[string]any) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: fields}
	}
	for _, tc := range []struct {
		name string
		job  *unstructured.Unstructured
		want time.Time
	}{
		{"unreadable", nil, time.Time{}},
		{"no deadline", job(map[string]any{"spec": map[string]any{}}), time.Time{}},
		{"from the Job's start", job(map[string]any{"spec": map[string]any{"activeDeadlineSeconds": int64(660)},
			"status": map[string]any{"startTime": "2026-03-01T12:00:00Z"}}), time.Date(2026, 3, 1, 12, 11, 0, 0, time.UTC)},
		{"not started yet: from the process start", job(map[string]any{"spec": map[string]any{"activeDeadlineSeconds": int64(60)}}), started.Add(time.Minute)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := jobDeadline(tc.job, started); !got.Equal(tc.want) {
				t.Errorf("jobDeadline = %s, want %s", got, tc.want)
			}
		})
	}
}
