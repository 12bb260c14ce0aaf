// Command reportsvg draws the README's picture of a Slack report: it builds
// the reports of a sample sync failing six attempts (with a live-object
// cause and a mention), renders the exact Block Kit blocks the hook posts,
// and lays them out as an SVG that looks like the message in Slack: its
// life (syncing → failed, attempt 3 of 6 → failed after 6 attempts), the
// message as it ends, and its thread, one reply per attempt. With -text it
// prints the same report as `hook render --format text` and the stdout
// notifier print it: the README's terminal example.
//
//	go run ./hack/reportsvg > docs/report.svg
//	go run ./hack/reportsvg -text
//
// TestPicture fails when docs/report.svg is stale, TestTerminalExample when
// the README's terminal example is not this report.
package main

import (
	"flag"
	"fmt"
	"html"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/syncreport/syncreport/internal/argocd"
	"github.com/syncreport/syncreport/internal/health"
	"github.com/syncreport/syncreport/internal/recipients"
	"github.com/syncreport/syncreport/internal/report"
)

const sampleApp = "internal/report/testdata/apps/first-attempt.yaml"

func main() {
	text := flag.Bool("text", false, "print the report as text (the README's terminal example) instead of the SVG")
	flag.Parse()
	run := run
	if *text {
		run = runText
	}
	if err := run(os.Stdout, "."); err != nil {
		fmt.Fprintln(os.Stderr, "reportsvg:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, root string) error {
	var attempts []report.Report
	for n := int64(1); n <= maxAttempts; n++ {
		r, err := sampleAt(root, n)
		if err != nil {
			return err
		}
		attempts = append(attempts, r)
	}
	final := attempts[maxAttempts-1]
	// The message's life: what its header read, when.
	life := []string{headerOf(report.Started(attempts[0])), headerOf(attempts[2]), headerOf(final)}
	_, blocks := report.Slack(final)
	var thread [][]slack.Block
	for _, r := range attempts {
		_, b := report.SlackReply(r)
		thread = append(thread, b[:1]) // the reply's first line; its failures are those above
	}
	return draw(w, life, blocks, thread)
}

// maxAttempts is the sample's retry limit plus one.
const maxAttempts = 6

func headerOf(r report.Report) string {
	_, blocks := report.Slack(r)
	return blocks[0].(*slack.HeaderBlock).Text.Text
}

func runText(w io.Writer, root string) error {
	r, err := sample(root)
	if err != nil {
		return err
	}
	return report.Text(w, r)
}

// sample is the report both pictures show: sampleApp with --info entries,
// an image, the cause the hook finds in the live pods, and a resolved
// mention (render has neither a cluster nor Slack, so it shows no cause).
func sample(root string) (report.Report, error) { return sampleAt(root, 1) }

// sampleAt is the sample at attempt n of maxAttempts; the last one failed
// for good.
func sampleAt(root string, n int64) (report.Report, error) {
	b, err := os.ReadFile(root + "/" + sampleApp)
	if err != nil {
		return report.Report{}, err
	}
	app, err := argocd.Decode(b)
	if err != nil {
		return report.Report{}, err
	}
	app.Status.OperationState.Operation.Info = []argocd.Info{
		{Name: "notify", Value: "alice@example.com"},
		{Name: "pipeline", Value: "https://gitlab.example.com/team/web/-/pipelines/4711"},
	}
	app.Status.Summary.Images = []string{"ghcr.io/team/web:1.5.0"}
	op := app.Status.OperationState
	op.RetryCount = n - 1
	if n == maxAttempts {
		op.Phase, op.Message = "Failed", "one or more synchronization tasks completed unsuccessfully (retried 5 times)."
	}
	now := app.Status.OperationState.StartedAt.Add(75 * time.Second)
	r := report.Build(app, report.Options{Now: now, ArgoCDURL: "https://argocd.example.com"})
	report.ApplyDiagnosis(&r, &health.Diagnosis{Results: []health.Result{{
		Ref:     argocd.Ref{Group: "apps", Kind: "Deployment", Namespace: "web", Name: "web"},
		Status:  health.StatusDegraded,
		Message: `Deployment "web" exceeded its progress deadline`,
		Cause:   `pod web-7d9f-x2: container "app" CrashLoopBackOff, exit code 1 (3 restarts): panic: DATABASE_URL not set`,
	}}})
	r.Recipients = recipients.Collect(app, string(r.Verdict), recipients.Settings{Channel: "#deploys"})
	for i := range r.Recipients {
		if r.Recipients[i].Value == "alice@example.com" {
			r.Recipients[i].SlackID = "UALICE"
		}
	}
	return r, nil
}

// Layout constants, in pixels.
const (
	width    = 760
	left     = 72
	textW    = width - left - 24
	charW    = 7.6 // average width of a 14px sans-serif character
	lineH    = 21
	fieldGap = 14
	// contextChars fits the smaller context text on one line.
	contextChars = 100
)

type canvas struct {
	b strings.Builder
	y float64
}

func (c *canvas) text(x, y float64, s, style string) {
	fmt.Fprintf(&c.b, `<text x="%.0f" y="%.0f" %s>%s</text>`+"\n", x, y, style, s)
}

func draw(w io.Writer, life []string, blocks []slack.Block, thread [][]slack.Block) error {
	c := &canvas{y: 30}
	c.text(24, c.y, "One message per sync, updated in place:", `class="context"`)
	for i, h := range life {
		c.y += 22
		c.text(24, c.y, []string{"10:00", "10:03", "10:09"}[i], `class="time"`)
		c.text(left, c.y, inline(emoji(h)), "")
	}
	c.y += 16
	fmt.Fprintf(&c.b, `<line x1="20" y1="%.0f" x2="%d" y2="%.0f" stroke="#dddddd"/>`+"\n", c.y, width-20, c.y)
	c.y += 24
	avatar(c)
	c.text(left, c.y, "syncreport", `class="name"`)
	c.text(left+92, c.y, "APP", `class="badge"`)
	c.text(left+124, c.y, "10:01", `class="time"`)
	c.y += 10
	for _, bl := range blocks {
		switch bl := bl.(type) {
		case *slack.HeaderBlock:
			c.y += 26
			c.text(left, c.y, inline(emoji(bl.Text.Text)), `class="header"`)
			c.y += 6
		case *slack.SectionBlock:
			c.y += 8
			if bl.Text != nil {
				c.paragraph(bl.Text.Text, textW)
			}
			for i := 0; i < len(bl.Fields); i += 2 {
				top := c.y
				bottom := top
				for j := i; j < i+2 && j < len(bl.Fields); j++ {
					c.y = top
					c.x(float64(left+(j-i)*(textW/2)), bl.Fields[j].Text, textW/2-fieldGap)
					bottom = max(bottom, c.y)
				}
				c.y = bottom + 4
			}
		case *slack.ContextBlock:
			c.y += 8
			var parts []string
			for _, e := range bl.ContextElements.Elements {
				if t, ok := e.(*slack.TextBlockObject); ok {
					parts = append(parts, t.Text)
				}
			}
			for _, l := range wrap(strings.Join(parts, "  ·  "), contextChars) {
				c.y += 18
				c.text(left, c.y, inline(l), `class="context"`)
			}
		}
	}
	c.y += 18
	c.text(left, c.y, fmt.Sprintf("%d replies", len(thread)), `class="link b"`)
	c.y += 8
	fmt.Fprintf(&c.b, `<line x1="%d" y1="%.0f" x2="%d" y2="%.0f" stroke="#dddddd"/>`+"\n", left, c.y, width-20, c.y)
	for i, reply := range thread {
		c.y += 4
		for _, bl := range reply {
			if sec, ok := bl.(*slack.SectionBlock); ok && sec.Text != nil {
				c.x(left+16, emoji(sec.Text.Text), textW-16)
			}
		}
		if i == len(thread)-1 {
			c.y += 16
			c.text(left+16, c.y, "Also sent to #deploys", `class="context"`)
		}
	}
	height := c.y + 24
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%.0f" viewBox="0 0 %d %.0f" role="img" aria-label="A syncreport message in Slack">
<style>
text { font-family: -apple-system, "Segoe UI", Lato, "Helvetica Neue", Arial, sans-serif; font-size: 14px; fill: #1d1c1d; }
.name { font-weight: 700; font-size: 15px; } .badge { font-size: 10px; fill: #616061; } .time { font-size: 12px; fill: #616061; }
.header { font-size: 18px; font-weight: 700; } .b { font-weight: 700; } .link { fill: #1264a3; }
.code { font-family: Menlo, Consolas, monospace; font-size: 12.5px; fill: #e01e5a; } .mention { fill: #1264a3; font-weight: 600; }
.context { font-size: 12.5px; fill: #616061; } .quote { fill: #616061; }
</style>
<rect width="100%%" height="100%%" rx="8" fill="#ffffff" stroke="#dddddd"/>
%s</svg>
`, width, height, width, height, c.b.String())
	return nil
}

// avatar draws the app's icon beside the message's first line.
func avatar(c *canvas) {
	fmt.Fprintf(&c.b, `<rect x="20" y="%.0f" width="38" height="38" rx="6" fill="#ef7b4d"/>`+"\n", c.y-16)
	fmt.Fprintf(&c.b, `<text x="39" y="%.0f" text-anchor="middle" style="fill:#fff;font-weight:700;font-size:16px">sr</text>`+"\n", c.y+9)
}

// x draws mrkdwn text in a column starting at x0.
func (c *canvas) x(x0 float64, s string, w int) {
	for _, para := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		for _, l := range wrap(para, int(float64(w)/charW)) {
			c.y += lineH
			c.text(x0, c.y, inline(l), "")
		}
	}
}

func (c *canvas) paragraph(s string, w int) { c.x(left, s, w) }

var (
	linkRe    = regexp.MustCompile(`&lt;(https?://[^|]*)\|([^&]*)&gt;`)
	mentionRe = regexp.MustCompile(`&lt;@([A-Z0-9]+)&gt;`)
	boldRe    = regexp.MustCompile(`\*([^*]+)\*`)
	codeRe    = regexp.MustCompile("`([^`]+)`")
)

// inline turns Slack mrkdwn into SVG tspans: bold, code, links, mentions.
// Slack's own escapes (&lt; &gt; &amp;) are already XML escapes.
func inline(s string) string {
	s = strings.ReplaceAll(s, "&amp;", "\x00")
	s = strings.ReplaceAll(html.UnescapeString(strings.ReplaceAll(s, "\x00", "&amp;")), "&", "&amp;")
	s = strings.NewReplacer("<", "&lt;", ">", "&gt;").Replace(s)
	s = linkRe.ReplaceAllString(s, `<tspan class="link">$2</tspan>`)
	s = mentionRe.ReplaceAllString(s, `<tspan class="mention">@alice</tspan>`)
	s = boldRe.ReplaceAllString(s, `<tspan class="b">$1</tspan>`)
	s = codeRe.ReplaceAllString(s, `<tspan class="code">$1</tspan>`)
	s = strings.NewReplacer("\x01", `<tspan style="fill:`, "\x02", `">`, "\x03", `</tspan>`).Replace(s)
	if strings.HasPrefix(s, "&gt; ") {
		s = `<tspan class="quote">│ ` + s[5:] + `</tspan>`
	}
	return s
}

// emoji draws the verdict emoji as a coloured symbol that every SVG
// renderer has a glyph for.
func emoji(s string) string {
	sym := func(c, color string) string { return "\x01" + color + "\x02" + c + "\x03" }
	return strings.NewReplacer(":x:", sym("✖", "#e01e5a"), ":white_check_mark:", sym("✔", "#2eb67d"),
		":warning:", sym("▲", "#ecb22e"), ":hourglass_flowing_sand:", sym("…", "#616061"),
		":grey_question:", sym("?", "#616061")).Replace(s)
}

// wrap breaks s into lines of at most n runes at spaces.
func wrap(s string, n int) []string {
	var lines []string
	var cur []rune
	for _, word := range strings.Fields(s) {
		wr := []rune(word)
		if len(cur) > 0 && len(cur)+1+len(wr) > n {
			lines = append(lines, string(cur))
			cur = nil
		}
		if len(cur) > 0 {
			cur = append(cur, ' ')
		}
		cur = append(cur, wr...)
	}
	if len(cur) > 0 || len(lines) == 0 {
		lines = append(lines, string(cur))
	}
	return lines
}
