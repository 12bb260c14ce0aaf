package notify_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/syncreport/syncreport/internal/notify"
	"github.com/syncreport/syncreport/internal/slacktest"
)

func TestNewBot(t *testing.T) {
	tests := []struct {
		name, token, apiURL string
		wantErr             string
	}{
		{"default URL", "xoxb-1", "", ""},
		{"custom URL without slash", "xoxb-1", "http://127.0.0.1:1/api", ""},
		{"empty token", "", "", "token is empty"},
		{"trailing newline", "xoxb-1\n", "", "whitespace"},
		{"not http", "xoxb-1", "ftp://slack.com/api/", "not an http(s) URL"},
		{"no host", "xoxb-1", "/api/", "not an http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := notify.NewBot(tt.token, tt.apiURL, nil)
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("NewBot = %v, want error %q", err, tt.wantErr)
			}
		})
	}
}

func TestNewBotAddsSlash(t *testing.T) {
	s := slacktest.Start(t)
	bot, err := notify.NewBot(slacktest.DefaultToken, strings.TrimSuffix(s.URL(), "/"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bot.Notify(t.Context(), message()); err != nil {
		t.Fatal(err)
	}
	if p := s.Requests()[0].Path; p != "/api/chat.postMessage" {
		t.Errorf("path %q", p)
	}
}

func TestNewWebhook(t *testing.T) {
	tests := []struct {
		name, url, wantErr string
	}{
		{"slack", "https://hooks.slack.com/services/T0/B0/abc", ""},
		{"empty", "", "empty"},
		{"newline", "https://hooks.slack.com/services/T0/B0/abc\n", "whitespace"},
		{"relative", "hooks.slack.com/services/T0/B0/abc", "not an http(s) URL"},
		{"bad escape", "https://hooks.slack.com/services/%zz", "not an http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := notify.NewWebhook(tt.url, nil)
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("NewWebhook = %v, want error %q", err, tt.wantErr)
			}
		})
	}
}

func TestLookupUserByEmail(t *testing.T) {
	tests := []struct {
		name    string
		email   string
		faults  []slacktest.Fault
		always  *slacktest.Fault
		wantID  string
		wantIs  error
		wantErr string
	}{
		{name: "found", email: "ada@example.com", wantID: "U0ADA"},
		{name: "found case-insensitively", email: "Ada@Example.com", wantID: "U0ADA"},
		{name: "not found", email: "bob@example.com", wantIs: notify.ErrUserNotFound, wantErr: `slack users.lookupByEmail for "bob@example.com": users_not_found`},
		{name: "missing scope", email: "ada@example.com", always: &slacktest.Fault{OKFalse: "missing_scope", Needed: "users:read.email"},
			wantIs: notify.ErrMissingScope, wantErr: "users:read.email"},
		{name: "transient then found", email: "ada@example.com", faults: []slacktest.Fault{{Status: 503}, {OKFalse: "ratelimited"}}, wantID: "U0ADA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := slacktest.Start(t)
			s.SetUsers(map[string]string{"ada@example.com": "U0ADA"})
			s.Fail(slacktest.EndpointLookupByEmail, tt.faults...)
			if tt.always != nil {
				s.Always(slacktest.EndpointLookupByEmail, *tt.always)
			}
			bot, _ := notify.NewBot(slacktest.DefaultToken, s.URL(), nil)
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
			defer cancel()
			id, attempts, err := notify.Call(ctx, fast, "users.lookupByEmail", func(ctx context.Context) (string, error) {
				return bot.LookupUserByEmail(ctx, tt.email)
			}, nil)
			if id != tt.wantID {
				t.Errorf("id = %q, want %q (err %v)", id, tt.wantID, err)
			}
			if want := len(tt.faults) + 1; attempts != want {
				t.Errorf("attempts = %d, want %d", attempts, want)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantIs)
			}
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestOpenDM(t *testing.T) {
	s := slacktest.Start(t)
	bot, _ := notify.NewBot(slacktest.DefaultToken, s.URL(), nil)
	s.Fail(slacktest.EndpointOpenConversation, slacktest.Fault{Reset: true})
	ch, attempts, err := notify.Call(t.Context(), fast, "conversations.open", func(ctx context.Context) (string, error) {
		return bot.OpenDM(ctx, "U0ADA")
	}, nil)
	if err != nil || ch != "D0ADA" || attempts != 2 {
		t.Fatalf("OpenDM = %q, %d, %v", ch, attempts, err)
	}
	if got := s.Requests()[1].Form.Get("users"); got != "U0ADA" {
		t.Errorf("users = %q", got)
	}

	_, err = bot.OpenDM(t.Context(), "nobody")
	if !errors.Is(err, notify.ErrUserNotFound) || notify.IsTemporary(err) {
		t.Errorf("OpenDM(nobody) = %v, want a permanent user_not_found", err)
	}

	// A DM channel is a channel like any other for Notify.
	m := message()
	m.Channel = ch
	if _, err := bot.Notify(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	if p := s.Posts(); len(p) != 1 || p[0].ChannelID != "D0ADA" {
		t.Errorf("posts %+v", p)
	}
}

func TestCallStopsOnUnclassifiedError(t *testing.T) {
	attempts := 0
	_, n, err := notify.Call(t.Context(), fast, "op", func(context.Context) (int, error) {
		attempts++
		return 0, errors.New("boom")
	}, nil)
	if n != 1 || attempts != 1 || err == nil || err.Error() != "op: failed permanently after 1 attempt: boom" {
		t.Errorf("Call = %d, %v", n, err)
	}
}
