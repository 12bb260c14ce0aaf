package report

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/syncreport/syncreport/internal/recipients"
)

// hostile strings: each is put in every field of a report that comes from
// the cluster or from whoever started the sync.
var hostile = []string{
	"<!channel>", "<!here>", "<@U123>", "<#C123>", "<!subteam^S123>",
	"<https://evil.example/phish|https://sso.example.com/login>",
	"https://ci/1> <!channel> <https://evil.example/phish",
	"a & b &lt;",
	"\x1b[2J\x1b[H✓ web synced and healthy",
	"csi\u009b31mred",
	"cr\rover", "bel\a", "nul\x00", "del\x7f",
	"line\nforged", "sep\u2028forged",
	"bidi \u202egnp.exe\u202c and \u2066isolate\u2069",
	"invalid \xff\xfe utf-8 \xc3",
}

// hostileReport puts every hostile string into every outside field.
func hostileReport() Report {
	all := strings.Join(hostile, " | ")
	r := Report{
		Verdict: Failed, Summary: all + " sync failed",
		App:   AppRef{Name: all, Namespace: all, Project: all},
		Phase: "Failed", Message: all, Health: all, Sync: all,
		Destination: Destination{Server: all, Namespace: all},
		Revisions:   []string{all},
		InitiatedBy: all,
		Images:      []string{all},
		Commit:      &Commit{Author: all, Subject: all},
		URL:         "https://argocd.example.com/applications/argocd/web",
		Recipients: []recipients.Recipient{
			{Kind: recipients.User, Value: "<!channel>@example.com", SlackID: "<!channel>"},
			{Kind: recipients.User, Value: "alice@example.com", SlackID: "U0ALICE"},
		},
	}
	for _, h := range hostile {
		r.Info = append(r.Info, Info{Name: h, Value: h})
		r.Failures = append(r.Failures, Failure{Kind: h, Namespace: h, Name: h, HookType: h, Message: h, Cause: h, Logs: []string{h, all}})
	}
	// The one --info value that may become a link, with a name that tries to
	// disguise it.
	r.Info = append(r.Info[:0], append([]Info{{Name: "https://sso.example.com", Value: "https://ci.example.com/1?a=1&b=2"}}, r.Info...)...)
	return r
}

// allowedLinks are the only <…> sequences the hostile report may produce in
// mrkdwn: ours, built from trusted or checked values.
var allowedLinks = map[string]bool{
	"<https://argocd.example.com/applications/argocd/web|": true, // the app link; its label is escaped
	"<https://ci.example.com/1?a=1&amp;b=2>":               true,
	"<@U0ALICE>":                                           true,
}

var angle = regexp.MustCompile(`<[^<>|]*[|>]`)

// screenActing matches what must never reach a terminal or a chat client
// raw: C0 controls but tab and newline, DEL, C1, separators, bidi controls.
var screenActing = regexp.MustCompile("[\x00-\x08\x0b-\x1f\x7f\u0080-\u009f\u2028\u2029\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")

func checkMrkdwn(t *testing.T, where, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Errorf("%s: invalid UTF-8: %q", where, s)
	}
	if m := screenActing.FindString(s); m != "" || strings.Contains(s, "\t") {
		t.Errorf("%s: raw control %q in %q", where, m, s)
	}
	for _, m := range angle.FindAllString(s, -1) {
		if !allowedLinks[m] {
			t.Errorf("%s: Slack would parse %q (in %q)", where, m, s)
		}
	}
	// A bare & that does not start one of the three escapes.
	if i := regexp.MustCompile(`&(?:amp;|lt;|gt;)?`).FindAllString(s, -1); len(i) > 0 {
		for _, e := range i {
			if e == "&" {
				t.Errorf("%s: unescaped & in %q", where, s)
				break
			}
		}
	}
}

// TestSlackEscapesHostileText: no mention, link or control character from
// outside text survives in any field Slack parses (issue 13 items 11, 12).
func TestSlackEscapesHostileText(t *testing.T) {
	text, blocks := Slack(hostileReport())
	checkSlackLimits(t, text, blocks)
	checkMrkdwn(t, "fallback text", strings.ReplaceAll(text, "\n", " "))
	if strings.Contains(text, "\nforged") || strings.Contains(text, "\rover") {
		t.Errorf("fallback text: outside text forged a line: %q", text)
	}
	raw, err := json.Marshal(blocks)
	if err != nil {
		t.Fatal(err)
	}
	var tree any
	if err := json.Unmarshal(raw, &tree); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	n := 0
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if s, ok := v["text"].(string); ok {
				n++
				switch v["type"] {
				case "mrkdwn":
					checkMrkdwn(t, "mrkdwn", strings.ReplaceAll(s, "\n", " "))
				case "plain_text":
					if m := screenActing.FindString(s); m != "" || !utf8.ValidString(s) {
						t.Errorf("plain_text: raw control %q in %q", m, s)
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
	if n < 10 {
		t.Fatalf("only %d text objects found", n)
	}
	for _, want := range []string{"=<https://ci.example.com/1?a=1&amp;b=2>", "<@U0ALICE>", "&lt;!channel&gt;", `\x1b[2J`, `\u202e`, `\u009b`} {
		if !strings.Contains(string(raw), strings.NewReplacer("<", `\u003c`, ">", `\u003e`, "&", `\u0026`, `\`, `\\`).Replace(want)) {
			t.Errorf("blocks lack %q", want)
		}
	}
}

// TestSlackInfoLinks: only a well-formed http(s) URL with nothing Slack's link
// syntax gives a meaning to becomes a link (issue 13 item 11).
func TestSlackInfoLinks(t *testing.T) {
	tests := []struct {
		value, want string
	}{
		{"https://ci.example.com/team/web/-/pipelines/4711", "pipeline=<https://ci.example.com/team/web/-/pipelines/4711>"},
		{"https://ci/1?x=1&y=2", "pipeline=<https://ci/1?x=1&amp;y=2>"},
		{"https://ci/1> <!channel> <https://evil.example/phish", "pipeline=https://ci/1&gt; &lt;!channel&gt; &lt;https://evil.example/phish"},
		{"https://ci/1|https://sso.example.com", "pipeline=https://ci/1|https://sso.example.com"},
		{"https://ci/1 x", "pipeline=https://ci/1 x"},
		{"https://user:pw@ci/1", "pipeline=https://user:pw@ci/1"},
		{"https://cі.example.com/1", "pipeline=https://cі.example.com/1"}, // Cyrillic і
		{"javascript:alert(1)", "pipeline=javascript:alert(1)"},
		{"http:///nohost", "pipeline=http:///nohost"},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			r := Report{Verdict: Failed, Summary: "s", Info: []Info{{Name: "pipeline", Value: tt.value}}}
			_, blocks := Slack(r)
			raw, _ := json.Marshal(blocks[len(blocks)-1])
			var ctx struct {
				Elements []struct{ Text string } `json:"elements"`
			}
			json.Unmarshal(raw, &ctx)
			if len(ctx.Elements) != 1 || ctx.Elements[0].Text != tt.want {
				t.Errorf("got %+v, want %q", ctx.Elements, tt.want)
			}
		})
	}
}

// TestTextEscapesControls: --format text and the stdout notifier show
// control and bidi characters as escapes, and outside text cannot start a
// line of its own (issue 13 item 13).
func TestTextEscapesControls(t *testing.T) {
	var b bytes.Buffer
	if err := Text(&b, hostileReport()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !utf8.ValidString(out) {
		t.Error("invalid UTF-8")
	}
	if m := screenActing.FindString(out); m != "" {
		t.Errorf("raw control %q in the text output:\n%s", m, out)
	}
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, "forged") || strings.HasPrefix(line, "over") || strings.HasPrefix(line, "✓") {
			t.Errorf("outside text started a line: %q", line)
		}
	}
	for _, want := range []string{`\x1b[2J`, `\u009b`, `\r`, `\x07`, `\x00`, `\n`, `\u202e`, "\uFFFD"} {
		want = strings.ReplaceAll(want, `\r`, `\x0d`)
		want = strings.ReplaceAll(want, `\n`, `\x0a`)
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

// TestLogsInvalidUTF8 is the panic of issue 13 item 16: log lines of a
// crashing binary, long and not UTF-8.
func TestLogsInvalidUTF8(t *testing.T) {
	line := strings.Repeat("\xff\xfe", 300) + "x"
	var logs []string
	for range 20 {
		logs = append(logs, line)
	}
	r := Report{Verdict: Failed, Summary: "s", Failures: []Failure{{Kind: "Pod", Name: "p", Logs: logs}}}
	text, blocks := Slack(r)
	checkSlackLimits(t, text, blocks)
	var b bytes.Buffer
	if err := Text(&b, r); err != nil || !utf8.Valid(b.Bytes()) {
		t.Errorf("text: %v, valid UTF-8 %v", err, utf8.Valid(b.Bytes()))
	}
}

func TestVisible(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain ✓ text\twith tab", "plain ✓ text\twith tab"},
		{"\x1b[2J", `\x1b[2J`},
		{"a\u009bb", `a\u009bb`},
		{"\r\n\a\x00\x7f", `\x0d\x0a\x07\x00\x7f`},
		{"\u202eabc", `\u202eabc`},
		{"a\xff\xfe\xfdb\xc3", "a\uFFFDb\uFFFD"},
		{"real \uFFFD stays", "real \uFFFD stays"},
	}
	for _, tt := range tests {
		if got := visible(tt.in); got != tt.want {
			t.Errorf("visible(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestSlackReplyEscapesHostileText: the live message's thread reply and the
// gate's "Syncing…" message escape outside text as the message does.
func TestSlackReplyEscapesHostileText(t *testing.T) {
	final := hostileReport()
	final.Verdict, final.WillRetry, final.Attempt, final.MaxAttempts = Failed, false, 6, 6
	for name, render := range map[string]func() (string, []slack.Block){
		"reply":       func() (string, []slack.Block) { return SlackReply(hostileReport()) },
		"final reply": func() (string, []slack.Block) { return SlackReply(final) },
		"started":     func() (string, []slack.Block) { return Slack(Started(hostileReport())) },
	} {
		t.Run(name, func(t *testing.T) {
			text, blocks := render()
			checkSlackLimits(t, text, blocks)
			checkMrkdwn(t, "fallback text", strings.ReplaceAll(text, "\n", " "))
			raw, err := json.Marshal(blocks)
			if err != nil {
				t.Fatal(err)
			}
			var tree any
			if err := json.Unmarshal(raw, &tree); err != nil {
				t.Fatal(err)
			}
			n := 0
			var walk func(v any)
			walk = func(v any) {
				switch v := v.(type) {
				case map[string]any:
					if s, ok := v["text"].(string); ok {
						n++
						if v["type"] == "mrkdwn" {
							checkMrkdwn(t, "mrkdwn", strings.ReplaceAll(s, "\n", " "))
						} else if m := screenActing.FindString(s); m != "" || !utf8.ValidString(s) {
							t.Errorf("plain_text: raw control %q in %q", m, s)
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
			if n < 2 {
				t.Fatalf("only %d text objects", n)
			}
		})
	}
	// The final reply is broadcast: it tells the people concerned.
	if text, _ := SlackReply(final); !strings.Contains(text, "<@U0ALICE>") {
		t.Errorf("final reply mentions nobody: %q", text)
	}
}
