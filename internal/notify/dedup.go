package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"reflect"
	"strconv"
	"sync"
	"time"

	"github.com/slack-go/slack"
)

// ReportEventType is the metadata event type of every report syncreport
// posts; with the payload of ReportMetadata it identifies one report.
const ReportEventType = "syncreport_report"

// ReportMetadata is the message metadata that identifies a report: the
// Application ("namespace/name"), its operation (the operation's startedAt,
// RFC 3339), the sync attempt and the verdict. A retry after an ambiguous
// failure looks for it in the channel (Dedup).
// https://docs.slack.dev/messaging/message-metadata
func ReportMetadata(app, operation string, attempt int64, verdict string) *slack.SlackMetadata {
	return &slack.SlackMetadata{
		EventType: ReportEventType,
		EventPayload: map[string]any{
			"app":       app,
			"operation": operation,
			"attempt":   attempt,
			"verdict":   verdict,
		},
	}
}

// Dedup returns a Notifier that posts with b and, before retrying a message
// whose previous attempt failed ambiguously (the attempt timed out, the
// connection broke after the request was sent, Slack answered 5xx: Slack may
// have posted it), looks for it in the channel's recent history by its
// metadata (conversations.history) and counts it as delivered if it is there.
//
// Only messages with Metadata are checked. conversations.history needs the
// channel's ID (a name such as "#deploys" is resolved from an earlier
// chat.postMessage answer in the same run, if any) and the channels:history
// scope (groups:history for private channels, im:history for DMs). When the
// check cannot be made it is skipped with one warning in log and the message
// is posted again: delivery is then at least once, as without Dedup.
func Dedup(b *Bot, log *slog.Logger) Notifier {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &dedup{bot: b, log: log, ids: map[string]string{}, pending: map[string]time.Time{}, warned: map[string]bool{}}
}

// dedupSkew widens the history search before the first ambiguous attempt,
// for clock skew between this host and Slack.
const dedupSkew = 2 * time.Minute

// History paging: Slack returns newest first; a report's earlier attempt is
// among the few newest messages unless the channel is very busy.
const (
	historyLimit    = 20
	historyMaxPages = 3
)

type dedup struct {
	bot *Bot
	log *slog.Logger

	mu        sync.Mutex
	ids       map[string]string    // channel as named → its ID, from chat.postMessage answers
	pending   map[string]time.Time // message key → start of its first ambiguous attempt
	noHistory bool                 // history failed permanently: at least once from now on
	warned    map[string]bool      // fallback reasons already logged at Warn
}

// Name implements Notifier.
func (d *dedup) Name() string { return d.bot.Name() }

// Notify implements Notifier: one chat.postMessage, preceded by a history
// check when the previous attempt of m failed ambiguously.
func (d *dedup) Notify(ctx context.Context, m Message) (retry bool, err error) {
	key, ok := dedupKey(m)
	if !ok {
		return d.bot.Notify(ctx, m)
	}
	d.mu.Lock()
	since, wasAmbiguous := d.pending[key]
	d.mu.Unlock()
	if wasAmbiguous && d.alreadyPosted(ctx, m, since) {
		d.mu.Lock()
		delete(d.pending, key)
		d.mu.Unlock()
		return false, nil
	}

	start := time.Now()
	id, retry, err := d.bot.postMessage(ctx, m)
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case err == nil:
		delete(d.pending, key)
		if id != "" {
			d.ids[m.Channel] = id
		}
	case retry && ambiguous(err) && !wasAmbiguous:
		d.pending[key] = start
	}
	return retry, err
}

// alreadyPosted reports whether m is in its channel's history since shortly
// before since. Not being able to tell counts as not posted.
func (d *dedup) alreadyPosted(ctx context.Context, m Message, since time.Time) bool {
	d.mu.Lock()
	id, off := d.ids[m.Channel], d.noHistory
	d.mu.Unlock()
	if off {
		return false
	}
	if id == "" && historyID(m.Channel) {
		id = m.Channel
	}
	if id == "" {
		d.fallback("name", "cannot check whether the failed attempt was posted after all: conversations.history needs a channel ID, not a name; posting again (at least once)",
			"channel", m.Channel, "hint", "give the channel as its ID (C0123…) to avoid duplicates")
		return false
	}
	// The check must leave the attempt time to post.
	hctx, cancel := ctx, context.CancelFunc(func() {})
	if dl, ok := ctx.Deadline(); ok {
		hctx, cancel = context.WithTimeout(ctx, time.Until(dl)/2)
	}
	defer cancel()
	ts, err := d.bot.findMetadata(hctx, id, *m.Metadata, since.Add(-dedupSkew))
	if err != nil {
		if !IsTemporary(err) {
			d.mu.Lock()
			d.noHistory = true
			d.mu.Unlock()
		}
		d.fallback("history", "cannot read the channel history to check whether the failed attempt was posted after all; posting again (at least once)",
			"channel", m.Channel, "error", err.Error())
		return false
	}
	if ts == "" {
		d.log.Debug("the failed attempt was not posted; posting again", "channel", m.Channel)
		return false
	}
	d.log.Info("not posting again: the failed attempt was posted after all", "channel", m.Channel, "ts", ts)
	return true
}

// fallback logs why a duplicate check was skipped: at Warn the first time
// for each reason, at Debug after.
func (d *dedup) fallback(reason, msg string, args ...any) {
	d.mu.Lock()
	level := slog.LevelWarn
	if d.warned[reason] {
		level = slog.LevelDebug
	}
	d.warned[reason] = true
	d.mu.Unlock()
	d.log.Log(context.Background(), level, msg, args...)
}

// dedupKey identifies m among the messages of a run: its channel and its
// metadata. ok is false for a message without metadata, which cannot be
// found again.
func dedupKey(m Message) (key string, ok bool) {
	if m.Metadata == nil || m.Metadata.EventType == "" {
		return "", false
	}
	p, err := json.Marshal(m.Metadata.EventPayload)
	if err != nil {
		return "", false
	}
	return m.Channel + "\x00" + m.Metadata.EventType + "\x00" + string(p), true
}

// historyID reports whether channel is an ID conversations.history accepts:
// a channel, private channel or DM (a user ID stands for a DM only in
// chat.postMessage).
func historyID(channel string) bool {
	if len(channel) < 3 {
		return false
	}
	switch channel[0] {
	case 'C', 'G', 'D':
	default:
		return false
	}
	for _, c := range channel[1:] {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// ambiguous reports whether a failed chat.postMessage may have posted the
// message all the same: Slack answered 5xx, or the exchange broke after the
// connection was made. Dial and DNS failures reached nobody.
func ambiguous(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	if e.err == nil {
		return e.Status >= 500
	}
	var op *net.OpError
	if errors.As(e.err, &op) && op.Op == "dial" {
		return false
	}
	var dns *net.DNSError
	return !errors.As(e.err, &dns)
}

// postMessage is Notify that also returns the ID of the channel posted to,
// which conversations.history needs when m.Channel is a name.
func (b *Bot) postMessage(ctx context.Context, m Message) (channelID string, retry bool, err error) {
	if m.Channel == "" || m.Text == "" {
		retry, err := b.Notify(ctx, m) // refuses it with the usual error
		return "", retry, err
	}
	body, err := json.Marshal(m)
	if err != nil {
		retry, err := b.Notify(ctx, m)
		return "", retry, err
	}
	// "any": decoding the answer must not fail once Slack said ok.
	var out struct {
		Channel any `json:"channel"`
	}
	ep := endpoint{method: "chat.postMessage", subject: fmt.Sprintf("to channel %q", m.Channel)}
	if retry, err := b.post(ctx, ep, "application/json; charset=utf-8", body, &out); err != nil {
		return "", retry, err
	}
	id, _ := out.Channel.(string)
	return id, false, nil
}

// findMetadata returns the ts of a message in channelID, posted since
// oldest, whose metadata equals md; "" if there is none among the newest
// historyLimit*historyMaxPages. It needs channels:history (or groups:,
// im:history) and include_all_metadata.
// https://docs.slack.dev/reference/methods/conversations.history
func (b *Bot) findMetadata(ctx context.Context, channelID string, md slack.SlackMetadata, oldest time.Time) (ts string, err error) {
	want, err := normalize(md.EventPayload)
	if err != nil {
		return "", err
	}
	ep := endpoint{method: "conversations.history", subject: fmt.Sprintf("of channel %q", channelID)}
	cursor := ""
	for range historyMaxPages {
		q := url.Values{
			"channel":              {channelID},
			"limit":                {strconv.Itoa(historyLimit)},
			"include_all_metadata": {"true"},
			"oldest":               {fmt.Sprintf("%d.%06d", oldest.Unix(), oldest.Nanosecond()/1000)},
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var out struct {
			Messages []struct {
				TS       string `json:"ts"`
				Metadata *struct {
					EventType    string          `json:"event_type"`
					EventPayload json.RawMessage `json:"event_payload"`
				} `json:"metadata"`
			} `json:"messages"`
			ResponseMetadata struct {
				NextCursor string `json:"next_cursor"`
			} `json:"response_metadata"`
		}
		if _, err := b.post(ctx, ep, formType, []byte(q.Encode()), &out); err != nil {
			return "", err
		}
		for _, msg := range out.Messages {
			if msg.Metadata == nil || msg.Metadata.EventType != md.EventType {
				continue
			}
			var got any
			if json.Unmarshal(msg.Metadata.EventPayload, &got) == nil && reflect.DeepEqual(got, want) {
				return msg.TS, nil
			}
		}
		if cursor = out.ResponseMetadata.NextCursor; cursor == "" {
			break
		}
	}
	return "", nil
}

// normalize gives v the shape it has after a JSON round trip (numbers as
// float64, maps as map[string]any), to compare with what Slack returns.
func normalize(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	err = json.Unmarshal(b, &out)
	return out, err
}
