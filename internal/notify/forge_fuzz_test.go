package notify_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/syncreport/syncreport/internal/notify"
)

// FuzzStatusText: whatever the cluster says, a provider field is valid
// UTF-8, one line without control or bidi characters, within the limit in
// characters.
func FuzzStatusText(f *testing.F) {
	for _, s := range []string{"", "plain", "a\nb", "\x1b[2J\u202e", "\xff\xfe", strings.Repeat("é", 300), "<!channel>"} {
		f.Add(s, 140)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		max = max%300 + 1
		if max < 1 {
			max = -max + 1
		}
		got := notify.StatusText(s, max)
		if !utf8.ValidString(got) || utf8.RuneCountInString(got) > max {
			t.Fatalf("StatusText(%q, %d) = %q", s, max, got)
		}
		for _, c := range got {
			if unicode.IsControl(c) || c == 0x2028 || c == 0x2029 || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) {
				t.Fatalf("StatusText(%q) = %q keeps %U", s, got, c)
			}
		}
	})
}

// FuzzParseRepoURL: a parsed path is only name characters in segments, so
// it cannot add a query, a fragment or "..", and the host carries no user.
func FuzzParseRepoURL(f *testing.F) {
	for _, s := range []string{"https://github.com/acme/web.git", "git@github.com:acme/web.git",
		"ssh://git@h:22/g/s/r.git", "https://u:p@h/a/b?x#y", "https://h/a/%2e%2e/b", "git@h:../x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := notify.ParseRepoURL(s)
		if err != nil {
			return
		}
		if r.Host == "" || strings.ContainsAny(r.Host, "/?#@ \t\r\n") {
			t.Fatalf("ParseRepoURL(%q): host %q", s, r.Host)
		}
		for _, seg := range strings.Split(r.Path, "/") {
			if seg == "" || seg == "." || seg == ".." || strings.Trim(seg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != "" {
				t.Fatalf("ParseRepoURL(%q): path %q", s, r.Path)
			}
		}
	})
}
