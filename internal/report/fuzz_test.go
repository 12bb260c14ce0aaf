package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/syncreport/syncreport/internal/argocd"
)

// FuzzRender feeds arbitrary Application documents through decoding, the
// verdict and every renderer: never a panic, always valid UTF-8 within
// Slack's limits.
func FuzzRender(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "apps", "*.yaml"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	// Invalid UTF-8 and control characters in names and messages.
	f.Add([]byte("{\"metadata\":{\"name\":\"x\"},\"status\":{\"operationState\":{\"phase\":\"Failed\",\"message\":\"\u001b[2J\u009b<!channel>\xff\",\"syncResult\":{\"resources\":[{\"kind\":\"Pod\",\"name\":\"\xfe\xff\",\"status\":\"SyncFailed\",\"message\":\"\u202e\r\u0000\"}]}}}}"))
	f.Add([]byte(`{"metadata":{"name":"x"},"status":{"operationState":{"phase":"Running","syncResult":{"resources":[{"kind":"Job","name":"\xff","hookPhase":"Failed","message":"\xfe<>"}]}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		app, err := argocd.Decode(data)
		if err != nil {
			return
		}
		r := Build(app, Options{Now: testNow, ArgoCDURL: "https://argocd.example.com"})
		var text, js bytes.Buffer
		if err := Text(&text, r); err != nil {
			t.Fatal(err)
		}
		if err := JSON(&js, r); err != nil {
			t.Fatal(err)
		}
		if !json.Valid(js.Bytes()) {
			t.Fatal("invalid JSON")
		}
		fallback, blocks := Slack(r)
		checkSlackLimits(t, fallback, blocks)
		if _, err := json.Marshal(blocks); err != nil {
			t.Fatal(err)
		}
		if !utf8.Valid(text.Bytes()) {
			t.Fatal("text output is not valid UTF-8")
		}
	})
}

// FuzzRenderOutside feeds arbitrary bytes into the fields no Application
// document reaches through Build: container logs and --info values, besides
// the message and names. Never a panic; the Slack message keeps its limits
// and lets no mention, link or control character through; the text output
// holds no control character but its own newlines.
func FuzzRenderOutside(f *testing.F) {
	for _, h := range hostile {
		f.Add(h, h, h)
	}
	f.Add(strings.Repeat("\xff\xfe", 2000), "https://ci/1", "x\xc3")
	f.Add(strings.Repeat("é", 5000), "https://ci/1?a=1&b=2", strings.Repeat("\u009b", 3000))
	f.Fuzz(func(t *testing.T, log, info, msg string) {
		var logs []string
		for range 10 {
			logs = append(logs, log)
		}
		r := Report{
			Verdict: Failed, Summary: msg, Message: msg, App: AppRef{Name: msg, Namespace: "ns"},
			Info:     []Info{{Name: msg, Value: info}},
			Failures: []Failure{{Kind: "Pod", Name: msg, Message: msg, Cause: msg, Logs: logs}, {Kind: "Job", Name: "j", Logs: []string{log}}},
		}
		text, blocks := Slack(r)
		checkSlackLimits(t, text, blocks)
		raw, err := json.Marshal(blocks)
		if err != nil {
			t.Fatal(err)
		}
		var tree any
		json.Unmarshal(raw, &tree)
		var walk func(v any)
		walk = func(v any) {
			switch v := v.(type) {
			case map[string]any:
				if s, ok := v["text"].(string); ok && v["type"] == "mrkdwn" {
					if m := angle.FindAllString(strings.ReplaceAll(s, "\n", " "), -1); len(m) > 0 {
						for _, l := range m {
							if u, ok := safeURL(info); !ok || l != "<"+u+">" {
								t.Fatalf("mrkdwn: Slack would parse %q in %q", l, s)
							}
						}
					}
				}
				for _, c := range v {
					walk(c)
				}
			case []any:
				for _, c := range v {
					walk(c)
				}
			}
		}
		walk(tree)
		if m := screenActing.FindString(strings.ReplaceAll(text, "\n", " ")); m != "" {
			t.Fatalf("fallback text: raw control %q", m)
		}
		var b bytes.Buffer
		if err := Text(&b, r); err != nil {
			t.Fatal(err)
		}
		if !utf8.Valid(b.Bytes()) {
			t.Fatal("text output is not valid UTF-8")
		}
		if m := screenActing.FindString(b.String()); m != "" {
			t.Fatalf("text output: raw control %q", m)
		}
	})
}
