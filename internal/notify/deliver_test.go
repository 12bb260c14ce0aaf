package notify_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/syncreport/syncreport/internal/notify"
	"github.com/syncreport/syncreport/internal/slacktest"
)

// fast keeps retries quick; the per-attempt timeout still leaves room for
// the race detector's slowdown.
var fast = notify.Retrier{
	InitialInterval: 10 * time.Millisecond,
	MaxInterval:     50 * time.Millisecond,
	AttemptTimeout:  500 * time.Millisecond,
}

// slack is how much past its deadline a call may finish: the last attempt's
// teardown and scheduling, nothing like another attempt.
const slackTime = 500 * time.Millisecond

func message() notify.Message {
	return notify.Message{
		Channel: "#deploys",
		Text:    "web synced to 1a2b3c",
		Blocks: []slack.Block{
			slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*web* synced", false, false), nil, nil),
		},
		Metadata: &slack.SlackMetadata{EventType: "syncreport_deploy", EventPayload: map[string]any{"app": "web"}},
	}
}

type transport struct {
	name string
	new  func(t *testing.T, s *slacktest.Server) notify.Notifier
	ep   string
}

var transports = []transport{
	{"bot", func(t *testing.T, s *slacktest.Server) notify.Notifier {
		b, err := notify.NewBot(slacktest.DefaultToken, s.URL(), nil)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}, slacktest.EndpointPostMessage},
	{"webhook", func(t *testing.T, s *slacktest.Server) notify.Notifier {
		w, err := notify.NewWebhook(s.WebhookURL(), nil)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}, slacktest.EndpointWebhook},
}

type scenario struct {
	name         string
	faults       []slacktest.Fault
	always       *slacktest.Fault
	deadline     time.Duration // of the whole delivery; 2s when zero
	wantAttempts int           // exact; 0 means at least 2
	wantErr      bool
	wantIs       error
	wantInErr    []string
}

// run delivers one message under sc and checks the outcome.
func (tr transport) run(t *testing.T, sc scenario) {
	t.Helper()
	s := slacktest.Start(t)
	s.Fail(tr.ep, sc.faults...)
	if sc.always != nil {
		s.Always(tr.ep, *sc.always)
	}
	deadline := sc.deadline
	if deadline == 0 {
		deadline = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(t.Context(), deadline)
	defer cancel()
	start := time.Now()
	attempts, err := fast.Deliver(ctx, tr.new(t, s), message(), slog.New(slog.DiscardHandler))
	elapsed := time.Since(start)

	if elapsed > deadline+slackTime {
		t.Errorf("took %v, past the %v deadline", elapsed, deadline)
	}
	switch {
	case sc.wantAttempts > 0 && attempts != sc.wantAttempts:
		t.Errorf("attempts = %d, want %d (err %v)", attempts, sc.wantAttempts, err)
	case sc.wantAttempts == 0 && attempts < 2:
		t.Errorf("attempts = %d, want several (err %v)", attempts, err)
	}
	// The last attempt may be cut short by the deadline before its request arrives.
	if n := len(s.RequestsTo(tr.ep)); n > attempts || n < attempts-1 {
		t.Errorf("server saw %d requests, Deliver reports %d attempts", n, attempts)
	}
	if !sc.wantErr {
		if err != nil {
			t.Fatalf("Deliver: %v", err)
		}
		if posts := s.Posts(); len(posts) != 1 || posts[0].Text != message().Text {
			t.Errorf("posts = %+v, want the message exactly once", posts)
		}
		return
	}
	if err == nil {
		t.Fatal("Deliver succeeded, want an error")
	}
	if n := len(s.Posts()); n != 0 {
		t.Errorf("%d messages posted despite the error", n)
	}
	var de *notify.DeliveryError
	if !errors.As(err, &de) || de.Attempts != attempts {
		t.Errorf("error %v is not a *DeliveryError with %d attempts", err, attempts)
	}
	if sc.wantIs != nil && !errors.Is(err, sc.wantIs) {
		t.Errorf("errors.Is(%v, %v) = false", err, sc.wantIs)
	}
	for _, want := range sc.wantInErr {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// common are the scenarios both transports share.
var common = []scenario{
	{name: "success", wantAttempts: 1},
	{name: "429 with Retry-After then success", faults: []slacktest.Fault{{Status: 429, RetryAfter: 1}}, wantAttempts: 2},
	{name: "429 with Retry-After past the deadline", faults: []slacktest.Fault{{Status: 429, RetryAfter: 30}},
		wantAttempts: 1, wantErr: true, wantInErr: []string{"gave up after 1 attempt", "retry after 30s", "429"}},
	{name: "500 502 503 504 then success", faults: []slacktest.Fault{{Status: 500}, {Status: 502}, {Status: 503}, {Status: 504}}, wantAttempts: 5},
	{name: "connection reset then success", faults: []slacktest.Fault{{Reset: true}}, wantAttempts: 2},
	{name: "slow answer past the attempt timeout then success", faults: []slacktest.Fault{{Delay: 3 * time.Second}}, wantAttempts: 2},
	{name: "always 503 until the deadline", always: &slacktest.Fault{Status: 503}, deadline: time.Second,
		wantErr: true, wantInErr: []string{"gave up after", "attempts", "HTTP 503"}},
	{name: "always slow until the deadline", always: &slacktest.Fault{Delay: 10 * time.Second}, deadline: 1200 * time.Millisecond,
		wantErr: true, wantInErr: []string{"gave up after", "deadline exceeded"}},
}

func TestDeliver(t *testing.T) {
	for _, tr := range transports {
		for _, sc := range common {
			t.Run(tr.name+"/"+sc.name, func(t *testing.T) {
				t.Parallel()
				tr.run(t, sc)
			})
		}
	}
}

func TestDeliverBotCodes(t *testing.T) {
	bot := transports[0]
	var tests []scenario
	for _, code := range []string{"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"} {
		tests = append(tests, scenario{name: "transient " + code, faults: []slacktest.Fault{{OKFalse: code}}, wantAttempts: 2})
	}
	permanent := map[string]error{
		"invalid_auth": notify.ErrInvalidAuth, "not_authed": notify.ErrInvalidAuth, "token_revoked": notify.ErrInvalidAuth,
		"account_inactive": notify.ErrInvalidAuth, "channel_not_found": notify.ErrChannelNotFound, "not_in_channel": notify.ErrNotInChannel,
		"is_archived": nil, "msg_too_long": nil, "invalid_blocks": nil, "missing_scope": notify.ErrMissingScope, "invalid_arguments": nil,
		"restricted_action": nil, "something_new": nil,
	}
	for code, is := range permanent {
		tests = append(tests, scenario{name: "permanent " + code, always: &slacktest.Fault{OKFalse: code}, wantAttempts: 1,
			wantErr: true, wantIs: is, wantInErr: []string{"failed permanently after 1 attempt", `to channel "#deploys": ` + code}})
	}
	tests = append(tests,
		scenario{name: "missing_scope names the scope", always: &slacktest.Fault{OKFalse: "missing_scope", Needed: "chat:write"}, wantAttempts: 1,
			wantErr: true, wantIs: notify.ErrMissingScope, wantInErr: []string{"chat:write"}},
		scenario{name: "400 is permanent", always: &slacktest.Fault{Status: 400}, wantAttempts: 1, wantErr: true, wantInErr: []string{"HTTP 400"}},
	)
	for _, sc := range tests {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			bot.run(t, sc)
		})
	}
}

func TestDeliverWebhookCodes(t *testing.T) {
	hook := transports[1]
	tests := []scenario{
		{name: "invalid_payload", always: &slacktest.Fault{Status: 400, Body: "invalid_payload"}, wantInErr: []string{"HTTP 400 Bad Request: invalid_payload"}},
		{name: "no_service", always: &slacktest.Fault{Status: 404, Body: "no_service"}, wantIs: notify.ErrInvalidAuth, wantInErr: []string{"HTTP 404 Not Found: no_service"}},
		{name: "channel_not_found", always: &slacktest.Fault{OKFalse: "channel_not_found"}, wantIs: notify.ErrChannelNotFound, wantInErr: []string{"404"}},
		{name: "channel_is_archived", always: &slacktest.Fault{OKFalse: "channel_is_archived"}, wantInErr: []string{"HTTP 410 Gone: channel_is_archived"}},
		{name: "action_prohibited", always: &slacktest.Fault{OKFalse: "action_prohibited"}, wantInErr: []string{"403"}},
		{name: "no_text", always: &slacktest.Fault{OKFalse: "no_text"}},
		{name: "too_many_attachments", always: &slacktest.Fault{OKFalse: "too_many_attachments"}},
	}
	for _, sc := range tests {
		sc.wantAttempts, sc.wantErr = 1, true
		sc.wantInErr = append(sc.wantInErr, "webhook: failed permanently after 1 attempt")
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			hook.run(t, sc)
		})
	}
}

// TestRetryAfterIsHonoured checks the second attempt waited for Retry-After,
// measured by the server between the two requests.
func TestRetryAfterIsHonoured(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			s := slacktest.Start(t)
			s.Fail(tr.ep, slacktest.Fault{Status: 429, RetryAfter: 1})
			ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
			defer cancel()
			if _, err := fast.Deliver(ctx, tr.new(t, s), message(), nil); err != nil {
				t.Fatal(err)
			}
			reqs := s.RequestsTo(tr.ep)
			if len(reqs) != 2 {
				t.Fatalf("%d requests, want 2", len(reqs))
			}
			if gap := reqs[1].Time.Sub(reqs[0].Time); gap < 900*time.Millisecond {
				t.Errorf("retried after %v, Slack asked for 1s", gap)
			}
		})
	}
}

func TestDeliverRealAuthFailure(t *testing.T) {
	s := slacktest.Start(t)
	s.SetValidToken("xoxb-the-right-one")
	bot, err := notify.NewBot("xoxb-the-wrong-one", s.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	attempts, err := fast.Deliver(t.Context(), bot, message(), nil)
	if attempts != 1 || !errors.Is(err, notify.ErrInvalidAuth) || !strings.Contains(err.Error(), "invalid_auth (the bot token is not valid") {
		t.Errorf("Deliver = %d, %v; want 1 attempt and invalid_auth", attempts, err)
	}
}

func TestDeliverWrongWebhookPath(t *testing.T) {
	s := slacktest.Start(t)
	w, err := notify.NewWebhook(strings.TrimSuffix(s.WebhookURL(), "X")+"Y", nil)
	if err != nil {
		t.Fatal(err)
	}
	attempts, err := fast.Deliver(t.Context(), w, message(), nil)
	if attempts != 1 || !errors.Is(err, notify.ErrInvalidAuth) {
		t.Errorf("Deliver = %d, %v; want 1 attempt and no_service", attempts, err)
	}
}

// TestUnreachable covers failures where no answer arrives at all: retried
// until the deadline, and reported as such.
func TestUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()

	tests := []struct {
		name string
		new  func() (notify.Notifier, error)
		want string
	}{
		{"bot dns", func() (notify.Notifier, error) { return notify.NewBot("xoxb-1", "https://slack.invalid/api/", nil) }, "slack.invalid"},
		{"webhook dns", func() (notify.Notifier, error) {
			return notify.NewWebhook("https://hooks.slack.invalid/services/T0/B0/secret", nil)
		}, "hooks.slack.invalid"},
		{"bot refused", func() (notify.Notifier, error) { return notify.NewBot("xoxb-1", closed+"/api/", nil) }, "refused"},
		{"webhook refused", func() (notify.Notifier, error) { return notify.NewWebhook(closed+"/services/T0/B0/secret", nil) }, "refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n, err := tt.new()
			if err != nil {
				t.Fatal(err)
			}
			const deadline = time.Second
			ctx, cancel := context.WithTimeout(t.Context(), deadline)
			defer cancel()
			start := time.Now()
			attempts, err := fast.Deliver(ctx, n, message(), nil)
			if elapsed := time.Since(start); elapsed > deadline+slackTime {
				t.Errorf("took %v, past the %v deadline", elapsed, deadline)
			}
			if err == nil || attempts < 2 {
				t.Fatalf("Deliver = %d, %v; want an error after several attempts", attempts, err)
			}
			if !strings.Contains(err.Error(), "gave up after") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say it gave up on %s", err, tt.want)
			}
		})
	}
}

func TestFinalErrorCountsAttempts(t *testing.T) {
	s := slacktest.Start(t)
	s.Always(slacktest.EndpointPostMessage, slacktest.Fault{Status: 503})
	bot, _ := notify.NewBot(slacktest.DefaultToken, s.URL(), nil)
	r := fast
	r.MaxAttempts = 3
	attempts, err := r.Deliver(t.Context(), bot, message(), nil)
	want := `slack: gave up after 3 attempts (attempt limit reached): slack chat.postMessage to channel "#deploys": HTTP 503 Service Unavailable`
	if attempts != 3 || err == nil || err.Error() != want {
		t.Errorf("Deliver = %d, %v\nwant 3, %s", attempts, err, want)
	}
	var de *notify.DeliveryError
	if !errors.As(err, &de) || de.Attempts != 3 || de.Permanent || !notify.IsTemporary(de.Err) {
		t.Errorf("DeliveryError = %+v", de)
	}
}

func TestCancelledContext(t *testing.T) {
	s := slacktest.Start(t)
	bot, _ := notify.NewBot(slacktest.DefaultToken, s.URL(), nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	attempts, err := fast.Deliver(ctx, bot, message(), nil)
	if attempts != 0 || !errors.Is(err, context.Canceled) || len(s.Requests()) != 0 {
		t.Errorf("Deliver = %d, %v with %d requests; want nothing sent", attempts, err, len(s.Requests()))
	}
}

// TestRetryLogging checks a retry is logged at Warn only when its error
// differs from the previous attempt's.
func TestRetryLogging(t *testing.T) {
	tests := []struct {
		name     string
		faults   []slacktest.Fault
		wantWarn int
	}{
		{"same error thrice", []slacktest.Fault{{Status: 503}, {Status: 503}, {Status: 503}}, 1},
		{"changing errors", []slacktest.Fault{{Status: 500}, {Status: 503}, {Status: 500}}, 3},
		{"two then one", []slacktest.Fault{{Status: 500}, {Status: 500}, {OKFalse: "internal_error"}}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := slacktest.Start(t)
			s.Fail(slacktest.EndpointPostMessage, tt.faults...)
			bot, _ := notify.NewBot(slacktest.DefaultToken, s.URL(), nil)
			var buf bytes.Buffer
			log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
			defer cancel()
			if _, err := fast.Deliver(ctx, bot, message(), log); err != nil {
				t.Fatal(err)
			}
			if got := strings.Count(buf.String(), "level=WARN"); got != tt.wantWarn {
				t.Errorf("%d warnings, want %d:\n%s", got, tt.wantWarn, buf.String())
			}
			if got := strings.Count(buf.String(), "retrying"); got != len(tt.faults) {
				t.Errorf("%d retries logged in all, want %d", got, len(tt.faults))
			}
		})
	}
}

func TestDeliverDefaults(t *testing.T) {
	s := slacktest.Start(t)
	bot, _ := notify.NewBot(slacktest.DefaultToken, s.URL(), nil)
	attempts, err := notify.Deliver(t.Context(), bot, message(), nil)
	if attempts != 1 || err != nil {
		t.Fatalf("Deliver = %d, %v", attempts, err)
	}
	req := s.Requests()[0]
	if req.Header.Get("Content-Type") != "application/json; charset=utf-8" || req.JSON["channel"] != "#deploys" {
		t.Errorf("request %+v", req)
	}
	post := s.Posts()[0]
	if !strings.Contains(string(post.Blocks), `"*web* synced"`) || !strings.Contains(string(post.Metadata), `"syncreport_deploy"`) {
		t.Errorf("post %+v lost blocks or metadata", post)
	}
}

func TestInvalidMessages(t *testing.T) {
	s := slacktest.Start(t)
	bot, _ := notify.NewBot(slacktest.DefaultToken, s.URL(), nil)
	hook, _ := notify.NewWebhook(s.WebhookURL(), nil)
	tests := []struct {
		name string
		n    notify.Notifier
		m    notify.Message
		want string
	}{
		{"bot without channel", bot, notify.Message{Text: "x"}, "no channel"},
		{"bot without text", bot, notify.Message{Channel: "#d"}, "no text"},
		{"webhook without text", hook, notify.Message{}, "no text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			attempts, err := fast.Deliver(t.Context(), tt.n, tt.m, nil)
			if attempts != 1 || err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Deliver = %d, %v; want 1 attempt and %q", attempts, err, tt.want)
			}
		})
	}
	if len(s.Requests()) != 0 {
		t.Errorf("invalid messages were sent")
	}
}

func TestAttemptTimeoutIsNamed(t *testing.T) {
	s := slacktest.Start(t)
	s.Fail(slacktest.EndpointWebhook, slacktest.Fault{Delay: 3 * time.Second})
	hook, _ := notify.NewWebhook(s.WebhookURL(), nil)
	var buf bytes.Buffer
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	if _, err := fast.Deliver(ctx, hook, message(), slog.New(slog.NewTextHandler(&buf, nil))); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "attempt timed out after 500ms") {
		t.Errorf("the retry log does not say the attempt timed out:\n%s", buf.String())
	}
}
