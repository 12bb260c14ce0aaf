package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/golden")

// TestGolden renders every fixture in the three formats and compares with
// testdata/golden; run `go test ./internal/report -update` after a deliberate change.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "apps", "*.yaml"))
	if len(files) == 0 {
		t.Fatal("no fixtures")
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			r := Build(loadApp(t, name), Options{Now: testNow, ArgoCDURL: "https://argocd.example.com"})
			var text, js bytes.Buffer
			if err := Text(&text, r); err != nil {
				t.Fatal(err)
			}
			if err := JSON(&js, r); err != nil {
				t.Fatal(err)
			}
			fallback, blocks := Slack(r)
			sl, err := json.MarshalIndent(map[string]any{"text": fallback, "blocks": blocks}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name+".txt", text.Bytes())
			golden(t, name+".json", js.Bytes())
			golden(t, name+".slack.json", append(sl, '\n'))
			// The live message's thread reply, and the gate's "Syncing…".
			rtext, rblocks := SlackReply(r)
			rl, err := json.MarshalIndent(map[string]any{"text": rtext, "blocks": rblocks}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name+".reply.slack.json", append(rl, '\n'))
			stext, _ := Slack(Started(r))
			golden(t, name+".started.txt", []byte(stext+"\n"))
		})
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}
