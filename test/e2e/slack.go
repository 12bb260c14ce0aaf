//go:build linux

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"
)

// SlackToken is the bot token the Slack server accepts; the stack puts it in
// each app namespace's syncreport-slack Secret.
const SlackToken = "xoxb-e2e-token"

// Message is one chat.postMessage (or, in Updates, chat.update) the Slack
// server accepted.
type Message struct {
	Time    time.Time
	Channel string
	Text    string
	Body    map[string]any // the whole JSON body
	Raw     string
	// Form is the body of a form-encoded call (slack-go's, which ACN uses).
	Form url.Values
	// ThreadTS is thread_ts, set on a thread reply; in Updates, the ts of
	// the message updated.
	ThreadTS string
	// TS is the ts the server gave the message.
	TS string
}

// Slack is a minimal Slack Web API: chat.postMessage and chat.update
// (recorded), users.lookupByEmail (from Users), conversations.history (empty),
// conversations.open. It answers like Slack: HTTP 200, {"ok":…}.
type Slack struct {
	srv *httptest.Server

	mu       sync.Mutex
	users    map[string]string // email → member ID
	messages []Message
	updates  []Message
	seq      int
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

// Messages returns the accepted messages, in order.
func (s *Slack) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
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
		ts := fmt.Sprintf("%d.%06d", time.Now().Unix(), s.seq)
		s.messages = append(s.messages, Message{Time: time.Now(), Channel: ch, Text: param("text"), Body: js, Raw: string(body), Form: form, ThreadTS: param("thread_ts"), TS: ts})
		writeJSON(w, map[string]any{"ok": true, "channel": channelID(ch), "ts": ts})
	case "chat.update":
		ch := param("channel")
		s.updates = append(s.updates, Message{Time: time.Now(), Channel: ch, Text: param("text"), Body: js, Raw: string(body), Form: form, ThreadTS: param("ts")})
		writeJSON(w, map[string]any{"ok": true, "channel": channelID(ch), "ts": param("ts")})
	case "users.lookupByEmail":
		if id, ok := s.users[strings.ToLower(param("email"))]; ok {
			writeJSON(w, map[string]any{"ok": true, "user": map[string]any{"id": id, "profile": map[string]any{"email": param("email")}}})
			return
		}
		writeJSON(w, map[string]any{"ok": false, "error": "users_not_found"})
	case "conversations.history":
		writeJSON(w, map[string]any{"ok": true, "messages": []any{}, "has_more": false})
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
