package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/syncreport/syncreport/internal/slacktest"
)

// dedupRetrier gives up on an attempt quickly; the slacktest delays below
// are longer, so each delayed attempt times out.
var dedupRetrier = Retrier{
	InitialInterval: 10 * time.Millisecond,
	MaxInterval:     50 * time.Millisecond,
	AttemptTimeout:  400 * time.Millisecond,
}

const dedupToken = "xoxb-CANARY-dedup-0123456789"

func reportMessage(channel string, attempt int64) Message {
	return Message{
		Channel:  channel,
		Text:     "web sync failed",
		Metadata: ReportMetadata("argocd/web", "2026-11-20T10:00:00Z", attempt, "failed"),
	}
}

// deliverDeduped delivers m through Dedup against s within 5s and returns
// the log.
func deliverDeduped(t *testing.T, s *slacktest.Server, ms ...Message) (string, error) {
	t.Helper()
	s.SetValidToken(dedupToken)
	b, err := NewBot(dedupToken, s.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n := Dedup(b, log)
	var errs []error
	for _, m := range ms {
		_, err := dedupRetrier.Deliver(ctx, n, m, log)
		errs = append(errs, err)
	}
	if strings.Contains(logs.String(), "CANARY") {
		t.Errorf("the token leaked into the log")
	}
	return logs.String(), errors.Join(errs...)
}

func TestDedup(t *testing.T) {
	// A slow answer, given after the client has given up.
	slow := 2 * time.Second
	tests := []struct {
		name        string
		channel     string
		faults      []slacktest.Fault
		history     *slacktest.Fault // Always on conversations.history
		wantPosts   int
		wantHistory int
		wantLog     string
	}{
		{
			name:    "posted then timed out: found, not posted again",
			channel: "C0DEPLOYS", faults: []slacktest.Fault{{Accept: true, Delay: slow}},
			wantPosts: 1, wantHistory: 1, wantLog: "posted after all",
		},
		{
			name:    "posted then connection reset: found",
			channel: "C0DEPLOYS", faults: []slacktest.Fault{{Accept: true, Reset: true}},
			wantPosts: 1, wantHistory: 1, wantLog: "posted after all",
		},
		{
			name:    "posted then 503: found",
			channel: "C0DEPLOYS", faults: []slacktest.Fault{{Accept: true, Status: 503}},
			wantPosts: 1, wantHistory: 1, wantLog: "posted after all",
		},
		{
			name:    "timed out unposted: not found, posted again",
			channel: "C0DEPLOYS", faults: []slacktest.Fault{{Delay: slow}},
			wantPosts: 1, wantHistory: 1, wantLog: "was not posted",
		},
		{
			name:    "private channel ID",
			channel: "G0PRIVATE", faults: []slacktest.Fault{{Accept: true, Delay: slow}},
			wantPosts: 1, wantHistory: 1, wantLog: "posted after all",
		},
		{
			name:    "no history scope: at least once",
			channel: "C0DEPLOYS", faults: []slacktest.Fault{{Accept: true, Delay: slow}},
			history:   &slacktest.Fault{OKFalse: "missing_scope", Needed: "channels:history", Provided: "chat:write"},
			wantPosts: 2, wantHistory: 1, wantLog: "channels:history",
		},
		{
			name:    "bot not in channel: at least once",
			channel: "C0DEPLOYS", faults: []slacktest.Fault{{Accept: true, Status: 502}},
			history:   &slacktest.Fault{OKFalse: "not_in_channel"},
			wantPosts: 2, wantHistory: 1, wantLog: "not_in_channel",
		},
		{
			name:    "history down: at least once",
			channel: "C0DEPLOYS", faults: []slacktest.Fault{{Accept: true, Reset: true}},
			history:   &slacktest.Fault{Status: 500},
			wantPosts: 2, wantHistory: 1, wantLog: "HTTP 500",
		},
		{
			name:    "channel by name, no earlier answer: at least once",
			channel: "#deploys", faults: []slacktest.Fault{{Accept: true, Delay: slow}},
			wantPosts: 2, wantHistory: 0, wantLog: "needs a channel ID",
		},
		// Failures that reached nobody, or that Slack explained, need no check.
		{
			name:    "rate limited",
			channel: "C0DEPLOYS", faults: []slacktest.Fault{{Status: 429}},
			wantPosts: 1, wantHistory: 0,
		},
		{
			name:    "transient error code",
			channel: "C0DEPLOYS", faults: []slacktest.Fault{{OKFalse: "internal_error"}},
			wantPosts: 1, wantHistory: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := slacktest.Start(t)
			s.Fail(slacktest.EndpointPostMessage, tt.faults...)
			if tt.history != nil {
				s.Always(slacktest.EndpointHistory, *tt.history)
			}
			log, err := deliverDeduped(t, s, reportMessage(tt.channel, 1))
			if err != nil {
				t.Fatalf("not delivered: %v", err)
			}
			if got := len(s.Posts()); got != tt.wantPosts {
				t.Errorf("%d posts; want %d", got, tt.wantPosts)
			}
			if got := len(s.RequestsTo(slacktest.EndpointHistory)); got != tt.wantHistory {
				t.Errorf("%d conversations.history calls; want %d", got, tt.wantHistory)
			}
			if tt.wantLog != "" && !strings.Contains(log, tt.wantLog) {
				t.Errorf("log lacks %q:\n%s", tt.wantLog, log)
			}
			if tt.wantPosts == 2 && strings.Count(log, "level=WARN msg=\"cannot") != 1 {
				t.Errorf("the fallback to at-least-once should be logged once at Warn:\n%s", log)
			}
			for _, r := range s.RequestsTo(slacktest.EndpointHistory) {
				if r.Form.Get("include_all_metadata") != "true" || r.Form.Get("channel") != tt.channel || r.Form.Get("oldest") == "" {
					t.Errorf("history request %v", r.Form)
				}
			}
		})
	}
}

// TestDedupResolvesNameFromEarlierAnswer: after one post to "#deploys" the
// channel's ID is known, so a later report to "#deploys" is checked.
func TestDedupResolvesNameFromEarlierAnswer(t *testing.T) {
	s := slacktest.Start(t)
	s.Fail(slacktest.EndpointPostMessage, slacktest.Fault{}, slacktest.Fault{Accept: true, Delay: 2 * time.Second})
	log, err := deliverDeduped(t, s, reportMessage("#deploys", 1), reportMessage("#deploys", 2))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(s.Posts()); got != 2 {
		t.Errorf("%d posts; want 2 (one per report)", got)
	}
	h := s.RequestsTo(slacktest.EndpointHistory)
	if len(h) != 1 || !strings.HasPrefix(h[0].Form.Get("channel"), "C") {
		t.Fatalf("history calls %v; want one, by channel ID", h)
	}
	if !strings.Contains(log, "posted after all") {
		t.Errorf("log: %s", log)
	}
}

// TestDedupDistinguishesReports: a different report (another sync attempt)
// in the channel is not mistaken for the one being retried.
func TestDedupDistinguishesReports(t *testing.T) {
	s := slacktest.Start(t)
	s.Fail(slacktest.EndpointPostMessage, slacktest.Fault{}, slacktest.Fault{Delay: 2 * time.Second})
	_, err := deliverDeduped(t, s, reportMessage("C0DEPLOYS", 1), reportMessage("C0DEPLOYS", 2))
	if err != nil {
		t.Fatal(err)
	}
	posts := s.Posts()
	if len(posts) != 2 || !strings.Contains(string(posts[1].Metadata), `"attempt":2`) {
		t.Fatalf("posts %+v; want attempt 1 then attempt 2", posts)
	}
}

// TestDedupWithoutMetadata: nothing to find a message by, so no check.
func TestDedupWithoutMetadata(t *testing.T) {
	s := slacktest.Start(t)
	s.Fail(slacktest.EndpointPostMessage, slacktest.Fault{Accept: true, Delay: 2 * time.Second})
	_, err := deliverDeduped(t, s, Message{Channel: "C0DEPLOYS", Text: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.RequestsTo(slacktest.EndpointHistory)) != 0 || len(s.Posts()) != 2 {
		t.Errorf("history %d, posts %d; want 0 and 2 (at least once)", len(s.RequestsTo(slacktest.EndpointHistory)), len(s.Posts()))
	}
}

// TestDedupPermanentFailure: a permanent error still ends delivery at once.
func TestDedupPermanentFailure(t *testing.T) {
	s := slacktest.Start(t)
	s.Always(slacktest.EndpointPostMessage, slacktest.Fault{OKFalse: "channel_not_found"})
	_, err := deliverDeduped(t, s, reportMessage("C0DEPLOYS", 1))
	if !errors.Is(err, ErrChannelNotFound) || len(s.RequestsTo(slacktest.EndpointPostMessage)) != 1 {
		t.Fatalf("err %v after %d attempts; want channel_not_found after 1", err, len(s.RequestsTo(slacktest.EndpointPostMessage)))
	}
}

func TestAmbiguous(t *testing.T) {
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	read := &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}
	for _, tt := range []struct {
		name string
		err  error
		want bool
	}{
		{"5xx", &Error{Status: http.StatusServiceUnavailable}, true},
		{"429", &Error{Status: http.StatusTooManyRequests}, false},
		{"ok false", &Error{Status: 200, Code: "internal_error"}, false},
		{"reset after sending", &Error{err: fmt.Errorf("post: %w", read)}, true},
		{"timeout", &Error{err: context.DeadlineExceeded}, true},
		{"refused", &Error{err: fmt.Errorf("post: %w", dial)}, false},
		{"dns", &Error{err: &net.DNSError{Err: "no such host", Name: "slack.invalid", IsNotFound: true}}, false},
		{"not a slack error", errors.New("x"), false},
	} {
		if got := ambiguous(tt.err); got != tt.want {
			t.Errorf("%s: ambiguous = %v; want %v", tt.name, got, tt.want)
		}
	}
}

func TestReportMetadataIsSlackShaped(t *testing.T) {
	s := slacktest.Start(t)
	if _, err := deliverDeduped(t, s, reportMessage("C0DEPLOYS", 3)); err != nil {
		t.Fatal(err) // slacktest rejects metadata Slack would reject
	}
	md := string(s.Posts()[0].Metadata)
	for _, w := range []string{`"event_type":"syncreport_report"`, `"app":"argocd/web"`, `"attempt":3`, `"verdict":"failed"`, `"operation":"2026-11-20T10:00:00Z"`} {
		if !strings.Contains(md, w) {
			t.Errorf("metadata %s lacks %s", md, w)
		}
	}
}
