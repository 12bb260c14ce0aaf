package slacktest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// params is a Web API request's arguments, whether sent as JSON or as a form;
// form values are held as JSON strings so both read the same way.
type params map[string]json.RawMessage

func parseParams(r *http.Request, body []byte) (params, bool) {
	p := params{}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(body, &p); err != nil {
			return nil, false
		}
		return p, true
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, false
	}
	for k, v := range r.URL.Query() {
		if _, ok := form[k]; !ok {
			form[k] = v
		}
	}
	for k := range form {
		b, _ := json.Marshal(form.Get(k))
		p[k] = b
	}
	return p, true
}

// str reads a string argument; numbers and booleans are returned as written.
func (p params) str(key string) string {
	raw, ok := p[key]
	if !ok {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return strings.TrimSpace(string(raw))
}

// raw reads an argument that holds JSON: inline in a JSON body, or as a JSON
// string in a form (how blocks and metadata travel when form-encoded).
func (p params) raw(key string) json.RawMessage {
	raw, ok := p[key]
	if !ok || string(raw) == "null" {
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s == "" {
			return nil
		}
		return json.RawMessage(s)
	}
	return raw
}

func (s *Server) api(w http.ResponseWriter, r *http.Request, endpoint string, body []byte) {
	p, ok := parseParams(r, body)
	if !ok {
		apiError(w, "invalid_json")
		return
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		token = p.str("token")
	}
	s.mu.Lock()
	valid := s.token
	s.mu.Unlock()
	switch {
	case token == "":
		apiError(w, "not_authed")
		return
	case token != valid:
		apiError(w, "invalid_auth")
		return
	}

	switch endpoint {
	case EndpointPostMessage:
		s.postMessage(w, p)
	case EndpointLookupByEmail:
		s.lookupByEmail(w, p)
	case EndpointOpenConversation:
		s.openConversation(w, p)
	case EndpointHistory:
		s.history(w, p)
	case "auth.test":
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "url": "https://slacktest.slack.com/", "team": "slacktest",
			"user": "syncreport", "team_id": "T000", "user_id": "U000SLACKTEST", "bot_id": BotID})
	case EndpointReplies:
		s.replies(w, p)
	case EndpointUpdate:
		s.update(w, p)
	case EndpointDelete:
		s.deleteMessage(w, p)
	default:
		apiError(w, "unknown_method")
	}
}

func apiError(w http.ResponseWriter, code string) {
	writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": code})
}

// postMessage checks the arguments Slack checks before posting.
// https://docs.slack.dev/reference/methods/chat.postMessage
func (s *Server) postMessage(w http.ResponseWriter, p params) {
	post := Post{
		Endpoint: EndpointPostMessage,
		Channel:  p.str("channel"),
		Text:     p.str("text"),
		Blocks:   p.raw("blocks"),
		Metadata: p.raw("metadata"),
		ThreadTS: p.str("thread_ts"),
	}
	post.Broadcast = post.ThreadTS != "" && (p.str("reply_broadcast") == "true" || p.str("reply_broadcast") == "1")
	if code := checkMessage(post); code != "" {
		apiError(w, code)
		return
	}
	if post.Channel == "" {
		apiError(w, "channel_not_found")
		return
	}
	if wait, ok := s.takePost(post.Channel); !ok {
		rateLimited(w, wait)
		return
	}
	if post.ThreadTS != "" && !s.exists(post.Channel, post.ThreadTS) {
		apiError(w, "thread_not_found")
		return
	}
	post = s.addPost(post)
	writeJSON(w, http.StatusOK, map[string]any{
		"ok":      true,
		"channel": post.ChannelID,
		"ts":      post.TS,
		"message": historyMessage(post, true),
	})
}

// checkMessage returns the error code Slack would give post's content, "" if none.
func checkMessage(post Post) string {
	switch {
	case post.Text == "" && post.Blocks == nil:
		return "no_text"
	case len(post.Text) > 40000:
		return "msg_too_long"
	}
	if post.Blocks != nil {
		var blocks []json.RawMessage
		if json.Unmarshal(post.Blocks, &blocks) != nil {
			return "invalid_blocks_format"
		}
		if len(blocks) > 50 {
			return "invalid_blocks"
		}
	}
	if post.Metadata != nil {
		var md struct {
			EventType string `json:"event_type"`
		}
		if json.Unmarshal(post.Metadata, &md) != nil {
			return "invalid_metadata_format"
		}
		if md.EventType == "" {
			return "invalid_metadata_schema"
		}
	}
	return ""
}

// webhook accepts a message posted to the incoming webhook.
// https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks
func (s *Server) webhook(w http.ResponseWriter, body []byte) {
	var p params
	if json.Unmarshal(body, &p) != nil {
		writeText(w, http.StatusBadRequest, "invalid_payload")
		return
	}
	post := Post{
		Endpoint: EndpointWebhook,
		Channel:  p.str("channel"),
		Text:     p.str("text"),
		Blocks:   p.raw("blocks"),
		Metadata: p.raw("metadata"),
	}
	switch code := checkMessage(post); code {
	case "":
	case "no_text":
		writeText(w, http.StatusBadRequest, code)
		return
	default:
		writeText(w, http.StatusBadRequest, "invalid_payload")
		return
	}
	s.addPost(post)
	writeText(w, http.StatusOK, "ok")
}

// addPost stores post with its channel ID and timestamp filled in.
func (s *Server) addPost(post Post) Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := post.Channel
	if ch == "" {
		ch = "#webhook" // an incoming webhook is bound to a channel chosen at install time
	}
	post.ChannelID = s.resolve(ch)
	post.Time = time.Now()
	// Slack's ts is the posting time in microseconds, unique per channel.
	us := max(post.Time.UnixMicro(), s.lastTS+1)
	s.lastTS = us
	post.TS = fmt.Sprintf("%d.%06d", us/1e6, us%1e6)
	s.posts = append(s.posts, post)
	return post
}

// resolve maps a channel as a client names it to its ID. IDs pass through;
// a user ID stands for the DM with that user, as in chat.postMessage. The
// caller holds s.mu.
func (s *Server) resolve(channel string) string {
	if isID(channel) {
		if channel[0] == 'U' || channel[0] == 'W' {
			return "D" + channel[1:]
		}
		return channel
	}
	name := strings.TrimPrefix(channel, "#")
	if id, ok := s.channels[name]; ok {
		return id
	}
	id := fmt.Sprintf("C%08X", len(s.channels)+1)
	s.channels[name] = id
	return id
}

// isID reports whether s looks like a Slack ID (C…, D…, G…, U…, W…).
func isID(s string) bool {
	if len(s) < 3 || !strings.ContainsRune("CDGUW", rune(s[0])) {
		return false
	}
	for _, c := range s[1:] {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// https://docs.slack.dev/reference/methods/users.lookupByEmail
func (s *Server) lookupByEmail(w http.ResponseWriter, p params) {
	email := strings.ToLower(p.str("email"))
	if email == "" {
		apiError(w, "invalid_arguments")
		return
	}
	s.mu.Lock()
	id, ok := s.users[email]
	s.mu.Unlock()
	if !ok {
		apiError(w, "users_not_found")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"ok": true,
		"user": map[string]any{
			"id":      id,
			"name":    strings.SplitN(email, "@", 2)[0],
			"profile": map[string]any{"email": email},
		},
	})
}

// https://docs.slack.dev/reference/methods/conversations.open
func (s *Server) openConversation(w http.ResponseWriter, p params) {
	users := p.str("users")
	if users == "" {
		if p.str("channel") != "" {
			writeJSON(w, http.StatusOK, map[string]any{"ok": true, "channel": map[string]any{"id": p.str("channel")}})
			return
		}
		apiError(w, "users_list_not_supplied")
		return
	}
	ids := strings.Split(users, ",")
	for _, id := range ids {
		if !isID(id) || (id[0] != 'U' && id[0] != 'W') {
			apiError(w, "user_not_found")
			return
		}
	}
	s.mu.Lock()
	var ch string
	if len(ids) == 1 {
		ch = s.resolve(ids[0])
	} else {
		ch = "G" + strings.TrimPrefix(s.resolve("mpdm-"+users), "C")
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "channel": map[string]any{"id": ch}})
}

// history lists a channel's messages newest first, paging with an opaque
// cursor; metadata is included only when asked for, as in Slack.
// https://docs.slack.dev/reference/methods/conversations.history
func (s *Server) history(w http.ResponseWriter, p params) {
	channel := p.str("channel")
	if channel == "" {
		apiError(w, "channel_not_found")
		return
	}
	limit := 100
	if l, err := strconv.Atoi(p.str("limit")); err == nil && l > 0 {
		limit = min(l, 999)
	}
	offset := 0
	if c := p.str("cursor"); c != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(c, "offset:"))
		if err != nil || n < 0 {
			apiError(w, "invalid_cursor")
			return
		}
		offset = n
	}
	withMeta := p.str("include_all_metadata") == "true" || p.str("include_all_metadata") == "1"
	inclusive := p.str("inclusive") == "true" || p.str("inclusive") == "1"
	oldest, latest := p.str("oldest"), p.str("latest")

	if !isID(channel) {
		// Slack wants the ID here: a name is not found.
		apiError(w, "channel_not_found")
		return
	}
	s.mu.Lock()
	id := s.resolve(channel)
	var msgs []Post
	for _, post := range s.posts {
		if post.ChannelID != id || post.Deleted || (post.ThreadTS != "" && !post.Broadcast) {
			continue
		}
		if oldest != "" && !after(post.TS, oldest, inclusive) {
			continue
		}
		if latest != "" && !after(latest, post.TS, inclusive) {
			continue
		}
		msgs = append(msgs, post)
	}
	s.mu.Unlock()
	slices.Reverse(msgs)

	out := []map[string]any{}
	for i := offset; i < len(msgs) && len(out) < limit; i++ {
		out = append(out, historyMessage(msgs[i], withMeta))
	}
	ans := map[string]any{"ok": true, "messages": out, "has_more": offset+len(out) < len(msgs)}
	if offset+len(out) < len(msgs) {
		ans["response_metadata"] = map[string]any{"next_cursor": "offset:" + strconv.Itoa(offset+len(out))}
	}
	writeJSON(w, http.StatusOK, ans)
}

// after reports whether timestamp a is later than b (or equal, if inclusive).
func after(a, b string, inclusive bool) bool {
	as, au := splitTS(a)
	bs, bu := splitTS(b)
	if as != bs {
		return as > bs
	}
	if inclusive {
		return au >= bu
	}
	return au > bu
}

func splitTS(ts string) (sec, micro int64) {
	s, frac, _ := strings.Cut(ts, ".")
	sec, _ = strconv.ParseInt(s, 10, 64)
	frac = (frac + "000000")[:6]
	micro, _ = strconv.ParseInt(frac, 10, 64)
	return sec, micro
}

func historyMessage(post Post, withMeta bool) map[string]any {
	m := map[string]any{
		"type":    "message",
		"subtype": "bot_message",
		"bot_id":  or(post.BotID, BotID),
		"text":    post.Text,
		"ts":      post.TS,
	}
	if post.Blocks != nil {
		m["blocks"] = post.Blocks
	}
	if post.ThreadTS != "" {
		m["thread_ts"] = post.ThreadTS
		if post.Broadcast {
			m["subtype"] = "thread_broadcast"
		}
	}
	if post.Edits > 0 {
		m["edited"] = map[string]any{"user": "U000SLACKTEST", "ts": post.TS}
	}
	if withMeta && post.Metadata != nil {
		m["metadata"] = post.Metadata
	}
	return m
}

// BotID is the bot_id of the messages the accepted token posts.
const BotID = "B000SLACKTEST"

func or(s, def string) string {
	if s != "" {
		return s
	}
	return def
}
