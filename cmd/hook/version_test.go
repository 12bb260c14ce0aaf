package main

import (
	"bytes"
	"context"
	"encoding/json"
	"runtime/debug"
	"strings"
	"testing"
)

func TestResolveVersion(t *testing.T) {
	vcs := func(kv ...string) *debug.BuildInfo {
		info := &debug.BuildInfo{Main: debug.Module{Path: "github.com/syncreport/syncreport", Version: "(devel)"}}
		for i := 0; i < len(kv); i += 2 {
			info.Settings = append(info.Settings, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return info
	}
	for _, tc := range []struct {
		name                string
		version, commit, at string
		info                *debug.BuildInfo
		want                [3]string
	}{
		{"ldflags win over build info", "v0.1.0", "abc", "2026-12-01T00:00:00Z",
			vcs("vcs.revision", "def", "vcs.time", "2020-01-01T00:00:00Z"), [3]string{"v0.1.0", "abc", "2026-12-01T00:00:00Z"}},
		{"vcs build info", "", "", "",
			vcs("vcs.revision", "def", "vcs.time", "2020-01-01T00:00:00Z", "vcs.modified", "false"), [3]string{"unknown", "def", "2020-01-01T00:00:00Z"}},
		{"modified tree says dirty", "", "", "",
			vcs("vcs.revision", "def", "vcs.modified", "true"), [3]string{"unknown", "def-dirty", "unknown"}},
		{"go install @version", "", "", "",
			&debug.BuildInfo{Main: debug.Module{Version: "v0.2.0"}}, [3]string{"v0.2.0", "unknown", "unknown"}},
		{"nothing known", "", "", "", vcs(), [3]string{"unknown", "unknown", "unknown"}},
		{"no build info", "", "", "", nil, [3]string{"unknown", "unknown", "unknown"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, c, d := resolveVersion(tc.version, tc.commit, tc.at, tc.info)
			if got := [3]string{v, c, d}; got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestVersionCommand(t *testing.T) {
	defer func(v, c, d string) { version, commit, date = v, c, d }(version, commit, date)
	version, commit, date = "v9.8.7", "0123abcd", "2026-12-02T10:00:00Z"

	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"version"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if want := "syncreport v9.8.7\ncommit: 0123abcd\ndate: 2026-12-02T10:00:00Z\n"; out.String() != want {
		t.Errorf("text: got %q, want %q", out.String(), want)
	}

	out.Reset()
	if err := run(context.Background(), []string{"version", "--format", "json"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("json: %v: %s", err, out.String())
	}
	if got["version"] != "v9.8.7" || got["commit"] != "0123abcd" || got["date"] != "2026-12-02T10:00:00Z" || len(got) != 3 {
		t.Errorf("json: got %v", got)
	}

	for _, args := range [][]string{{"version", "--format", "yaml"}, {"version", "extra"}, {"version", "--nope"}} {
		err := run(context.Background(), args, &out, &errb)
		if exitCode(err) != exitUsage {
			t.Errorf("%v: exit %d (%v), want %d", args, exitCode(err), err, exitUsage)
		}
	}
	err := run(context.Background(), []string{"version", "--format", "yaml"}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "--format") {
		t.Errorf("bad format: error %v does not name --format", err)
	}
}
