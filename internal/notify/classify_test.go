package notify

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	api := endpoint{method: "chat.postMessage", subject: `to channel "#deploys"`}
	hook := endpoint{method: "webhook", webhook: true}
	retryAfter2 := http.Header{"Retry-After": {"2"}}
	tests := []struct {
		name       string
		ep         endpoint
		o          outcome
		wantOK     bool
		wantRetry  bool
		wantAfter  time.Duration
		wantIs     error
		wantText   string // exact, when set
		wantSubstr string
	}{
		{name: "api ok", ep: api, o: outcome{status: 200, body: []byte(`{"ok":true,"channel":"C1","ts":"1.2"}`)}, wantOK: true},
		{name: "api ok with warning", ep: api, o: outcome{status: 200, body: []byte(`{"ok":true,"warning":"missing_charset"}`)}, wantOK: true},
		{name: "api channel_not_found", ep: api, o: outcome{status: 200, body: []byte(`{"ok":false,"error":"channel_not_found"}`)},
			wantIs:   ErrChannelNotFound,
			wantText: `slack chat.postMessage to channel "#deploys": channel_not_found (the channel does not exist or the bot cannot see it; for a private channel, invite the bot)`},
		{name: "api not_in_channel", ep: api, o: outcome{status: 200, body: []byte(`{"ok":false,"error":"not_in_channel"}`)}, wantIs: ErrNotInChannel, wantSubstr: "invite the bot"},
		{name: "api missing_scope names the scope", ep: api, o: outcome{status: 200, body: []byte(`{"ok":false,"error":"missing_scope","needed":"chat:write","provided":"users:read"}`)},
			wantIs: ErrMissingScope, wantSubstr: "missing_scope (the token lacks the scope chat:write"},
		{name: "api invalid_auth", ep: api, o: outcome{status: 200, body: []byte(`{"ok":false,"error":"invalid_auth"}`)}, wantIs: ErrInvalidAuth},
		{name: "api invalid_blocks with messages", ep: api, o: outcome{status: 200, body: []byte(`{"ok":false,"error":"invalid_blocks","response_metadata":{"messages":["[ERROR] must be more than 0 characters [json-pointer:/blocks/0/text/text]"]}}`)},
			wantSubstr: "invalid_blocks (Slack rejected the blocks: [ERROR] must be more than 0 characters"},
		{name: "api unknown code", ep: api, o: outcome{status: 200, body: []byte(`{"ok":false,"error":"something_new"}`)}, wantText: `slack chat.postMessage to channel "#deploys": something_new`},
		{name: "api ok false no code", ep: api, o: outcome{status: 200, body: []byte(`{"ok":false}`)}, wantSubstr: `"ok":false without an error code`},
		{name: "api internal_error", ep: api, o: outcome{status: 200, body: []byte(`{"ok":false,"error":"internal_error"}`)}, wantRetry: true},
		{name: "api ratelimited in 200 honours header", ep: api, o: outcome{status: 200, header: retryAfter2, body: []byte(`{"ok":false,"error":"ratelimited"}`)}, wantRetry: true, wantAfter: 2 * time.Second},
		{name: "api 429", ep: api, o: outcome{status: 429, header: retryAfter2, body: []byte(`{"ok":false,"error":"ratelimited"}`)},
			wantRetry: true, wantAfter: 2 * time.Second, wantText: `slack chat.postMessage to channel "#deploys": HTTP 429 Too Many Requests: ratelimited`},
		{name: "api 429 without header", ep: api, o: outcome{status: 429}, wantRetry: true},
		{name: "api 503 html", ep: api, o: outcome{status: 503, body: []byte("<html>bad gateway</html>")}, wantRetry: true,
			wantText: `slack chat.postMessage to channel "#deploys": HTTP 503 Service Unavailable`},
		{name: "api 500 json", ep: api, o: outcome{status: 500, body: []byte(`{"ok":false,"error":"fatal_error"}`)}, wantRetry: true},
		{name: "api 400", ep: api, o: outcome{status: 400, body: []byte("no such thing")}, wantSubstr: "HTTP 400 Bad Request (no such thing)"},
		{name: "api 400 status text body", ep: api, o: outcome{status: 400, body: []byte("Bad Request\n")}, wantText: `slack chat.postMessage to channel "#deploys": HTTP 400 Bad Request`},
		{name: "api 200 not json", ep: api, o: outcome{status: 200, body: []byte("hello")}, wantSubstr: "not Slack API JSON: hello"},
		{name: "api 200 json without ok", ep: api, o: outcome{status: 200, body: []byte(`{}`)}, wantSubstr: "not Slack API JSON"},
		{name: "api 301", ep: api, o: outcome{status: 301}, wantSubstr: "HTTP 301"},

		{name: "webhook ok", ep: hook, o: outcome{status: 200, body: []byte("ok")}, wantOK: true},
		{name: "webhook compatible receiver", ep: hook, o: outcome{status: 200, body: []byte(`{"success":true}`)}, wantOK: true},
		{name: "webhook 200 error code", ep: hook, o: outcome{status: 200, body: []byte("invalid_payload")}, wantSubstr: "invalid_payload"},
		{name: "webhook invalid_payload", ep: hook, o: outcome{status: 400, body: []byte("invalid_payload")},
			wantText: `slack webhook: HTTP 400 Bad Request: invalid_payload (the webhook could not parse the message)`},
		{name: "webhook no_service", ep: hook, o: outcome{status: 404, body: []byte("no_service")}, wantIs: ErrInvalidAuth, wantSubstr: "the webhook URL is wrong"},
		{name: "webhook channel_not_found", ep: hook, o: outcome{status: 404, body: []byte("channel_not_found")}, wantIs: ErrChannelNotFound},
		{name: "webhook channel_is_archived", ep: hook, o: outcome{status: 410, body: []byte("channel_is_archived")}, wantSubstr: "HTTP 410 Gone: channel_is_archived (the channel is archived)"},
		{name: "webhook action_prohibited", ep: hook, o: outcome{status: 403, body: []byte("action_prohibited")}, wantSubstr: "admin"},
		{name: "webhook 429", ep: hook, o: outcome{status: 429, header: retryAfter2, body: []byte("rate_limited")}, wantRetry: true, wantAfter: 2 * time.Second},
		{name: "webhook 502", ep: hook, o: outcome{status: 502, body: []byte("Bad Gateway")}, wantRetry: true, wantText: "slack webhook: HTTP 502 Bad Gateway"},

		{name: "refused", ep: api, o: outcome{err: &url.Error{Op: "Post", URL: "u", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}}, wantRetry: true},
		{name: "reset", ep: api, o: outcome{err: &url.Error{Op: "Post", URL: "u", Err: syscall.ECONNRESET}}, wantRetry: true},
		{name: "eof", ep: hook, o: outcome{err: &url.Error{Op: "Post", URL: "u", Err: io.EOF}}, wantRetry: true},
		{name: "dns", ep: hook, o: outcome{err: &url.Error{Op: "Post", URL: "u", Err: &net.DNSError{Err: "no such host", Name: "x.invalid", IsNotFound: true}}}, wantRetry: true},
		{name: "attempt timeout", ep: api, o: outcome{err: &url.Error{Op: "Post", URL: "u", Err: context.DeadlineExceeded}}, wantRetry: true, wantIs: context.DeadlineExceeded},
		{name: "cancelled", ep: api, o: outcome{err: &url.Error{Op: "Post", URL: "u", Err: context.Canceled}}, wantIs: context.Canceled},
		{name: "bad certificate", ep: api, o: outcome{err: &url.Error{Op: "Post", URL: "u", Err: x509.UnknownAuthorityError{}}}},
		{name: "truncated body", ep: api, o: outcome{err: fmt.Errorf("reading the answer (HTTP 200): %w", io.ErrUnexpectedEOF)}, wantRetry: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			retry, err := classify(tt.ep, tt.o)
			if tt.wantOK {
				if err != nil {
					t.Fatalf("classify = %v, %v; want success", retry, err)
				}
				return
			}
			if err == nil {
				t.Fatal("classify succeeded, want an error")
			}
			if retry != tt.wantRetry {
				t.Errorf("retry = %v, want %v (%v)", retry, tt.wantRetry, err)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not an *Error", err)
			}
			if e.Temporary != retry {
				t.Errorf("Temporary = %v, retry = %v", e.Temporary, retry)
			}
			if e.RetryAfter != tt.wantAfter {
				t.Errorf("RetryAfter = %v, want %v", e.RetryAfter, tt.wantAfter)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantIs)
			}
			if tt.wantText != "" && err.Error() != tt.wantText {
				t.Errorf("error\n got %s\nwant %s", err, tt.wantText)
			}
			if !strings.Contains(err.Error(), tt.wantSubstr) {
				t.Errorf("error %q does not contain %q", err, tt.wantSubstr)
			}
		})
	}
}

func TestSentinelsDoNotCrossMatch(t *testing.T) {
	_, err := classify(endpoint{method: "users.lookupByEmail"}, outcome{status: 200, body: []byte(`{"ok":false,"error":"users_not_found"}`)})
	if !errors.Is(err, ErrUserNotFound) || errors.Is(err, ErrMissingScope) || errors.Is(err, ErrChannelNotFound) {
		t.Errorf("users_not_found matched the wrong sentinels: %v", err)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name, header string
		want         time.Duration
	}{
		{"absent", "", 0},
		{"seconds", "7", 7 * time.Second},
		{"zero", "0", 0},
		{"negative", "-3", 0},
		{"date", now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{"past date", now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"garbage", "soon", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.header != "" {
				h.Set("Retry-After", tt.header)
			}
			if got := retryAfter(h, now); got != tt.want {
				t.Errorf("retryAfter(%q) = %v, want %v", tt.header, got, tt.want)
			}
		})
	}
}

// FuzzClassify checks that no answer makes classify panic, succeed on an
// error status, or produce a multi-line or unbounded message.
func FuzzClassify(f *testing.F) {
	f.Add(200, []byte(`{"ok":true}`), false)
	f.Add(200, []byte(`{"ok":false,"error":"channel_not_found"}`), false)
	f.Add(429, []byte(`{"ok":false,"error":"ratelimited"}`), false)
	f.Add(404, []byte("no_service"), true)
	f.Add(200, []byte("ok"), true)
	f.Add(500, []byte("<html>\n</html>"), true)
	f.Add(200, []byte(`{"ok":false,"response_metadata":{"messages":["a","b","c","d"]}}`), false)
	f.Add(200, []byte(`{"ok":false,"error":"a\nb","needed":"c\rd"}`), false)
	f.Fuzz(func(t *testing.T, status int, body []byte, webhook bool) {
		ep := endpoint{method: "chat.postMessage", webhook: webhook}
		retry, err := classify(ep, outcome{status: status, header: http.Header{"Retry-After": {string(body)}}, body: body})
		if err == nil {
			if status < 200 || status > 299 {
				t.Fatalf("status %d classified as success", status)
			}
			return
		}
		if retry && status != 429 && status < 500 && (status < 200 || status > 299) {
			t.Fatalf("status %d classified as transient", status)
		}
		if msg := err.Error(); strings.ContainsAny(msg, "\r\n") {
			t.Fatalf("multi-line message %q", msg)
		}
	})
}
