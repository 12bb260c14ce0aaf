//go:build linux

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SlackToken is the bot token the Slack server accepts; the stack puts it in
// each app namespace's syncreport-slack Secret.
const SlackToken = "xoxb-e2e-token"

// Message is one chat.postMessage the Slack server accepted, as it reads
// now: chat.update replaces its text, blocks and metadata.
type Message struct {
	Time    time.Time
	Channel string
	Text    string
	Body    map[string]any // the whole JSON body, as updated
	Raw     string         // the body as first posted
	// Form is the body of a form-encoded call (slack-go's, which ACN uses).
	Form url.Values
	TS   string
	// ThreadTS is the parent's ts for a thread reply; Broadcast a reply
	// also shown in the channel.
	ThreadTS  string
	Broadcast bool
	Edits     int
	Updated   time.Time // of the last chat.update
	deleted   bool
}

// Slack is a minimal Slack Web API: chat.postMessage (recorded, threads
// included), chat.update, chat.delete, conversations.history and
// conversations.replies (by channel ID, with metadata), users.lookupByEmail
// (from Users), conversations.open, auth.test. It answers like Slack:
// HTTP 200, {"ok":…}.
type Slack struct {
	srv *httptest.Server

	mu       sync.Mutex
	users    map[string]string // email → member ID
	messages []Message
	// posts and updates are every accepted chat.postMessage (as posted,
	// thread replies included) and chat.update (ThreadTS: the ts updated),
	// for the side by side with Argo CD Notifications.
	posts, updates []Message
	seq            int
	lastTS         int64 // microseconds of the newest ts
}

// NewSlack starts the server on 127.0.0.1.
func NewSlack(users map[string]string) *Slack {
	s := &Slack{users: users}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the Web API base for SLACK_API_URL.
func (s *Slack) URL() string { return s.srv.URL + "/api/" }

// Close stops the server.
func (s *Slack) Close() { s.srv.Close() }

// Messages returns the top-level messages (not thread replies, not
// deleted), in posting order, as they read now.
func (s *Slack) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.messages {
		if m.ThreadTS == "" && !m.deleted {
			out = append(out, m)
		}
	}
	return out
}

// Replies returns the thread replies to the message ts in channel (as
// posted: an ID or a name), oldest first.
func (s *Slack) Replies(channel, ts string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.messages {
		if m.ThreadTS == ts && channelID(m.Channel) == channelID(channel) && !m.deleted {
			out = append(out, m)
		}
	}
	return out
}

// e2eBotID is the bot_id of every message the bot posts.
const e2eBotID = "B0E2E"

// find returns the index of the message ts in channel, -1 if none.
func (s *Slack) find(channel, ts string) int {
	for i, m := range s.messages {
		if m.TS == ts && channelID(m.Channel) == channelID(channel) && !m.deleted {
			return i
		}
	}
	return -1
}

// findByID is find for the methods that, like Slack's, take a channel ID
// only (update, delete, replies): a name finds nothing.
func (s *Slack) findByID(channel, ts string) int {
	if !isID(channel) {
		return -1
	}
	return s.find(channel, ts)
}

// listed is a message as history and replies show it.
func listed(m Message, meta bool) map[string]any {
	out := map[string]any{"type": "message", "ts": m.TS, "text": m.Text, "bot_id": e2eBotID}
	if m.ThreadTS != "" {
		out["thread_ts"] = m.ThreadTS
	}
	if md, ok := m.Body["metadata"]; ok && meta {
		out["metadata"] = md
	}
	return out
}

// isID reports a channel ID, which history, replies and update require.
func isID(ch string) bool {
	return len(ch) > 2 && strings.ContainsRune("CGD", rune(ch[0])) && strings.ToUpper(ch) == ch && !strings.ContainsAny(ch, "#-")
}

// Posts returns every accepted chat.postMessage as it was posted (thread
// replies and later-deleted messages included), in order.
func (s *Slack) Posts() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.posts...)
}

// Updates returns the accepted chat.update calls, in order.
func (s *Slack) Updates() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.updates...)
}

func (s *Slack) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form := url.Values{}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		form, _ = url.ParseQuery(string(body))
	}
	// Slack takes the token as a bearer header or, as slack-go (ACN) sends
	// it, a form field of a POST.
	if r.Header.Get("Authorization") != "Bearer "+SlackToken && form.Get("token") != SlackToken {
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	for k, v := range r.URL.Query() {
		form[k] = v
	}
	var js map[string]any
	_ = json.Unmarshal(body, &js)
	param := func(k string) string {
		if v, ok := js[k].(string); ok {
			return v
		}
		return form.Get(k)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	switch strings.TrimPrefix(r.URL.Path, "/api/") {
	case "chat.postMessage":
		ch := param("channel")
		m := Message{Time: time.Now(), Channel: ch, Text: param("text"), Body: js, Raw: string(body), Form: form, ThreadTS: param("thread_ts")}
		m.Broadcast, _ = js["reply_broadcast"].(bool)
		if m.ThreadTS != "" && s.find(ch, m.ThreadTS) < 0 {
			writeJSON(w, map[string]any{"ok": false, "error": "thread_not_found"})
			return
		}
		// Slack's ts: the time in microseconds, unique.
		us := max(m.Time.UnixMicro(), s.lastTS+1)
		s.lastTS = us
		m.TS = fmt.Sprintf("%d.%06d", us/1e6, us%1e6)
		s.messages = append(s.messages, m)
		// A copy: chat.update changes the message's Body, not the post.
		posted := m
		posted.Body = maps.Clone(m.Body)
		s.posts = append(s.posts, posted)
		writeJSON(w, map[string]any{"ok": true, "channel": channelID(ch), "ts": m.TS, "message": listed(m, false)})
	case "chat.update":
		ch, ts := param("channel"), param("ts")
		i := s.findByID(ch, ts)
		if i < 0 {
			writeJSON(w, map[string]any{"ok": false, "error": "message_not_found"})
			return
		}
		s.updates = append(s.updates, Message{Time: time.Now(), Channel: ch, Text: param("text"), Body: js, Raw: string(body), Form: form, ThreadTS: ts})
		m := &s.messages[i]
		if m.Body == nil {
			m.Body = map[string]any{}
		}
		for _, k := range []string{"text", "blocks", "metadata"} {
			if v, ok := js[k]; ok {
				m.Body[k] = v
			}
		}
		m.Text, m.Edits, m.Updated = param("text"), m.Edits+1, time.Now()
		writeJSON(w, map[string]any{"ok": true, "channel": ch, "ts": ts, "text": m.Text})
	case "chat.delete":
		ch, ts := param("channel"), param("ts")
		i := s.findByID(ch, ts)
		if i < 0 {
			writeJSON(w, map[string]any{"ok": false, "error": "message_not_found"})
			return
		}
		s.messages[i].deleted = true
		writeJSON(w, map[string]any{"ok": true, "channel": ch, "ts": ts})
	case "auth.test":
		writeJSON(w, map[string]any{"ok": true, "user_id": "U0E2EBOT", "bot_id": e2eBotID})
	case "conversations.replies":
		ch, ts := param("channel"), param("ts")
		i := s.findByID(ch, ts)
		if i < 0 {
			writeJSON(w, map[string]any{"ok": false, "error": "thread_not_found"})
			return
		}
		meta := param("include_all_metadata") == "true"
		out := []any{listed(s.messages[i], meta)}
		for _, m := range s.messages {
			if m.ThreadTS == ts && channelID(m.Channel) == channelID(ch) && !m.deleted {
				out = append(out, listed(m, meta))
			}
		}
		writeJSON(w, map[string]any{"ok": true, "messages": out, "has_more": false})
	case "users.lookupByEmail":
		if id, ok := s.users[strings.ToLower(param("email"))]; ok {
			writeJSON(w, map[string]any{"ok": true, "user": map[string]any{"id": id, "profile": map[string]any{"email": param("email")}}})
			return
		}
		writeJSON(w, map[string]any{"ok": false, "error": "users_not_found"})
	case "conversations.history":
		ch := param("channel")
		if !isID(ch) {
			writeJSON(w, map[string]any{"ok": false, "error": "channel_not_found"})
			return
		}
		oldest, _ := strconv.ParseFloat(param("oldest"), 64)
		meta := param("include_all_metadata") == "true"
		out := []any{}
		for i := len(s.messages) - 1; i >= 0; i-- { // newest first
			m := s.messages[i]
			ts, _ := strconv.ParseFloat(m.TS, 64)
			if channelID(m.Channel) != channelID(ch) || m.deleted || (m.ThreadTS != "" && !m.Broadcast) || ts <= oldest {
				continue
			}
			out = append(out, listed(m, meta))
		}
		writeJSON(w, map[string]any{"ok": true, "messages": out, "has_more": false})
	case "conversations.open":
		writeJSON(w, map[string]any{"ok": true, "channel": map[string]any{"id": "D" + strings.TrimPrefix(param("users"), "U")}})
	default:
		writeJSON(w, map[string]any{"ok": false, "error": "unknown_method"})
	}
}

// channelID is a stable fake ID for a channel name.
func channelID(ch string) string {
	if strings.HasPrefix(ch, "C") || strings.HasPrefix(ch, "D") {
		return ch
	}
	return "C" + strings.ToUpper(strings.Trim(strings.TrimPrefix(ch, "#"), "-"))
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

// Report is the syncreport_report metadata of a message: which app
// ("namespace/name"), attempt and verdict it reports.
func (m Message) Report() (app, verdict string, attempt int) {
	md, _ := m.Body["metadata"].(map[string]any)
	p, _ := md["event_payload"].(map[string]any)
	app, _ = p["app"].(string)
	verdict, _ = p["verdict"].(string)
	if a, ok := p["attempt"].(float64); ok {
		attempt = int(a)
	}
	return app, verdict, attempt
}

// AllText is every string in the message body (text, blocks, fields,
// links), one a line: what a reader of the message sees, and more.
func (m Message) AllText() string {
	var b strings.Builder
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			b.WriteString(v)
			b.WriteByte('\n')
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any:
			for _, k := range []string{"text", "blocks", "attachments", "fields", "elements", "url", "alt_text"} {
				if e, ok := v[k]; ok {
					walk(e)
				}
			}
		}
	}
	walk(m.Body)
	return b.String()
}
