package report

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Every string in a Report may come from the cluster or from whoever started
// the sync: resource names, messages, termination messages, logs, --info
// values, annotations. Each renderer escapes it for its own sink with the
// functions below; callers never pre-escape.

// visible makes s safe to show in one line of a terminal or a chat message:
// invalid UTF-8 becomes U+FFFD, and every control character (C0, DEL, C1),
// line or paragraph separator and bidirectional formatting character is
// shown as an escape (\x1b, \u009b, \u202e) instead of acting on the
// screen: an ESC sequence could clear it and print a fake status, a CR or
// newline forge a line, a bidi override reorder what is read. Tabs stay
// (stack traces are indented with them).
func visible(s string) string {
	clean := true
	for _, c := range s {
		if c == utf8.RuneError || hidden(c) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	invalid := false // in a run of invalid bytes: one U+FFFD per run, as strings.ToValidUTF8
	for len(s) > 0 {
		c, size := utf8.DecodeRuneInString(s)
		if c == utf8.RuneError && size == 1 {
			if !invalid {
				b.WriteRune(utf8.RuneError)
			}
			invalid = true
			s = s[1:]
			continue
		}
		invalid = false
		switch {
		case (c < 0x20 && c != '\t') || c == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		case hidden(c):
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteRune(c)
		}
		s = s[size:]
	}
	return b.String()
}

// hidden reports the characters visible escapes, other than invalid UTF-8.
func hidden(c rune) bool {
	switch {
	case c < 0x20 && c != '\t', c == 0x7f, c >= 0x80 && c <= 0x9f: // C0, DEL, C1
		return true
	case c == 0x2028, c == 0x2029: // line and paragraph separators
		return true
	case c == 0x200e, c == 0x200f, c == 0x061c, // LRM, RLM, ALM
		c >= 0x202a && c <= 0x202e, // LRE, RLE, PDF, LRO, RLO
		c >= 0x2066 && c <= 0x2069: // LRI, RLI, FSI, PDI
		return true
	}
	return false
}

// escape makes outside text safe in Slack mrkdwn, the fallback text
// included: visible first, then Slack's three escapes so the text cannot
// forge a mention (<!channel>, <@U123>) or a link (<https://evil|label>).
// https://docs.slack.dev/messaging/formatting-message-text#escaping
func escape(s string) string {
	return mrkdwnEscaper.Replace(visible(s))
}

var mrkdwnEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// plain makes outside text safe in a Block Kit plain_text object: Slack
// shows it literally (no mentions, no links), so only the characters that
// act on the screen are escaped.
func plain(s string) string { return visible(s) }

// safeURL returns raw ready to put inside a Slack link (<url|label> or
// <url>), or false when it should not be a link at all: not an absolute
// http(s) URL, or holding a character Slack's link syntax gives a meaning
// to (<, >, |), whitespace, a control character or anything outside ASCII
// (which could disguise the host). & is escaped as Slack asks.
func safeURL(raw string) (string, bool) {
	if raw == "" || !linkChars.MatchString(raw) {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return "", false
	}
	return strings.ReplaceAll(raw, "&", "&amp;"), true
}

// linkChars is printable ASCII without space, <, >, | and the quote marks
// and backslash no URL needs.
var linkChars = regexp.MustCompile(`^[!#-;=?-\[\]-{}~]+$`)

// link is a Slack link to raw labelled with label (already escaped), or the
// label alone when raw is not a safe URL.
func link(raw, label string) string {
	u, ok := safeURL(raw)
	if !ok {
		return label
	}
	return "<" + u + "|" + label + ">"
}

// slackID matches the IDs Slack gives users, bots and channels; anything else
// in a Recipient's SlackID is shown as text, never as a mention.
var slackID = regexp.MustCompile(`^[A-Z][A-Z0-9]{2,}$`)
