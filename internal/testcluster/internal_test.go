//go:build unix

package testcluster

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestDecodeManifests(t *testing.T) {
	tests := []struct {
		name      string
		manifests string
		wantNames []string
		wantErr   bool
	}{
		{name: "empty", manifests: "", wantNames: nil},
		{name: "separators only", manifests: "---\n---\n", wantNames: nil},
		{name: "two documents", manifests: "kind: A\nmetadata: {name: a}\n---\nkind: B\nmetadata: {name: b}\n---\n", wantNames: []string{"a", "b"}},
		{name: "json", manifests: `{"kind":"A","metadata":{"name":"a"}}`, wantNames: []string{"a"}},
		{name: "list", manifests: "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: A, metadata: {name: a}}\n- {apiVersion: v1, kind: B, metadata: {name: b}}\n", wantNames: []string{"a", "b"}},
		{name: "broken", manifests: "kind: [", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := decodeManifests([]byte(tt.manifests))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			var names []string
			for _, o := range objs {
				names = append(names, o.GetName())
			}
			if len(names) != len(tt.wantNames) {
				t.Fatalf("names = %q, want %q", names, tt.wantNames)
			}
			for i := range names {
				if names[i] != tt.wantNames[i] {
					t.Fatalf("names = %q, want %q", names, tt.wantNames)
				}
			}
		})
	}
}

// TestStop starts a cluster of its own to check that Stop leaves no process
// and no directory behind, and that a second Stop is harmless.
func TestStop(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a second cluster")
	}
	t.Setenv(EnvKeep, "")
	c, err := Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	pids := []int{c.etcd.cmd.Process.Pid, c.api.cmd.Process.Pid}
	c.Stop()
	c.Stop()
	for _, pid := range pids {
		// The processes were reaped by Wait, so the pid is gone (or reused by
		// an unrelated process, which would not be in our group).
		if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process group %d still exists after Stop (kill 0: %v)", pid, err)
		}
	}
	if _, err := os.Stat(c.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Dir %s still there after Stop: %v", c.Dir, err)
	}
}

func TestStartErrors(t *testing.T) {
	// fakeBin makes a bin directory whose etcd runs script.
	fakeBin := func(t *testing.T, script string) string {
		dir := t.TempDir()
		for name, body := range map[string]string{"etcd": script, "kube-apiserver": "exit 1"} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	tests := []struct {
		name            string
		bin             string
		ci              string
		wantUnavailable bool
		wantInErr       string
	}{
		{name: "no binaries", bin: t.TempDir(), wantUnavailable: true, wantInErr: "etcd"},
		{name: "no binaries on CI", bin: t.TempDir(), ci: "true", wantUnavailable: false, wantInErr: "not skippable"},
		{name: "etcd dies", bin: fakeBin(t, `echo "line one"; echo "fatal: disk on fire" >&2; exit 3`), wantInErr: "fatal: disk on fire"},
		{name: "etcd dies on CI", bin: fakeBin(t, `echo "fatal: disk on fire" >&2; exit 3`), ci: "true", wantInErr: "exit status 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvToolsBin, tt.bin)
			t.Setenv("CI", tt.ci)
			t.Setenv("TMPDIR", t.TempDir()) // to see that a failed Start cleans up
			c, err := Start(t.Context())
			if err == nil {
				c.Stop()
				t.Fatal("Start succeeded with broken binaries")
			}
			t.Logf("Start: %v", err)
			if got := errors.Is(err, ErrToolsUnavailable); got != tt.wantUnavailable {
				t.Errorf("errors.Is(err, ErrToolsUnavailable) = %v, want %v; err: %v", got, tt.wantUnavailable, err)
			}
			if !strings.Contains(err.Error(), tt.wantInErr) {
				t.Errorf("error does not contain %q: %v", tt.wantInErr, err)
			}
			if left, _ := filepath.Glob(filepath.Join(os.Getenv("TMPDIR"), "testcluster-*")); len(left) > 0 {
				t.Errorf("failed Start left %q behind", left)
			}
		})
	}
}
