package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// emoji and label per verdict; the Slack header and the text summary share them.
var marks = map[Verdict]struct{ emoji, symbol string }{
	Succeeded:   {":white_check_mark:", "✓"},
	Failed:      {":x:", "✗"},
	Degraded:    {":warning:", "!"},
	Progressing: {":hourglass_flowing_sand:", "…"},
	Unknown:     {":grey_question:", "?"},
}

// JSON writes the report model, indented; `hook render --format json`.
func JSON(w io.Writer, r Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// Text writes a terminal-friendly summary; every failure is listed. Every
// piece of outside text goes through visible, so that it can neither act on
// the terminal (ESC, C1, bidi) nor start a line of its own.
func Text(w io.Writer, r Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", marks[r.Verdict].symbol, visible(r.Summary))
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "  %-13s %s\n", k, visible(v))
		}
	}
	row("app", appLine(r))
	row("destination", destLine(r.Destination))
	row("revision", strings.Join(ShortRevisions(r.Revisions), ", "))
	if r.Commit != nil {
		row("commit", oneLine(r.Commit.Subject)+" — "+r.Commit.Author)
	}
	row("initiated by", Initiator(r))
	// A failed sync's summary already says which attempt it was.
	if r.MaxAttempts != 1 && r.Phase != "" && !strings.Contains(r.Summary, AttemptText(r)) {
		row("attempt", strings.TrimPrefix(AttemptText(r), "attempt "))
	}
	row("phase", joinNonEmpty(" / ", r.Phase, r.Hook))
	row("health", joinNonEmpty(" / ", r.Health, r.Sync))
	if r.DurationSeconds > 0 {
		row("duration", Duration(r.DurationSeconds))
	} else if r.StartedAt != nil && r.FinishedAt == nil {
		// A saved document rendered later: no duration up to the wall clock.
		row("running since", r.StartedAt.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	for _, i := range r.Info {
		row("info", i.Name+"="+i.Value)
	}
	row("images", strings.Join(r.Images, ", "))
	if showMessage(r) {
		row("message", oneLine(r.Message))
	}
	if len(r.Failures) > 0 {
		fmt.Fprintf(&b, "  failures (%d):\n", len(r.Failures))
		for _, f := range r.Failures {
			fmt.Fprintf(&b, "    - %s: %s\n", visible(FailureTitle(f)), visible(oneLine(f.Message)))
			if f.Cause != "" {
				fmt.Fprintf(&b, "      cause: %s\n", visible(oneLine(f.Cause)))
			}
			for _, l := range f.Logs {
				fmt.Fprintf(&b, "      | %s\n", visible(l))
			}
		}
	}
	if r.Partial {
		b.WriteString("  (diagnosis partial: not every live object could be read)\n")
	}
	row("link", r.URL)
	_, err := io.WriteString(w, strings.ToValidUTF8(b.String(), "\uFFFD"))
	return err
}

// FailureTitle names a failing object the way kubectl users read it:
// "Job web/db-migrate (PreSync hook)".
func FailureTitle(f Failure) string {
	s := f.Kind + " "
	if f.Namespace != "" {
		s += f.Namespace + "/"
	}
	s += f.Name
	if f.HookType != "" {
		s += " (" + f.HookType + " hook)"
	}
	return s
}

// Initiator is who started the sync: a user, "automated", or "unknown" for
// a sync started without login (initiatedBy is `{}`).
func Initiator(r Report) string {
	switch {
	case r.InitiatedBy != "":
		return r.InitiatedBy
	case r.Automated:
		return "automated sync"
	case r.Phase != "":
		return "unknown (no login)"
	}
	return ""
}

// ShortRevisions shortens Git SHAs to 7 characters; Helm versions and
// other revisions stay as they are.
func ShortRevisions(revs []string) []string {
	out := make([]string, 0, len(revs))
	for _, r := range revs {
		if len(r) == 40 && isHex(r) {
			r = r[:7]
		}
		out = append(out, r)
	}
	return out
}

// Duration prints seconds as 42s, 3m05s or 1h02m.
func Duration(sec float64) string {
	s := int64(sec)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
	return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
}

func appLine(r Report) string {
	s := r.App.Namespace + "/" + r.App.Name
	if r.App.Project != "" {
		s += " (project " + r.App.Project + ")"
	}
	return s
}

func destLine(d Destination) string {
	cluster := d.Name
	if cluster == "" {
		cluster = d.Server
	}
	return joinNonEmpty(" / ", cluster, d.Namespace)
}

func joinNonEmpty(sep string, parts ...string) string {
	var keep []string
	for _, p := range parts {
		if p != "" {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, sep)
}

func isHex(s string) bool {
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}

// oneLine folds a multi-line message into one line for lists.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// truncate cuts s to at most n runes, on a rune boundary, marking the cut.
// Invalid UTF-8 is replaced first so the output is always valid. It walks
// only the first n runes, so cutting a 50 000-character message is cheap.
func truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	count := 0
	for i, c := range s {
		if c == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD") {
			return truncate(strings.ToValidUTF8(s, "\uFFFD"), n)
		}
		if count == n-1 {
			if rest := s[i:]; utf8.RuneCountInString(rest) > 1 {
				return s[:i] + "…"
			}
			return s
		}
		count++
	}
	return s
}

// showMessage hides the operation message when it only says which hook is
// running (this one) or the sync went well; causes come from the failures.
func showMessage(r Report) bool {
	return r.Message != "" && r.Verdict != Succeeded &&
		!strings.HasPrefix(r.Message, "waiting for completion of hook")
}
