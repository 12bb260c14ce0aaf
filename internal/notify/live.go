package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A live message is the one Slack message of a sync operation: the first
// report of the operation posts it, every later run (the gate, a SyncFail
// or PostSync report, each retry attempt) updates it with chat.update to the
// current verdict and adds what is new as a reply in its thread. Nothing is
// kept between runs: a run finds the message again in the channel's history
// by its metadata (the app and the operation's startedAt).
//
// Every way this can fail (no history scope, history rate-limited, the
// message deleted, edited by Slack's limits, posted by another app) ends
// in a new message and one warning, never in a lost report.

// ReplyEventType is the metadata event type of a thread reply, so that a
// reply whose post failed ambiguously can be found in the thread.
const ReplyEventType = "syncreport_reply"

// Stages of a live message, in the order they replace each other.
const (
	StageStarted = "started" // the gate's "Syncing…" message
	StageReport  = "report"  // a hook's verdict
)

// LiveMessage is what one run contributes to the live message of an
// operation.
type LiveMessage struct {
	// App is "namespace/name"; Operation the operation's startedAt (RFC 3339).
	// Together they identify the live message.
	App, Operation string
	// Attempt and Stage order the runs of an operation: a message already
	// showing a later attempt, or the report of the same attempt, is not
	// overwritten by an earlier one (a late gate, a slow racer).
	Attempt int64
	Stage   string
	Verdict string
	// Since is the operation's start: history is read from Since minus
	// LiveSkew.
	Since time.Time
	// Top is the message as it should read now (Channel, Text, Blocks).
	// Its Metadata is set by Deliver.
	Top Message
	// Reply, if not nil, is posted in the thread (its Metadata is set by
	// Deliver); Broadcast also shows it in the channel.
	Reply     *Message
	Broadcast bool
	// ReplyOnUpdate posts Reply only when an existing message was updated:
	// a first message that says it all (a success) needs no thread, and
	// each post counts against Slack's one message a second per channel.
	ReplyOnUpdate bool
	// UpdateOnly never posts a new message: for a verdict muted by
	// NOTIFY_ON that must still end a "Syncing…" message.
	UpdateOnly bool
}

// LiveResult says what Deliver did.
type LiveResult struct {
	Channel  string // the channel's ID
	TS       string // the live message's ts
	Posted   bool   // a new top-level message was posted (else an existing one was found)
	Updated  bool   // the existing message was updated
	Skipped  bool   // the existing message shows a later stage: left as it is
	Replied  bool   // the reply was posted in the thread
	Fallback string // why a new message was posted instead of updating, "" if not
	Merged   bool   // a racing run's message was found after posting: ours was deleted
}

// LiveSkew widens the history search before the operation's start, for
// clock skew between the cluster and Slack.
const LiveSkew = 2 * time.Minute

// Live history paging: messages since the operation's start, newest first.
// A channel shared by hundreds of apps may hold a few hundred messages since
// a sync started; past liveMaxPages the message counts as not found (a new
// one is posted, with a warning).
//
// A page holds other apps' messages too, with their blocks: 200 reports of
// a few KB each pass the 1 MiB an ordinary answer may take, and a page cut
// short cannot be decoded (the message would count as not found).
const (
	liveHistoryLimit = 200
	liveMaxPages     = 3
	liveMaxPageBody  = 8 << 20
)

// CanLive reports whether channel can carry a live message: history and
// chat.update take a channel ID (C…, G…, D…), not a name.
func CanLive(channel string) bool { return historyID(channel) }

// liveMetadata is the top-level message's metadata: ReportMetadata plus its
// stage.
func liveMetadata(eventType string, lm LiveMessage) map[string]any {
	md := ReportMetadata(lm.App, lm.Operation, lm.Attempt, lm.Verdict)
	md.EventType = eventType
	md.EventPayload["stage"] = lm.Stage
	return map[string]any{"event_type": md.EventType, "event_payload": md.EventPayload}
}

// rank orders the stages of an operation: attempt first, then the stage.
func rank(attempt int64, stage string) int64 {
	r := attempt * 2
	if stage != StageStarted {
		r++
	}
	return r
}

// found is a message of the operation in the channel's history.
type found struct {
	ts      string
	botID   string
	attempt int64
	stage   string
}

// DeliverLive posts or updates the live message of lm's operation in
// lm.Top.Channel (an ID: see CanLive), then posts lm.Reply in its thread.
// r bounds the retries of each step; ctx the whole. Failures to find or
// update the message fall back to a new message, logged once at Warn.
func (b *Bot) DeliverLive(ctx context.Context, r Retrier, lm LiveMessage, log *slog.Logger) (LiveResult, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ch := lm.Top.Channel
	res := LiveResult{Channel: ch}
	if !CanLive(ch) {
		return res, &Error{Method: "chat.update", subject: fmt.Sprintf("in channel %q", ch), err: errors.New("a live message needs the channel's ID, not its name")}
	}
	md := liveMetadata(ReportEventType, lm)

	// Find: a failure here is not worth the deadline the post needs.
	fctx, cancel := ctx, context.CancelFunc(func() {})
	if dl, ok := ctx.Deadline(); ok {
		fctx, cancel = context.WithTimeout(ctx, time.Until(dl)/3)
	}
	matches, _, err := Call(fctx, r, "conversations.history", func(ctx context.Context) ([]found, error) {
		return b.findLive(ctx, ch, lm.App, lm.Operation, lm.Since.Add(-LiveSkew))
	}, log)
	cancel()
	if err != nil {
		res.Fallback = "cannot read the channel history to find this sync's message: " + err.Error()
	}
	// Oldest first: two runs that raced and both posted converge on the
	// older message (see merge).
	for _, m := range matches {
		if rank(m.attempt, m.stage) > rank(lm.Attempt, lm.Stage) {
			// Left as it is only if it is ours: another app's message with
			// our metadata must not capture the thread.
			if own, err := b.botID(ctx); err != nil || own == "" || own != m.botID {
				continue
			}
			log.Info("the live message already shows a later stage; adding to its thread only",
				"channel", ch, "ts", m.ts, "shows_attempt", m.attempt, "shows_stage", m.stage)
			res.TS, res.Skipped = m.ts, true
			break
		}
		_, _, err := Call(ctx, r, "chat.update", func(ctx context.Context) (struct{}, error) {
			return struct{}{}, b.update(ctx, ch, m.ts, lm.Top, md)
		}, log)
		if err == nil {
			// An earlier candidate that refused (another app's) is no
			// fallback: the sync's message was updated.
			res.TS, res.Updated, res.Fallback = m.ts, true, ""
			break
		}
		// message_not_found, cant_update_message (another app's message
		// with our metadata), edit_window_closed: try the next, else post.
		res.Fallback = "cannot update this sync's message: " + err.Error()
	}
	if res.TS == "" && lm.UpdateOnly {
		log.Debug("no message of this sync to update", "channel", ch)
		return res, nil
	}
	if res.TS == "" {
		if len(matches) == 0 && res.Fallback == "" {
			log.Debug("no message of this sync in the channel yet; posting one", "channel", ch)
		}
		top := lm.Top
		top.Metadata = nil
		ts, recovered, err := b.postLive(ctx, r, top, md, "", false, log)
		if err != nil {
			return res, err
		}
		res.TS, res.Posted = ts, true
		if res.Fallback != "" {
			log.Warn("posted a new message for this sync instead of updating its earlier one", "channel", ch, "reason", res.Fallback)
		} else if recovered {
			// Found by its metadata after an ambiguous failure: maybe
			// another run's post of the same stage, which merge must not
			// delete. Two messages at worst, never one deleted in error.
			log.Debug("not merging: the message was found, not known to be posted by this run", "channel", ch, "ts", ts)
		} else if b.merge(ctx, r, lm, md, &res, log) {
			res.Merged = true
		}
	}
	if lm.Reply == nil || (lm.ReplyOnUpdate && res.Posted) {
		return res, nil
	}
	reply := *lm.Reply
	reply.Channel = ch
	if _, _, err := b.postLive(ctx, r, reply, liveMetadata(ReplyEventType, lm), res.TS, lm.Broadcast, log); err != nil {
		return res, err
	}
	res.Replied = true
	return res, nil
}

// merge handles two runs of one operation that found nothing and both
// posted (the gate and a report starting together): after posting, the
// history is read once more and, if an older message of the operation is
// there and takes the update, ours is deleted and the older one stays.
// Both racers apply the same rule, so one message remains. Failing to
// check leaves two messages: a duplicate, never a loss.
func (b *Bot) merge(ctx context.Context, r Retrier, lm LiveMessage, md map[string]any, res *LiveResult, log *slog.Logger) bool {
	one := r
	one.MaxAttempts = 2
	matches, _, err := Call(ctx, one, "conversations.history", func(ctx context.Context) ([]found, error) {
		return b.findLive(ctx, res.Channel, lm.App, lm.Operation, lm.Since.Add(-LiveSkew))
	}, log)
	if err != nil {
		log.Debug("cannot re-read the history for a racing run's message", "error", err.Error())
		return false
	}
	// Only a message this bot posted can be the racer's: another app's
	// message with our metadata must neither take our thread nor cost us
	// our own message. Not knowing who we are keeps both (a duplicate).
	own, err := b.botID(ctx)
	if err != nil || own == "" {
		return false
	}
	for _, m := range matches {
		if !tsLess(m.ts, res.TS) {
			break
		}
		if m.botID != own {
			continue
		}
		if rank(m.attempt, m.stage) <= rank(lm.Attempt, lm.Stage) {
			if b.update(ctx, res.Channel, m.ts, lm.Top, md) != nil {
				continue
			}
		}
		if err := b.deleteMessage(ctx, res.Channel, res.TS); err != nil {
			log.Warn("a racing run posted this sync's message too; cannot delete ours", "channel", res.Channel, "error", err.Error())
			return false
		}
		log.Info("a racing run posted this sync's message first: deleted ours, using theirs", "channel", res.Channel, "ts", m.ts)
		res.TS, res.Posted, res.Updated = m.ts, false, true
		return true
	}
	return false
}

// postLive posts m (a top-level message, or a reply when threadTS is set)
// with metadata md, retrying under r. Before retrying an attempt that may
// have posted after all (timeout, reset, 5xx) it looks for the message by
// its metadata, so that a retry does not post it twice; recovered says the
// message was found that way (it may be another run's).
func (b *Bot) postLive(ctx context.Context, r Retrier, m Message, md map[string]any, threadTS string, broadcast bool, log *slog.Logger) (ts string, recovered bool, err error) {
	body := map[string]any{"channel": m.Channel, "text": m.Text, "metadata": md}
	if len(m.Blocks) > 0 {
		body["blocks"] = m.Blocks
	}
	if threadTS != "" {
		body["thread_ts"] = threadTS
		if broadcast {
			body["reply_broadcast"] = true
		}
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return "", false, &Error{Method: "chat.postMessage", err: fmt.Errorf("encoding the message: %w", err)}
	}
	ep := endpoint{method: "chat.postMessage", subject: fmt.Sprintf("to channel %q", m.Channel)}
	maybePosted := false
	_, err = r.Do(ctx, "slack", func(ctx context.Context) (bool, error) {
		if maybePosted {
			if got := b.findPosted(ctx, m.Channel, threadTS, md); got != "" {
				log.Info("not posting again: the failed attempt was posted after all", "channel", m.Channel, "ts", got)
				ts, recovered = got, true
				return false, nil
			}
		}
		var out struct {
			TS string `json:"ts"`
		}
		retry, err := b.post(ctx, ep, "application/json; charset=utf-8", raw, &out)
		if err != nil {
			maybePosted = maybePosted || (retry && ambiguous(err))
			return retry, err
		}
		ts = out.TS
		return false, nil
	}, log)
	return ts, recovered, err
}

// findPosted looks for a message of this bot with metadata md, top-level
// or in the thread threadTS; "" when absent or when it cannot tell (another
// app's copy of our metadata is not our post).
func (b *Bot) findPosted(ctx context.Context, channel, threadTS string, md map[string]any) string {
	want, _ := normalize(md["event_payload"])
	own, err := b.botID(ctx)
	if err != nil || own == "" {
		return ""
	}
	msgs, err := b.listLive(ctx, channel, threadTS, time.Time{}, 1)
	if err != nil {
		return ""
	}
	for _, m := range msgs {
		var got any
		if m.Metadata != nil && m.BotID == own && m.Metadata.EventType == md["event_type"] &&
			json.Unmarshal(m.Metadata.EventPayload, &got) == nil && equalJSON(got, want) {
			return m.TS
		}
	}
	return ""
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// liveEntry is a message as conversations.history and .replies list it.
type liveEntry struct {
	TS       string `json:"ts"`
	ThreadTS string `json:"thread_ts"`
	BotID    string `json:"bot_id"`
	Metadata *struct {
		EventType    string          `json:"event_type"`
		EventPayload json.RawMessage `json:"event_payload"`
	} `json:"metadata"`
}

// findLive returns the top-level messages of channel since oldest whose
// metadata names this app and operation, oldest first. Only the exact
// metadata fields count: other apps can post anything, including our event
// type, and their text is never read.
func (b *Bot) findLive(ctx context.Context, channel, app, operation string, oldest time.Time) ([]found, error) {
	msgs, err := b.listLive(ctx, channel, "", oldest, liveMaxPages)
	if err != nil {
		return nil, err
	}
	var out []found
	for _, m := range msgs {
		if m.Metadata == nil || m.Metadata.EventType != ReportEventType || (m.ThreadTS != "" && m.ThreadTS != m.TS) {
			continue // a thread reply shown in the channel (reply_broadcast) is not the message
		}
		var p struct {
			App       *string `json:"app"`
			Operation *string `json:"operation"`
			Attempt   any     `json:"attempt"`
			Stage     any     `json:"stage"`
		}
		if json.Unmarshal(m.Metadata.EventPayload, &p) != nil || p.App == nil || p.Operation == nil ||
			*p.App != app || *p.Operation != operation {
			continue
		}
		f := found{ts: m.TS, botID: m.BotID, stage: StageReport}
		if n, ok := p.Attempt.(float64); ok && n >= 0 && n < 1e6 {
			f.attempt = int64(n)
		}
		if s, ok := p.Stage.(string); ok && s == StageStarted {
			f.stage = StageStarted
		}
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b found) int {
		switch {
		case tsLess(a.ts, b.ts):
			return -1
		case tsLess(b.ts, a.ts):
			return 1
		}
		return 0
	})
	return out, nil
}

// listLive pages conversations.history (or .replies of threadTS) with
// metadata, at most pages pages.
// https://docs.slack.dev/reference/methods/conversations.history
// https://docs.slack.dev/reference/methods/conversations.replies
func (b *Bot) listLive(ctx context.Context, channel, threadTS string, oldest time.Time, pages int) ([]liveEntry, error) {
	method := "conversations.history"
	if threadTS != "" {
		method = "conversations.replies"
	}
	ep := endpoint{method: method, subject: fmt.Sprintf("of channel %q", channel), maxBody: liveMaxPageBody}
	var all []liveEntry
	cursor := ""
	for range pages {
		q := url.Values{"channel": {channel}, "limit": {strconv.Itoa(liveHistoryLimit)}, "include_all_metadata": {"true"}}
		if threadTS != "" {
			q.Set("ts", threadTS)
		}
		if !oldest.IsZero() {
			q.Set("oldest", fmt.Sprintf("%d.%06d", oldest.Unix(), oldest.Nanosecond()/1000))
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var out struct {
			Messages         []liveEntry `json:"messages"`
			ResponseMetadata struct {
				NextCursor string `json:"next_cursor"`
			} `json:"response_metadata"`
		}
		if _, err := b.post(ctx, ep, formType, []byte(q.Encode()), &out); err != nil {
			return nil, err
		}
		all = append(all, out.Messages...)
		if cursor = out.ResponseMetadata.NextCursor; cursor == "" {
			break
		}
	}
	return all, nil
}

// update replaces the text, blocks and metadata of the message ts.
// https://docs.slack.dev/reference/methods/chat.update
func (b *Bot) update(ctx context.Context, channel, ts string, m Message, md map[string]any) error {
	body := map[string]any{"channel": channel, "ts": ts, "text": m.Text, "metadata": md}
	if len(m.Blocks) > 0 {
		body["blocks"] = m.Blocks
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return &Error{Method: "chat.update", err: fmt.Errorf("encoding the message: %w", err)}
	}
	ep := endpoint{method: "chat.update", subject: fmt.Sprintf("of message %s in channel %q", ts, channel)}
	_, err = b.post(ctx, ep, "application/json; charset=utf-8", raw, nil)
	return err
}

// botID is the bot user's bot_id (auth.test), as history shows it on the
// bot's messages; asked once per Bot.
// https://docs.slack.dev/reference/methods/auth.test
func (b *Bot) botID(ctx context.Context) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ownBotID != "" {
		return b.ownBotID, nil
	}
	var out struct {
		BotID string `json:"bot_id"`
	}
	if _, err := b.post(ctx, endpoint{method: "auth.test"}, formType, nil, &out); err != nil {
		return "", err
	}
	b.ownBotID = out.BotID
	return out.BotID, nil
}

// deleteMessage removes one of the bot's own messages.
// https://docs.slack.dev/reference/methods/chat.delete
func (b *Bot) deleteMessage(ctx context.Context, channel, ts string) error {
	ep := endpoint{method: "chat.delete", subject: fmt.Sprintf("of message %s in channel %q", ts, channel)}
	_, err := b.post(ctx, ep, formType, []byte(url.Values{"channel": {channel}, "ts": {ts}}.Encode()), nil)
	return err
}

// tsLess compares two Slack timestamps ("1700000000.000100").
func tsLess(a, b string) bool {
	as, au := splitTS(a)
	bs, bu := splitTS(b)
	if as != bs {
		return as < bs
	}
	return au < bu
}

func splitTS(ts string) (sec, micro int64) {
	s, frac, _ := strings.Cut(ts, ".")
	sec, _ = strconv.ParseInt(s, 10, 64)
	frac = (frac + "000000")[:6]
	micro, _ = strconv.ParseInt(frac, 10, 64)
	return sec, micro
}
