// Package recipients works out who hears about a sync: the people and
// channels named by the sync itself (`argocd app sync --info notify=…`), the
// SSO user who started it, the app's annotations, and the configured
// channels. Collecting is pure; resolving emails to Slack users needs the
// Slack API and is done by Resolve with a lookup function.
package recipients

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"strings"

	"github.com/syncreport/syncreport/internal/argocd"
)

// Kind says whether a recipient is mentioned (user) or posted to (channel).
type Kind string

// The recipient kinds.
const (
	User    Kind = "user"
	Channel Kind = "channel"
)

// Annotations on the Application that name recipients (comma-separated).
// The per-verdict form, e.g. syncreport.dev/notify.failed, adds recipients
// for that verdict only: team aliases kept in Git next to the app.
const (
	AnnotationNotify = "syncreport.dev/notify"
	// InfoNotify is the `argocd app sync --info notify=…` entry name.
	InfoNotify = "notify"
)

// Recipient is one person or channel, with where it came from.
type Recipient struct {
	Kind    Kind     `json:"kind"`
	Value   string   `json:"value"` // as written: alice@example.com, @alice, #deploys, U0123ABCD, C0123ABCD
	Sources []string `json:"sources"`
	// SlackID is the user or channel ID once known: given directly, or
	// resolved from an email with users.lookupByEmail.
	SlackID string `json:"slackId,omitempty"`
	// Note says why a user could not be turned into a mention.
	Note string `json:"note,omitempty"`
}

// Settings are the configured channels.
type Settings struct {
	Channel       string // SLACK_CHANNEL: every report
	ChannelFailed string // SLACK_CHANNEL_FAILED: failed and degraded reports, in addition
	// CommitAuthor is the synced commit's author email (NOTIFY_COMMIT_AUTHOR):
	// in GitOps the person who deployed is often the one who pushed.
	CommitAuthor string
}

var (
	userID    = regexp.MustCompile(`^[UW][A-Z0-9]{6,}$`)
	channelID = regexp.MustCompile(`^[CGD][A-Z0-9]{6,}$`)
	email     = regexp.MustCompile(`^[^@\s<>,]+@[^@\s<>,]+\.[^@\s<>,]+$`)
)

// Collect lists the recipients of a report with this verdict, combined from
// every source and de-duplicated (emails case-insensitively), in the order
// first seen: --info, initiator, commit author, annotations, configured channels.
func Collect(app *argocd.Application, verdict string, s Settings) []Recipient {
	var c collector
	if op := app.Status.OperationState; op != nil {
		for _, i := range op.Operation.Info {
			if strings.EqualFold(i.Name, InfoNotify) {
				c.addList(i.Value, "info:"+i.Name)
			}
		}
		if u := op.Operation.InitiatedBy.Username; email.MatchString(u) {
			c.add(u, "initiatedBy")
		}
	}
	if email.MatchString(s.CommitAuthor) {
		c.add(s.CommitAuthor, "commitAuthor")
	}
	for _, key := range []string{AnnotationNotify, AnnotationNotify + "." + verdict} {
		c.addList(app.Metadata.Annotations[key], "annotation:"+key)
	}
	// Configured channels are channels whatever they look like: Slack
	// accepts "deploys", "#deploys" and "C0123…" for chat.postMessage.
	if s.Channel != "" {
		c.addChannel(s.Channel, "SLACK_CHANNEL")
	}
	if s.ChannelFailed != "" && (verdict == "failed" || verdict == "degraded") {
		c.addChannel(s.ChannelFailed, "SLACK_CHANNEL_FAILED")
	}
	return c.list
}

type collector struct {
	list  []Recipient
	index map[string]int
}

func (c *collector) addList(v, source string) {
	for _, part := range strings.Split(v, ",") {
		c.add(part, source)
	}
}

func (c *collector) addChannel(v, source string) {
	c.insert(v, source, func(v string) Recipient {
		r := Recipient{Kind: Channel, Value: v}
		if channelID.MatchString(v) {
			r.SlackID = v
		}
		return r
	})
}

func (c *collector) add(v, source string) { c.insert(v, source, parse) }

func (c *collector) insert(v, source string, parse func(string) Recipient) {
	v = strings.TrimSpace(v)
	if v == "" {
		return
	}
	key := strings.ToLower(v)
	if i, ok := c.index[key]; ok {
		c.list[i].Sources = appendUnique(c.list[i].Sources, source)
		return
	}
	r := parse(v)
	r.Sources = []string{source}
	if c.index == nil {
		c.index = map[string]int{}
	}
	c.index[key] = len(c.list)
	c.list = append(c.list, r)
}

// parse classifies one entry: #channel or channel ID → channel; email,
// @handle or user ID → user.
func parse(v string) Recipient {
	switch {
	case strings.HasPrefix(v, "#"):
		return Recipient{Kind: Channel, Value: v}
	case channelID.MatchString(v):
		return Recipient{Kind: Channel, Value: v, SlackID: v}
	case userID.MatchString(v):
		return Recipient{Kind: User, Value: v, SlackID: v}
	case email.MatchString(v):
		return Recipient{Kind: User, Value: v}
	case strings.HasPrefix(v, "@"):
		return Recipient{Kind: User, Value: v,
			Note: "Slack cannot look up a @handle: use an email or a member ID (U…) for a real mention"}
	}
	return Recipient{Kind: User, Value: v, Note: "not an email, @handle, #channel or Slack ID"}
}

func appendUnique(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// Mention is how the recipient appears in a message: a real mention when
// the ID is known, the text as written otherwise.
func (r Recipient) Mention() string {
	switch {
	case r.Kind == User && r.SlackID != "":
		return "<@" + r.SlackID + ">"
	case r.Kind == Channel && r.SlackID != "":
		return "<#" + r.SlackID + ">"
	}
	return r.Value
}

// Email reports whether the recipient is a user given by email.
func (r Recipient) Email() bool { return r.Kind == User && email.MatchString(r.Value) }

// Users returns the user recipients, in order.
func Users(rs []Recipient) []Recipient {
	var out []Recipient
	for _, r := range rs {
		if r.Kind == User {
			out = append(out, r)
		}
	}
	return out
}

// Channels returns where to post: channel IDs or #names, in order.
func Channels(rs []Recipient) []string {
	var out []string
	for _, r := range rs {
		if r.Kind != Channel {
			continue
		}
		if r.SlackID != "" {
			out = append(out, r.SlackID)
		} else {
			out = append(out, r.Value)
		}
	}
	return out
}

// Lookup resolves an email to a Slack user ID (users.lookupByEmail).
type Lookup func(ctx context.Context, email string) (string, error)

// Errors a Lookup may wrap; Resolve turns them into notes, never failures.
var (
	ErrUserNotFound = errors.New("no Slack user with this email")
	ErrMissingScope = errors.New("the Slack token lacks the users:read.email scope")
)

// Resolve fills in SlackID for users given by email. An unknown email or a
// missing scope leaves the plain email and a note plus a warning: a report
// is never lost for want of a mention. Each email is looked up once; after a
// missing-scope answer no further lookups are tried.
func Resolve(ctx context.Context, rs []Recipient, lookup Lookup, log *slog.Logger) {
	scopeMissing := false
	for i := range rs {
		r := &rs[i]
		if !r.Email() || r.SlackID != "" {
			continue
		}
		if scopeMissing {
			r.Note = ErrMissingScope.Error()
			continue
		}
		id, err := lookup(ctx, r.Value)
		switch {
		case err == nil:
			r.SlackID = id
			continue
		case errors.Is(err, ErrMissingScope):
			scopeMissing = true
			r.Note = ErrMissingScope.Error()
		case errors.Is(err, ErrUserNotFound):
			r.Note = ErrUserNotFound.Error()
		default:
			r.Note = "lookup failed: " + err.Error()
		}
		if log != nil {
			log.Warn("recipient stays plain text", "recipient", r.Value, "reason", r.Note)
		}
	}
}
