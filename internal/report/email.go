package report

import (
	"bytes"
	"html"
	"strconv"
	"strings"

	"github.com/syncreport/syncreport/internal/recipients"
)

// verdictWords name the verdict in a subject line, where emoji are noise.
var verdictWords = map[Verdict]string{
	Succeeded:   "Succeeded",
	Failed:      "Failed",
	Degraded:    "Degraded",
	Progressing: "Progressing",
	Unknown:     "Unknown",
}

// verdictColors are the left border of the email, as Slack colours an attachment.
var verdictColors = map[Verdict]string{
	Succeeded:   "#2eb67d",
	Failed:      "#e01e5a",
	Degraded:    "#ecb22e",
	Progressing: "#1d9bd1",
	Unknown:     "#868686",
}

// maxSubject keeps the subject readable in a mail client's list.
const maxSubject = 200

// EmailSubject is "<Verdict>: <app> <short revision>", one line: every
// control character, CR and LF included, is shown as an escape, so outside
// text cannot add a header.
func EmailSubject(r Report) string {
	word := verdictWords[r.Verdict]
	if word == "" {
		word = "Unknown"
	}
	s := word + ": " + r.App.Name
	if revs := ShortRevisions(r.Revisions); len(revs) > 0 {
		s += " " + strings.Join(revs, ", ")
	}
	return truncate(visible(s), maxSubject)
}

// EmailText is the plain-text part: the text report, which already shows
// every control character as an escape.
func EmailText(r Report) (string, error) {
	var b bytes.Buffer
	err := Text(&b, r)
	return b.String(), err
}

// EmailHTML is the HTML part, laid out like the Slack message. Every value
// goes through esc (visible, then HTML escaping, quotes included) and links
// are only made from URLs safeURL accepts, showing the URL itself, so a
// label cannot disguise one. It is written by hand rather than with
// html/template: that package's reflective method calls make the linker
// keep every method of every type, about 3 MB more binary (and resident
// memory) for one page.
func EmailHTML(r Report) (string, error) {
	var b strings.Builder
	w := func(parts ...string) {
		for _, p := range parts {
			b.WriteString(p)
		}
	}
	const (
		keyCell = `<td style="padding:4px 12px 4px 0;font-weight:bold;vertical-align:top;white-space:nowrap">`
		valCell = `<td style="padding:4px 0">`
		small   = `<p style="margin:12px 0 0;font-size:13px;color:#616061">`
	)
	color := verdictColors[r.Verdict]
	if color == "" {
		color = verdictColors[Unknown]
	}
	summary := esc(marks[r.Verdict].symbol + " " + r.Summary)
	w(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>`, summary, `</title></head>
<body style="margin:0;padding:16px;background:#f8f8f8;font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;font-size:15px;color:#1d1c1d">
<div style="max-width:680px;margin:0 auto;background:#fff;border:1px solid #ddd;border-left:6px solid `, color, `;border-radius:6px;padding:16px 20px">
<h1 style="font-size:20px;margin:0 0 12px">`, summary, `</h1>
<table style="border-collapse:collapse;width:100%;margin-bottom:8px">
`)
	app := esc(r.App.Namespace + "/" + r.App.Name)
	if u, ok := htmlURL(r.URL); ok {
		app = htmlLink(u, app)
	}
	w(`<tr>`, keyCell, `Application</td>`, valCell, app, "</td></tr>\n")
	row := func(k, v string) {
		if v != "" {
			w(`<tr>`, keyCell, k, `</td>`, valCell, esc(v), "</td></tr>\n")
		}
	}
	row("Project", r.App.Project)
	row("Destination", destLine(r.Destination))
	row("Revision", strings.Join(ShortRevisions(r.Revisions), ", "))
	if r.Commit != nil {
		row("Commit", truncate(oneLine(r.Commit.Subject), 150)+" — "+r.Commit.Author)
	}
	row("Initiated by", Initiator(r))
	if r.MaxAttempts != 1 && r.Phase != "" {
		row("Attempt", strings.TrimPrefix(AttemptText(r), "attempt "))
	}
	if r.DurationSeconds > 0 {
		row("Duration", Duration(r.DurationSeconds))
	}
	row("Health", joinNonEmpty(" / ", r.Health, r.Sync))
	w("</table>\n")
	if showMessage(r) {
		w(`<blockquote style="margin:8px 0;padding:4px 12px;border-left:4px solid #ddd;color:#555">`,
			esc(oneLine(truncate(r.Message, maxSectionText))), "</blockquote>\n")
	}
	if n := len(r.Failures); n > 0 {
		const most = 50
		w(`<h2 style="font-size:16px;margin:16px 0 8px">Failing resources (`, strconv.Itoa(n), ")</h2>\n", `<ul style="margin:0;padding-left:20px">`, "\n")
		for _, f := range r.Failures[:min(n, most)] {
			w(`<li style="margin-bottom:6px"><code style="background:#f4f4f4;border:1px solid #ddd;border-radius:3px;padding:1px 4px;color:#e01e5a">`,
				esc(truncate(FailureTitle(f), maxFailureLine)), `</code> `, esc(oneLine(truncate(f.Message, maxFailureLine))))
			if f.Cause != "" {
				w(`<br><span style="color:#555">↳ `, esc(oneLine(truncate(f.Cause, maxFailureLine))), `</span>`)
			}
			if len(f.Logs) > 0 {
				w(`<pre style="background:#f4f4f4;border:1px solid #ddd;border-radius:4px;padding:8px;overflow-x:auto;font-size:12px;white-space:pre-wrap">`)
				for _, l := range f.Logs {
					w(esc(l), "\n")
				}
				w(`</pre>`)
			}
			w("</li>\n")
		}
		w("</ul>\n")
		if n > most {
			w("<p>…and ", strconv.Itoa(n-most), " more</p>\n")
		}
	}
	var people []string
	for _, u := range recipients.Users(r.Recipients) {
		people = append(people, u.Value)
	}
	if len(people) > 0 {
		w(`<p style="margin:12px 0 0">cc `, esc(strings.Join(people, ", ")), "</p>\n")
	}
	if len(r.Info) > 0 || len(r.Images) > 0 {
		w(small)
		for _, i := range r.Info {
			v := esc(truncate(i.Value, maxFieldText))
			if u, ok := htmlURL(i.Value); ok {
				v = htmlLink(u, u)
			}
			w(esc(truncate(i.Name, maxFieldText)), "=", v, " · ")
		}
		if len(r.Images) > 0 {
			w("images: ", esc(strings.Join(r.Images, ", ")))
		}
		w("</p>\n")
	}
	if r.Partial {
		w(small, "<em>diagnosis partial: not every live object could be read</em></p>\n")
	}
	w(`<p style="margin:16px 0 0;font-size:12px;color:#868686">sent by syncreport</p>
</div>
</body></html>
`)
	return strings.ToValidUTF8(b.String(), "\uFFFD"), nil
}

// htmlLink is a link to u (from htmlURL) labelled with label (escaped).
func htmlLink(u, label string) string {
	return `<a href="` + u + `" style="color:#1264a3">` + label + `</a>`
}

// esc makes outside text inert in HTML text and attribute values: control
// and bidi characters shown as escapes (visible), then <, >, &, ' and "
// escaped.
func esc(s string) string { return html.EscapeString(visible(s)) }

// htmlURL is raw ready for an href (and as its own label), or false when it
// should not be a link: safeURL's rules, which leave only printable ASCII
// without quotes, <, > or spaces, so escaping & is all HTML needs.
func htmlURL(raw string) (string, bool) {
	u, ok := safeURL(raw) // & already escaped as &amp;, as HTML wants too
	return u, ok
}
