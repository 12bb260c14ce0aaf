// Package slacktest is a Slack Web API and incoming-webhook server for tests.
//
// It listens on 127.0.0.1, answers with the shapes real Slack uses (HTTP 200
// with {"ok":false,"error":…} for Web API errors, plain-text codes for
// webhooks), records every request, and replays scripted faults so callers can
// test retries through the real HTTP path. It deliberately does not import the
// packages it is used to test.
package slacktest

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Endpoint names, as accepted by Fail and Always and reported in Request.
const (
	EndpointPostMessage      = "chat.postMessage"
	EndpointLookupByEmail    = "users.lookupByEmail"
	EndpointOpenConversation = "conversations.open"
	EndpointHistory          = "conversations.history"
	EndpointReplies          = "conversations.replies"
	EndpointUpdate           = "chat.update"
	EndpointDelete           = "chat.delete"
	EndpointWebhook          = "webhook"
)

// DefaultToken is the bot token a new Server accepts.
const DefaultToken = "xoxb-slacktest-token"

// DefaultWebhookPath is the incoming-webhook path a new Server accepts.
const DefaultWebhookPath = "/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX"

// Request is one request the server received, faulted or not.
type Request struct {
	Time     time.Time
	Endpoint string // one of the Endpoint constants; "" for paths the server does not serve
	Method   string
	Path     string
	Header   http.Header
	Body     []byte         // raw body
	JSON     map[string]any // Body decoded, when it is a JSON object
	Form     url.Values     // Body decoded, when it is a form
}

// Post is a message the server accepted, through chat.postMessage or the webhook.
type Post struct {
	Endpoint  string // EndpointPostMessage or EndpointWebhook
	Channel   string // as sent, e.g. "#deploys"; may be empty for the webhook
	ChannelID string // what Slack would answer, e.g. "C00000001"
	Text      string
	Blocks    json.RawMessage // nil when no blocks were sent
	Metadata  json.RawMessage // nil when no metadata was sent
	TS        string
	// ThreadTS is the parent's ts for a reply in a thread, "" for a
	// top-level message.
	ThreadTS string
	// Broadcast is a thread reply also shown in the channel (reply_broadcast).
	Broadcast bool
	// Edits counts the chat.update calls that changed it.
	Edits int
	// Deleted is set by chat.delete; a deleted message is in no listing.
	Deleted bool
	// Time is when it was posted, for edit-window checks.
	Time time.Time
	// BotID is the app that posted it: "" for the token the server
	// accepts (chat.update refuses anyone else's message).
	BotID string
}

// Server is a running fake Slack. All methods are safe for concurrent use.
type Server struct {
	srv     *httptest.Server
	closing chan struct{}
	once    sync.Once

	mu          sync.Mutex
	token       string
	webhookPath string
	users       map[string]string  // email → user ID
	queued      map[string][]Fault // endpoint → faults still to apply, in order
	always      map[string]Fault   // endpoint → fault applied once queued ones run out
	requests    []Request
	posts       []Post
	channels    map[string]string  // channel name → ID
	lastTS      int64              // microseconds of the newest ts handed out
	rate        postRate           // per-channel chat.postMessage limit; zero: none
	buckets     map[string]*bucket // channel ID → its chat.postMessage allowance
	editWindow  time.Duration      // chat.update refuses older messages; zero: no window
}

// New starts a server. Call Close when done.
func New() *Server {
	s := &Server{
		closing:     make(chan struct{}),
		token:       DefaultToken,
		webhookPath: DefaultWebhookPath,
		users:       map[string]string{},
		queued:      map[string][]Fault{},
		always:      map[string]Fault{},
		channels:    map[string]string{},
		buckets:     map[string]*bucket{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Start starts a server that is closed when tb's test ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s := New()
	tb.Cleanup(s.Close)
	return s
}

// Close stops the server, cutting short any fault delay in progress.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.closing)
		s.srv.CloseClientConnections()
		s.srv.Close()
	})
}

// URL is the Web API base, ending in "/api/", to pass where a client takes
// Slack's API URL (https://slack.com/api/).
func (s *Server) URL() string { return s.srv.URL + "/api/" }

// WebhookURL is the incoming-webhook URL the server accepts.
func (s *Server) WebhookURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.srv.URL + s.webhookPath
}

// SetWebhookPath changes the accepted webhook path, e.g. to plant a canary
// secret in it. Other paths under /services/ answer 404 no_service.
func (s *Server) SetWebhookPath(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhookPath = path
}

// SetValidToken changes the only bot token the Web API endpoints accept.
func (s *Server) SetValidToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = token
}

// SetUsers replaces the email → user ID map behind users.lookupByEmail.
func (s *Server) SetUsers(users map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users = make(map[string]string, len(users))
	for k, v := range users {
		s.users[strings.ToLower(k)] = v
	}
}

// Fail queues faults for endpoint; each request to it consumes one, in order,
// after which it behaves normally (or applies its Always fault).
func (s *Server) Fail(endpoint string, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queued[endpoint] = append(s.queued[endpoint], faults...)
}

// Always applies f to every request to endpoint once its queued faults are used
// up, until ClearFaults. MissingScope is a typical argument.
func (s *Server) Always(endpoint string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.always[endpoint] = f
}

// ClearFaults drops every queued and permanent fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queued = map[string][]Fault{}
	s.always = map[string]Fault{}
}

// Requests returns every request received so far, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	copy(out, s.requests)
	return out
}

// RequestsTo returns the requests received by endpoint, in arrival order.
func (s *Server) RequestsTo(endpoint string) []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Endpoint == endpoint {
			out = append(out, r)
		}
	}
	return out
}

// Posts returns the messages accepted so far, through either endpoint, in order.
// Requests answered with a fault are not among them.
func (s *Server) Posts() []Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Post, len(s.posts))
	copy(out, s.posts)
	return out
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return // the client went away mid-body; there is nobody to answer
	}
	endpoint := s.endpoint(r.URL.Path)
	fault, faulted := s.record(r, endpoint, body)

	var accepted *httptest.ResponseRecorder
	if faulted && fault.Accept {
		accepted = httptest.NewRecorder()
		s.handle(accepted, r, endpoint, body)
	}
	if faulted {
		if fault.Delay > 0 {
			t := time.NewTimer(fault.Delay)
			defer t.Stop()
			select {
			case <-t.C:
			case <-r.Context().Done():
				return
			case <-s.closing:
				return
			}
		}
		if fault.Reset {
			reset(w)
			return
		}
		if fault.answers() {
			writeFault(w, endpoint, fault)
			return
		}
	}
	if accepted != nil {
		for k, v := range accepted.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(accepted.Code)
		_, _ = w.Write(accepted.Body.Bytes())
		return
	}
	s.handle(w, r, endpoint, body)
}

// handle answers a request the way Slack would, faults aside.
func (s *Server) handle(w http.ResponseWriter, r *http.Request, endpoint string, body []byte) {
	switch endpoint {
	case EndpointWebhook:
		s.webhook(w, body)
	case "":
		if strings.HasPrefix(r.URL.Path, "/services/") {
			writeText(w, http.StatusNotFound, "no_service")
			return
		}
		http.NotFound(w, r)
	default:
		s.api(w, r, endpoint, body)
	}
}

// endpoint maps a request path to the endpoint it addresses, "" if none.
func (s *Server) endpoint(path string) string {
	s.mu.Lock()
	hook := s.webhookPath
	s.mu.Unlock()
	if path == hook {
		return EndpointWebhook
	}
	if m, ok := strings.CutPrefix(path, "/api/"); ok && m != "" {
		return m
	}
	return ""
}

// record stores the request and takes the fault it is due, if any.
func (s *Server) record(r *http.Request, endpoint string, body []byte) (Fault, bool) {
	req := Request{
		Time:     time.Now(),
		Endpoint: endpoint,
		Method:   r.Method,
		Path:     r.URL.Path,
		Header:   r.Header.Clone(),
		Body:     body,
	}
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "application/json"):
		var m map[string]any
		if json.Unmarshal(body, &m) == nil {
			req.JSON = m
		}
	case strings.HasPrefix(ct, "application/x-www-form-urlencoded"):
		if f, err := url.ParseQuery(string(body)); err == nil {
			req.Form = f
		}
	}
	if len(r.URL.RawQuery) > 0 && req.Form == nil {
		req.Form = r.URL.Query()
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, req)
	if q := s.queued[endpoint]; len(q) > 0 {
		s.queued[endpoint] = q[1:]
		return q[0], true
	}
	f, ok := s.always[endpoint]
	return f, ok
}

// reset closes the connection under w with a TCP RST.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("slacktest: response writer cannot be hijacked")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // close sends RST rather than FIN
	}
	_ = conn.Close()
}

func writeFault(w http.ResponseWriter, endpoint string, f Fault) {
	status := f.status(endpoint)
	if f.RetryAfter != 0 {
		w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
	}
	switch {
	case f.Body != "":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, f.Body)
	case endpoint == EndpointWebhook:
		code := f.OKFalse
		if code == "" {
			code = defaultWebhookBody(status)
		}
		writeText(w, status, code)
	default:
		code := f.OKFalse
		if code == "" && status == http.StatusTooManyRequests {
			code = "ratelimited"
		}
		if code == "" {
			writeText(w, status, http.StatusText(status))
			return
		}
		ans := map[string]any{"ok": false, "error": code}
		if f.Needed != "" {
			ans["needed"] = f.Needed
		}
		if f.Provided != "" {
			ans["provided"] = f.Provided
		}
		writeJSON(w, status, ans)
	}
}

func defaultWebhookBody(status int) string {
	if status == http.StatusTooManyRequests {
		return "rate_limited"
	}
	return http.StatusText(status)
}

func writeText(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic("slacktest: " + err.Error())
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
