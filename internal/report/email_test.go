package report

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// htmlHostile adds to hostile what matters in HTML.
var htmlHostile = []string{
	"<script>alert(1)</script>", `"><img src=x onerror=alert(1)>`, "javascript:alert(1)",
	"<a href=\"https://evil.example\">https://argocd.example.com</a>",
}

func hostileEmailReport() Report {
	r := hostileReport()
	extra := strings.Join(htmlHostile, " | ")
	r.Summary += extra
	r.App.Name += extra
	r.Message += extra
	r.Failures = append(r.Failures, Failure{Kind: extra, Name: extra, Message: extra, Cause: extra, Logs: []string{extra}})
	r.Info = append(r.Info, Info{Name: extra, Value: "javascript:alert(1)"}, Info{Name: "x", Value: "https://evil.example/a\"onmouseover=\"x"})
	return r
}

// TestEmailHTMLEscapesOutsideText: every outside string is inert in the
// HTML part: no element, attribute or link of its own, no raw control or
// bidi character, valid UTF-8 (issue 18).
func TestEmailHTMLEscapesOutsideText(t *testing.T) {
	out, err := EmailHTML(hostileEmailReport())
	if err != nil {
		t.Fatal(err)
	}
	if !utf8.ValidString(out) {
		t.Error("HTML is not valid UTF-8")
	}
	for _, bad := range []string{"<script", "<img", "<!channel>", `href="javascript`, "href=\"https://evil.example\""} {
		if strings.Contains(out, bad) {
			t.Errorf("HTML contains %q", bad)
		}
	}
	// Every element is one of the template's, with no event handler.
	ours := map[string]bool{"html": true, "head": true, "meta": true, "title": true, "body": true, "div": true, "h1": true,
		"h2": true, "table": true, "tr": true, "td": true, "blockquote": true, "ul": true, "li": true, "code": true,
		"br": true, "span": true, "pre": true, "p": true, "a": true, "em": true}
	for _, m := range regexp.MustCompile(`<([a-zA-Z0-9]+)([^>]*)>`).FindAllStringSubmatch(out, -1) {
		if !ours[m[1]] {
			t.Errorf("element %q is not the template's", m[0])
		}
		if regexp.MustCompile(`(?i)\son[a-z]+=`).MatchString(m[2]) {
			t.Errorf("element %q has an event handler", m[0])
		}
	}
	for _, c := range out {
		if c != '\n' && (c == 0x7f || (c >= 0x80 && c <= 0x9f) || hidden(c)) {
			t.Errorf("HTML contains the raw character %U", c)
		}
	}
	// The only links: the app's and the one --info value that is a plain
	// https URL, each showing the URL itself.
	links := regexp.MustCompile(`<a href="([^"]*)"[^>]*>([^<]*)</a>`).FindAllStringSubmatch(out, -1)
	want := map[string]bool{"https://argocd.example.com/applications/argocd/web": true, "https://ci.example.com/1?a=1&amp;b=2": true}
	if len(links) != 2 {
		t.Errorf("%d links, want 2: %q", len(links), links)
	}
	for _, l := range links {
		if !want[l[1]] {
			t.Errorf("unexpected link %q", l[1])
		}
	}
	if n := strings.Count(out, "<a "); n != 2 {
		t.Errorf("%d <a elements, want 2", n)
	}
	if !strings.Contains(out, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the script text is not shown escaped")
	}
	if !strings.Contains(out, `\x1b[2J`) {
		t.Error("ESC is not shown as an escape")
	}
}

// TestEmailSubjectIsOneLine: CR, LF and other controls from outside text
// cannot start a header of their own (header injection).
func TestEmailSubjectIsOneLine(t *testing.T) {
	r := hostileEmailReport()
	r.App.Name = "web\r\nBcc: victim@example.com\nX-Evil: 1"
	r.Revisions = []string{"0123456789abcdef0123456789abcdef01234567"}
	s := EmailSubject(r)
	if strings.ContainsAny(s, "\r\n") {
		t.Errorf("subject has a line break: %q", s)
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f || hidden(c) {
			t.Errorf("subject has the raw character %U", c)
		}
	}
	if want := `Failed: web\x0d\x0aBcc: victim@example.com\x0aX-Evil: 1 0123456`; s != want {
		t.Errorf("subject %q, want %q", s, want)
	}
	if s := EmailSubject(Report{Verdict: Succeeded, App: AppRef{Name: "web"}}); s != "Succeeded: web" {
		t.Errorf("subject %q", s)
	}
	long := EmailSubject(Report{Verdict: Failed, App: AppRef{Name: strings.Repeat("é", 500)}})
	if utf8.RuneCountInString(long) > maxSubject || !utf8.ValidString(long) {
		t.Errorf("long subject not cut to %d runes: %d", maxSubject, utf8.RuneCountInString(long))
	}
}

// TestEmailTextHasNoRawControls: the plain part shows controls as escapes.
func TestEmailTextHasNoRawControls(t *testing.T) {
	out, err := EmailText(hostileEmailReport())
	if err != nil {
		t.Fatal(err)
	}
	if !utf8.ValidString(out) {
		t.Error("text is not valid UTF-8")
	}
	for _, c := range out {
		if c != '\n' && (c == 0x7f || (c >= 0x80 && c <= 0x9f) || hidden(c)) {
			t.Errorf("text contains the raw character %U", c)
		}
	}
}

// FuzzEmailHTML: any report text renders to valid UTF-8 HTML with no
// element from outside.
func FuzzEmailHTML(f *testing.F) {
	for _, h := range append(hostile, htmlHostile...) {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := Report{Verdict: Failed, Summary: s, App: AppRef{Name: s, Namespace: s}, Message: s, Phase: "Failed",
			Failures: []Failure{{Kind: s, Name: s, Message: s, Cause: s, Logs: []string{s}}}, Info: []Info{{Name: s, Value: s}}}
		out, err := EmailHTML(r)
		if err != nil {
			t.Fatal(err)
		}
		if !utf8.ValidString(out) {
			t.Fatal("invalid UTF-8")
		}
		if strings.Count(out, "<a ") > 1 {
			t.Fatalf("outside text made a link: %q", s)
		}
		if strings.ContainsAny(EmailSubject(r), "\r\n") {
			t.Fatal("subject with a line break")
		}
	})
}
