package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/syncreport/syncreport/internal/argocd"
)

// checkSlackLimits fails when a rendered message breaks a Block Kit limit
// or carries invalid UTF-8: Slack would reject the whole message.
func checkSlackLimits(t testing.TB, text string, blocks []slack.Block) {
	t.Helper()
	if len(blocks) > maxBlocks {
		t.Fatalf("%d blocks; Slack allows %d", len(blocks), maxBlocks)
	}
	if n := utf8.RuneCountInString(text); n > maxFallbackText || !utf8.ValidString(text) {
		t.Fatalf("fallback text: %d runes, valid UTF-8 %v", n, utf8.ValidString(text))
	}
	check := func(what string, o *slack.TextBlockObject, limit int) {
		if o == nil {
			return
		}
		if n := utf8.RuneCountInString(o.Text); n > limit {
			t.Fatalf("%s: %d chars; limit %d", what, n, limit)
		}
		if !utf8.ValidString(o.Text) {
			t.Fatalf("%s: invalid UTF-8", what)
		}
	}
	for i, b := range blocks {
		switch b := b.(type) {
		case *slack.HeaderBlock:
			check(fmt.Sprintf("block %d header", i), b.Text, maxHeaderText)
		case *slack.SectionBlock:
			check(fmt.Sprintf("block %d section", i), b.Text, maxSectionText)
			if len(b.Fields) > maxFields {
				t.Fatalf("block %d: %d fields; limit %d", i, len(b.Fields), maxFields)
			}
			for j, f := range b.Fields {
				check(fmt.Sprintf("block %d field %d", i, j), f, maxFieldText)
			}
		case *slack.ContextBlock:
			if len(b.ContextElements.Elements) > maxContextElts {
				t.Fatalf("block %d: %d context elements", i, len(b.ContextElements.Elements))
			}
			for _, e := range b.ContextElements.Elements {
				if o, ok := e.(*slack.TextBlockObject); ok {
					check(fmt.Sprintf("block %d context", i), o, maxFieldText)
				}
			}
		}
	}
}

// bigApp is an app of n resources, every failing one with a long message
// in a script other than Latin.
func bigApp(resources, failing, msgLen int, script string) *argocd.Application {
	app := &argocd.Application{Metadata: argocd.Metadata{Name: strings.Repeat("名", 200), Namespace: "argocd"}}
	app.Spec.Project = strings.Repeat("p", 300)
	op := &argocd.OperationState{Phase: "Running", RetryCount: 1}
	op.SyncResult = &argocd.SyncResult{Revision: strings.Repeat("r", 500)}
	for i := range resources {
		e := argocd.ResourceResult{Group: "apps", Kind: "Deployment", Namespace: "ns", Name: fmt.Sprintf("svc-%d", i),
			Status: "Synced", HookPhase: "Running"}
		if i < failing {
			e.HookPhase = "Failed"
			e.Message = strings.Repeat(script, msgLen/utf8.RuneCountInString(script)+1)
		}
		op.SyncResult.Resources = append(op.SyncResult.Resources, e)
	}
	op.SyncResult.Resources = append(op.SyncResult.Resources, argocd.ResourceResult{Kind: "Job", Name: "hook", HookType: "SyncFail", HookPhase: "Running"})
	for i := range 30 {
		op.Operation.Info = append(op.Operation.Info, argocd.Info{Name: fmt.Sprint("k", i), Value: strings.Repeat("<v&>", 1000)})
	}
	app.Status.OperationState = op
	for i := range 100 {
		app.Status.Summary.Images = append(app.Status.Summary.Images, fmt.Sprintf("registry.example.com/very/long/image-%d:%s", i, strings.Repeat("t", 100)))
	}
	return app
}

func TestSlackLimits(t *testing.T) {
	tests := []struct {
		name                       string
		resources, failing, msgLen int
		script                     string
	}{
		{"3000 resources, 400 failures, CJK", 3000, 400, 2000, "日本語のエラー"},
		{"50 failures of 50k characters", 200, 50, 50000, "ошибка "},
		{"emoji and combining marks", 500, 500, 5000, "👩‍👩‍👧‍👦e\u0301"},
		{"markup that must be escaped", 100, 100, 4000, "<!channel> & <@U123>"},
		{"one huge failure", 1, 1, 50000, "x"},
		{"no failures", 3000, 0, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Build(bigApp(tt.resources, tt.failing, tt.msgLen, tt.script), Options{Now: testNow})
			if len(r.Failures) != tt.failing {
				t.Fatalf("report lists %d failures; want all %d", len(r.Failures), tt.failing)
			}
			text, blocks := Slack(r)
			checkSlackLimits(t, text, blocks)
			b, _ := json.Marshal(blocks)
			if tt.failing > 0 && !bytes.Contains(b, []byte("Failing resources")) {
				t.Error("no failure section")
			}
			if bytes.Contains(b, []byte("<!channel>")) {
				t.Error("user text forged a mention")
			}
			if tt.failing >= 400 && !bytes.Contains(b, []byte("more")) {
				t.Error("truncated list does not say how many more")
			}
			// The JSON model never shortens.
			var js bytes.Buffer
			if err := JSON(&js, r); err != nil {
				t.Fatal(err)
			}
			var back Report
			if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Failures) != tt.failing {
				t.Fatalf("JSON round trip: %v, %d failures", err, len(back.Failures))
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"hello", 10, "hello"},
		{"hello", 5, "hello"},
		{"hello!", 5, "hell…"},
		{"日本語テキスト", 4, "日本語…"},
		{"a\xffb", 10, "a\uFFFDb"},
		{"abc", 0, ""},
	}
	for _, tt := range tests {
		if got := truncate(tt.in, tt.n); got != tt.want {
			t.Errorf("truncate(%q, %d) = %q; want %q", tt.in, tt.n, got, tt.want)
		}
	}
}
