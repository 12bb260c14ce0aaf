package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
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
