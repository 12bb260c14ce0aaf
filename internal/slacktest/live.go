package slacktest

import (
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// The methods a live message uses: chat.update edits it, chat.delete removes
// a duplicate, conversations.replies reads its thread. Each answers with the
// error codes Slack documents for it.

// postRate is a per-channel allowance for chat.postMessage: Slack allows
// about one message a second per channel, with short bursts.
// https://docs.slack.dev/apis/web-api/rate-limits#special-rate-limits
type postRate struct {
	perSecond float64
	burst     float64
}

type bucket struct {
	tokens float64
	at     time.Time
}

// LimitPosts makes chat.postMessage enforce perSecond messages per channel
// with bursts of up to burst, answering the excess as Slack does: HTTP 429,
// Retry-After (whole seconds, at least 1) and {"ok":false,"error":"ratelimited"}.
// Zero perSecond lifts the limit (the default).
func (s *Server) LimitPosts(perSecond float64, burst int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rate = postRate{perSecond: perSecond, burst: float64(max(burst, 1))}
	s.buckets = map[string]*bucket{}
}

// SetEditWindow makes chat.update answer edit_window_closed for a message
// older than d, as a workspace with a message-editing limit does. Zero (the
// default) lets any message be edited.
func (s *Server) SetEditWindow(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.editWindow = d
}

// Inject adds a message posted by another app (botID, not "") to a channel,
// as it would be found in its history; chat.update refuses it with
// cant_update_message. It returns the message with its ts.
func (s *Server) Inject(botID string, p Post) Post {
	p.Endpoint, p.BotID = EndpointPostMessage, botID
	return s.addPost(p)
}

// takePost spends one of channel's chat.postMessage allowance; when none is
// left it returns how long until one is.
func (s *Server) takePost(channel string) (wait time.Duration, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rate.perSecond <= 0 {
		return 0, true
	}
	id := s.resolve(channel)
	now := time.Now()
	b := s.buckets[id]
	if b == nil {
		b = &bucket{tokens: s.rate.burst, at: now}
		s.buckets[id] = b
	}
	b.tokens = min(s.rate.burst, b.tokens+now.Sub(b.at).Seconds()*s.rate.perSecond)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	return time.Duration((1 - b.tokens) / s.rate.perSecond * float64(time.Second)), false
}

// rateLimited answers as Slack does past a rate limit.
// https://docs.slack.dev/apis/web-api/rate-limits
func rateLimited(w http.ResponseWriter, wait time.Duration) {
	secs := max(1, int(math.Ceil(wait.Seconds())))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeJSON(w, http.StatusTooManyRequests, map[string]any{"ok": false, "error": "ratelimited"})
}

// exists reports whether a top-level message with ts is in channel.
func (s *Server) exists(channel, ts string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.resolve(channel)
	return slices.ContainsFunc(s.posts, func(p Post) bool { return p.ChannelID == id && p.TS == ts && !p.Deleted })
}

// find returns the index of the message ts in channel ID id, -1 if none.
// The caller holds s.mu.
func (s *Server) find(id, ts string) int {
	return slices.IndexFunc(s.posts, func(p Post) bool { return p.ChannelID == id && p.TS == ts && !p.Deleted })
}

// update edits a message in place: its text, blocks and metadata.
// https://docs.slack.dev/reference/methods/chat.update
func (s *Server) update(w http.ResponseWriter, p params) {
	channel, ts := p.str("channel"), p.str("ts")
	edit := Post{Text: p.str("text"), Blocks: p.raw("blocks"), Metadata: p.raw("metadata")}
	switch {
	case channel == "" || !isID(channel):
		apiError(w, "channel_not_found")
		return
	case ts == "":
		apiError(w, "message_not_found")
		return
	}
	if code := checkMessage(edit); code != "" {
		apiError(w, code)
		return
	}
	s.mu.Lock()
	i := s.find(s.resolve(channel), ts)
	var code string
	switch {
	case i < 0:
		code = "message_not_found"
	case s.posts[i].BotID != "" || s.posts[i].Endpoint != EndpointPostMessage:
		// Another app's message, or one posted through a webhook.
		code = "cant_update_message"
	case s.editWindow > 0 && time.Since(s.posts[i].Time) > s.editWindow:
		code = "edit_window_closed"
	}
	if code != "" {
		s.mu.Unlock()
		apiError(w, code)
		return
	}
	post := &s.posts[i]
	post.Text, post.Blocks, post.Edits = edit.Text, edit.Blocks, post.Edits+1
	if edit.Metadata != nil {
		post.Metadata = edit.Metadata
	}
	out := *post
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"ok": true, "channel": out.ChannelID, "ts": out.TS, "text": out.Text, "message": historyMessage(out, false),
	})
}

// deleteMessage removes one of the bot's own messages.
// https://docs.slack.dev/reference/methods/chat.delete
func (s *Server) deleteMessage(w http.ResponseWriter, p params) {
	channel, ts := p.str("channel"), p.str("ts")
	if !isID(channel) {
		apiError(w, "channel_not_found")
		return
	}
	s.mu.Lock()
	i := s.find(s.resolve(channel), ts)
	code := ""
	switch {
	case i < 0:
		code = "message_not_found"
	case s.posts[i].BotID != "":
		code = "cant_delete_message"
	default:
		s.posts[i].Deleted = true
	}
	s.mu.Unlock()
	if code != "" {
		apiError(w, code)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "channel": channel, "ts": ts})
}

// replies lists a thread, its parent first, then the replies oldest first,
// paging with a cursor like history.
// https://docs.slack.dev/reference/methods/conversations.replies
func (s *Server) replies(w http.ResponseWriter, p params) {
	channel, ts := p.str("channel"), p.str("ts")
	if !isID(channel) {
		apiError(w, "channel_not_found")
		return
	}
	limit := 1000
	if l, err := strconv.Atoi(p.str("limit")); err == nil && l > 0 {
		limit = min(l, 1000)
	}
	offset := 0
	if c := p.str("cursor"); c != "" {
		n, err := strconv.Atoi(c[len("offset:"):])
		if len(c) < len("offset:") || err != nil || n < 0 {
			apiError(w, "invalid_cursor")
			return
		}
		offset = n
	}
	withMeta := p.str("include_all_metadata") == "true" || p.str("include_all_metadata") == "1"
	s.mu.Lock()
	id := s.resolve(channel)
	parent := s.find(id, ts)
	var msgs []Post
	if parent >= 0 {
		msgs = append(msgs, s.posts[parent])
		for _, post := range s.posts {
			if post.ChannelID == id && post.ThreadTS == ts && !post.Deleted {
				msgs = append(msgs, post)
			}
		}
	}
	s.mu.Unlock()
	if parent < 0 {
		apiError(w, "thread_not_found")
		return
	}
	out := []map[string]any{}
	for i := offset; i < len(msgs) && len(out) < limit; i++ {
		m := historyMessage(msgs[i], withMeta)
		if i == 0 {
			m["thread_ts"] = ts
			m["reply_count"] = len(msgs) - 1
		}
		out = append(out, m)
	}
	ans := map[string]any{"ok": true, "messages": out, "has_more": offset+len(out) < len(msgs)}
	if offset+len(out) < len(msgs) {
		ans["response_metadata"] = map[string]any{"next_cursor": "offset:" + strconv.Itoa(offset+len(out))}
	}
	writeJSON(w, http.StatusOK, ans)
}

// TopLevel returns the channel's messages that are not thread replies (a
// broadcast reply is shown in the channel but still belongs to its thread),
// deleted ones left out, in posting order, as they read now (after edits).
func (s *Server) TopLevel(channelID string) []Post {
	var out []Post
	for _, p := range s.Posts() {
		if p.ChannelID == channelID && p.ThreadTS == "" && !p.Deleted {
			out = append(out, p)
		}
	}
	return out
}

// Thread returns the replies to the message ts, oldest first.
func (s *Server) Thread(channelID, ts string) []Post {
	var out []Post
	for _, p := range s.Posts() {
		if p.ChannelID == channelID && p.ThreadTS == ts && !p.Deleted {
			out = append(out, p)
		}
	}
	return out
}

// MetadataPayload decodes a message's metadata event_payload, nil if none.
func (p Post) MetadataPayload() map[string]any {
	var md struct {
		EventPayload map[string]any `json:"event_payload"`
	}
	if json.Unmarshal(p.Metadata, &md) != nil {
		return nil
	}
	return md.EventPayload
}
