package report

import (
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/syncreport/syncreport/internal/recipients"
)

// Slack's Block Kit limits (https://api.slack.com/reference/block-kit/blocks).
// Messages over them are rejected whole with invalid_blocks, so every piece
// of outside text is cut to fit before it is sent.
const (
	maxBlocks      = 50
	maxSectionText = 3000
	maxHeaderText  = 150
	maxFields      = 10
	maxFieldText   = 2000
	maxContextElts = 10
	// maxFallbackText keeps the notification text well under chat.postMessage's
	// 40 000-character msg_too_long limit.
	maxFallbackText = 3000
	// maxFailureLine keeps one failure from taking a whole section.
	maxFailureLine = 600
)

// Slack renders the report as Block Kit blocks plus the plain-text fallback
// that notifications and screen readers show.
func Slack(r Report) (text string, blocks []slack.Block) {
	m := marks[r.Verdict]
	// The summary holds the app's name: plain_text shows it literally, but
	// control and bidi characters still act on the screen.
	head := truncate(m.emoji+" "+plain(truncate(r.Summary, maxHeaderText)), maxHeaderText)
	blocks = append(blocks, slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, head, true, false)))

	var fields []*slack.TextBlockObject
	field := func(k, v string) {
		if v != "" && len(fields) < maxFields {
			fields = append(fields, mrkdwn(truncate("*"+k+"*\n"+v, maxFieldText)))
		}
	}
	field("Application", link(r.URL, escape(r.App.Namespace+"/"+r.App.Name)))
	field("Project", escape(r.App.Project))
	field("Destination", escape(destLine(r.Destination)))
	field("Revision", escape(strings.Join(ShortRevisions(r.Revisions), ", ")))
	if r.Commit != nil {
		field("Commit", escape(truncate(oneLine(r.Commit.Subject), 150)+" — "+r.Commit.Author))
	}
	field("Initiated by", escape(Initiator(r)))
	if r.MaxAttempts != 1 && r.Phase != "" {
		field("Attempt", escape(strings.TrimPrefix(AttemptText(r), "attempt ")))
	}
	if r.DurationSeconds > 0 {
		field("Duration", Duration(r.DurationSeconds))
	}
	field("Health", escape(joinNonEmpty(" / ", r.Health, r.Sync)))
	blocks = append(blocks, slack.NewSectionBlock(nil, fields, nil))

	if showMessage(r) {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(truncate("> "+escape(oneLine(truncate(r.Message, maxSectionText))), maxSectionText)), nil, nil))
	}

	// Reserve room for the trailing blocks and the "more" note.
	tail := contextBlocks(r)
	if cc := Mentions(r); cc != "" {
		tail = append([]slack.Block{slack.NewSectionBlock(mrkdwn(truncate("cc "+cc, maxSectionText)), nil, nil)}, tail...)
	}
	logs := logBlocks(r.Failures)
	blocks = append(blocks, failureBlocks(r.Failures, maxBlocks-len(blocks)-len(tail)-len(logs))...)
	blocks = append(blocks, logs...)
	blocks = append(blocks, tail...)
	return fallback(r), blocks
}

// failureBlocks packs one line per failure into sections of at most
// maxSectionText characters, using at most budget blocks; what does not fit
// is counted in a final "…and N more" line.
func failureBlocks(fs []Failure, budget int) []slack.Block {
	if len(fs) == 0 || budget < 2 {
		return nil
	}
	var blocks []slack.Block
	var cur strings.Builder
	cur.WriteString(fmt.Sprintf("*Failing resources (%d)*\n", len(fs)))
	flush := func() {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(cur.String()), nil, nil))
		cur.Reset()
	}
	for i, f := range fs {
		line := failureLine(f)
		if cur.Len() > 0 && runes(cur.String())+runes(line) > maxSectionText-40 {
			if len(blocks)+2 > budget { // keep one block for the "more" note
				cur.WriteString(fmt.Sprintf("…and %d more", len(fs)-i))
				flush()
				return blocks
			}
			flush()
		}
		cur.WriteString(line)
	}
	flush()
	return blocks
}

// logBlocks shows the log tails of the first few crashed containers as
// code blocks, cut from the top so the last lines (the crash) stay.
func logBlocks(fs []Failure) []slack.Block {
	const most = 3
	var out []slack.Block
	for _, f := range fs {
		if len(f.Logs) == 0 || len(out) == most {
			continue
		}
		// Each line is escaped on its own so that the newlines between
		// them stay newlines, and before counting, so that the count is of
		// what is shown (invalid bytes collapse into one U+FFFD each run).
		lines := make([]string, len(f.Logs))
		for i, l := range f.Logs {
			lines[i] = escape(l)
		}
		text := strings.Join(lines, "\n")
		if keep := maxSectionText - 200; runes(text) > keep {
			r := []rune(text)
			text = "…" + string(r[len(r)-keep:])
		}
		text = strings.ReplaceAll(text, "```", "'''")
		out = append(out, slack.NewSectionBlock(mrkdwn(truncate("`"+escape(truncate(FailureTitle(f), maxFailureLine))+"` logs:\n"+"```"+text+"```", maxSectionText)), nil, nil))
	}
	return out
}

func failureLine(f Failure) string {
	// Cut before folding and escaping: messages can be 50 000 characters.
	s := "• `" + escape(truncate(FailureTitle(f), maxFailureLine)) + "`"
	if f.Message != "" {
		s += " " + escape(oneLine(truncate(f.Message, maxFailureLine)))
	}
	if f.Cause != "" {
		s += "\n      ↳ " + escape(oneLine(truncate(f.Cause, maxFailureLine)))
	}
	return truncate(s, maxFailureLine) + "\n"
}

func contextBlocks(r Report) []slack.Block {
	var elts []slack.MixedElement
	for _, i := range r.Info {
		if len(elts) == maxContextElts-1 {
			break
		}
		// Anyone allowed to sync can set --info: a URL becomes a link only
		// when Slack's link syntax cannot be bent by it, and the link shows
		// the URL itself, so a name cannot disguise where it leads.
		name := escape(truncate(i.Name, maxFieldText))
		if u, ok := safeURL(i.Value); ok && runes(u) < maxFieldText-runes(name)-3 {
			elts = append(elts, mrkdwn(name+"=<"+u+">"))
			continue
		}
		elts = append(elts, mrkdwn(truncate(name+"="+escape(truncate(i.Value, maxFieldText)), maxFieldText)))
	}
	if len(r.Images) > 0 {
		elts = append(elts, mrkdwn(truncate("images: "+escape(strings.Join(r.Images, ", ")), maxFieldText)))
	}
	var out []slack.Block
	if len(elts) > 0 {
		out = append(out, slack.NewContextBlock("", elts...))
	}
	if r.Partial {
		out = append(out, slack.NewContextBlock("", mrkdwn("_diagnosis partial: not every live object could be read_")))
	}
	return out
}

// Mentions lists the user recipients as Slack mentions (plain text where no
// ID is known), space-separated.
func Mentions(r Report) string {
	var parts []string
	for _, u := range recipients.Users(r.Recipients) {
		// A mention only for an ID as Slack makes them: recipients come
		// from annotations and commit metadata.
		m := escape(u.Value)
		if slackID.MatchString(u.SlackID) {
			m = u.Mention()
		}
		parts = append(parts, m)
	}
	return strings.Join(parts, " ")
}

// fallback is the notification text: the summary, the mentions (so the
// people named get notified) and the first causes. Slack parses it as
// mrkdwn, so every piece of outside text is escaped as in the blocks.
func fallback(r Report) string {
	var b strings.Builder
	b.WriteString(escape(truncate(r.Summary, maxFallbackText)))
	if cc := Mentions(r); cc != "" {
		b.WriteString(" — cc " + cc)
	}
	for i, f := range r.Failures {
		if i == 3 {
			fmt.Fprintf(&b, "\n…and %d more", len(r.Failures)-i)
			break
		}
		b.WriteString("\n" + escape(truncate(FailureTitle(f), maxFailureLine)) + ": " + escape(oneLine(truncate(f.Message, maxFailureLine))))
	}
	return truncate(b.String(), maxFallbackText)
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

func runes(s string) int { return len([]rune(s)) }

// SlackReply renders what one run adds to the thread of its sync's live
// message: the attempt and its verdict ("attempt 3 of 6: still failing"),
// the message, the failures with their causes, and, for a final failure
// (shown in the channel too), the people to tell. Outside text is escaped
// as in Slack.
func SlackReply(r Report) (text string, blocks []slack.Block) {
	head := replyHead(r)
	if r.Verdict == Failed && !r.WillRetry {
		if cc := Mentions(r); cc != "" {
			head += " — cc " + cc
		}
	}
	blocks = append(blocks, slack.NewSectionBlock(mrkdwn(truncate(head, maxSectionText)), nil, nil))
	if showMessage(r) {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(truncate("> "+escape(oneLine(truncate(r.Message, maxSectionText))), maxSectionText)), nil, nil))
	}
	logs := logBlocks(r.Failures)
	blocks = append(blocks, failureBlocks(r.Failures, maxBlocks-len(blocks)-len(logs))...)
	blocks = append(blocks, logs...)
	var b strings.Builder
	b.WriteString(head)
	for i, f := range r.Failures {
		if i == 3 {
			fmt.Fprintf(&b, "\n…and %d more", len(r.Failures)-i)
			break
		}
		b.WriteString("\n" + escape(truncate(FailureTitle(f), maxFailureLine)) + ": " + escape(oneLine(truncate(f.Message, maxFailureLine))))
	}
	return truncate(b.String(), maxFallbackText), blocks
}

// replyHead is the first line of a thread reply: which attempt, and how it went.
func replyHead(r Report) string {
	m := marks[r.Verdict]
	what := ""
	switch {
	case r.Verdict == Failed && r.WillRetry && r.Attempt > 1:
		what = "still failing, Argo CD will retry"
	case r.Verdict == Failed && r.WillRetry:
		what = "failed, Argo CD will retry"
	case r.Verdict == Failed && r.MaxAttempts > 1 && r.Attempt >= r.MaxAttempts:
		what = "failed, no retries left"
	case r.Verdict == Failed && r.Attempt > 1:
		what = "failed, not retried" // terminated, or a sync timeout
	case r.Verdict == Failed:
		what = "failed"
	default:
		what = escape(r.Summary)
	}
	at := ""
	if r.MaxAttempts != 1 && r.Phase != "" {
		at = fmt.Sprintf("attempt %d", r.Attempt)
		if r.MaxAttempts > 0 {
			at += fmt.Sprintf(" of %d", r.MaxAttempts)
		}
		at = "*" + at + "*: "
	}
	return m.emoji + " " + at + what
}

// Started turns the report the gate makes when a sync starts into the
// "Syncing web to 9c0ffee, by alice…" message that the sync's reports
// later update.
func Started(r Report) Report {
	r.Verdict = Progressing
	s := "Syncing " + r.App.Name
	if revs := ShortRevisions(r.Revisions); len(revs) > 0 {
		s += " to " + strings.Join(revs, ", ")
	}
	switch {
	case r.InitiatedBy != "":
		s += ", by " + r.InitiatedBy
	case r.Automated:
		s += " (automated sync)"
	}
	r.Summary = s + "…"
	r.Failures, r.Message, r.WillRetry = nil, "", false
	return r
}
