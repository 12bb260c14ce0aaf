package notify_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syncreport/syncreport/internal/notify"
	"github.com/syncreport/syncreport/internal/slacktest"
)

const (
	canaryToken = "xoxb-CANARY-1111-2222-abcdefghijkl"
	canaryPath  = "/services/T000/B000/CANARYcanaryCANARY"
	canary      = "CANARY"
)

// syncBuffer lets parallel subtests share one log sink.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// texts renders err and everything it wraps, the ways a caller might print it.
func texts(err error) []string {
	if err == nil {
		return nil
	}
	out := []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%q", err)}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		out = append(out, texts(u.Unwrap())...)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			out = append(out, texts(e)...)
		}
	}
	return out
}

// TestNoSecretLeaks runs the fault scenarios with a canary token and a canary
// webhook URL and checks that neither reaches an error or a log line.
func TestNoSecretLeaks(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()

	type target struct {
		name        string
		ep          string
		unreachable bool   // no server answers: one scenario is enough
		secret      string // what an echoing server would quote back
		new         func(s *slacktest.Server) (notify.Notifier, error)
	}
	targets := []target{
		{"bot", slacktest.EndpointPostMessage, false, canaryToken, func(s *slacktest.Server) (notify.Notifier, error) {
			return notify.NewBot(canaryToken, s.URL()+"?token="+canaryToken, nil)
		}},
		{"webhook", slacktest.EndpointWebhook, false, canaryPath, func(s *slacktest.Server) (notify.Notifier, error) {
			return notify.NewWebhook(s.WebhookURL(), nil)
		}},
		{"bot unreachable", slacktest.EndpointPostMessage, true, "", func(*slacktest.Server) (notify.Notifier, error) {
			return notify.NewBot(canaryToken, closed+"/api/", nil)
		}},
		{"webhook unreachable", slacktest.EndpointWebhook, true, "", func(*slacktest.Server) (notify.Notifier, error) {
			return notify.NewWebhook(closed+canaryPath, nil)
		}},
		{"webhook dns", slacktest.EndpointWebhook, true, "", func(*slacktest.Server) (notify.Notifier, error) {
			return notify.NewWebhook("https://hooks.slack.invalid"+canaryPath+"?x="+canary+"#"+canary, nil)
		}},
		{"webhook with user info", slacktest.EndpointWebhook, false, canaryPath, func(s *slacktest.Server) (notify.Notifier, error) {
			return notify.NewWebhook(strings.Replace(s.WebhookURL(), "http://", "http://"+canary+":"+canary+"@", 1), nil)
		}},
	}
	faults := []struct {
		name   string
		faults []slacktest.Fault
		always *slacktest.Fault
	}{
		{name: "success"},
		{name: "429", faults: []slacktest.Fault{{Status: 429, RetryAfter: 1}}},
		{name: "429 past deadline", faults: []slacktest.Fault{{Status: 429, RetryAfter: 60}}},
		{name: "5xx", faults: []slacktest.Fault{{Status: 500}, {Status: 502}, {Status: 503}}},
		{name: "reset", faults: []slacktest.Fault{{Reset: true}, {Reset: true}}},
		{name: "slow", faults: []slacktest.Fault{{Delay: 3 * time.Second}}},
		{name: "transient code", faults: []slacktest.Fault{{OKFalse: "internal_error"}}},
		{name: "auth", always: &slacktest.Fault{OKFalse: "invalid_auth"}},
		{name: "no_service", always: &slacktest.Fault{OKFalse: "no_service"}},
		{name: "echoing body", always: &slacktest.Fault{Status: 400, Body: "bad request from SECRET"}},
		{name: "echoing json", always: &slacktest.Fault{Body: `{"ok":false,"error":"invalid_auth","response_metadata":{"messages":["credential SECRET"]}}`}},
		{name: "always failing", always: &slacktest.Fault{Status: 503}},
	}

	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var (
		mu   sync.Mutex
		errs []error
	)
	t.Run("scenarios", func(t *testing.T) {
		for _, tg := range targets {
			for _, f := range faults {
				if tg.unreachable && f.name != "success" {
					continue
				}
				t.Run(tg.name+"/"+f.name, func(t *testing.T) {
					t.Parallel()
					s := slacktest.Start(t)
					s.SetValidToken(canaryToken)
					s.SetWebhookPath(canaryPath)
					s.Fail(tg.ep, f.faults...)
					if f.always != nil {
						fault := *f.always
						fault.Body = strings.ReplaceAll(fault.Body, "SECRET", tg.secret)
						s.Always(tg.ep, fault)
					}
					n, err := tg.new(s)
					if err != nil {
						t.Fatal(err)
					}
					ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
					defer cancel()
					_, err = fast.Deliver(ctx, n, message(), log)
					bot, _ := n.(*notify.Bot)
					var lookupErr error
					if bot != nil {
						_, _, lookupErr = notify.Call(ctx, fast, "users.lookupByEmail", func(ctx context.Context) (string, error) {
							return bot.LookupUserByEmail(ctx, "nobody@example.com")
						}, log)
					}
					mu.Lock()
					errs = append(errs, err, lookupErr)
					mu.Unlock()
				})
			}
		}
	})

	// Constructors must not quote what they reject either.
	for _, bad := range []string{"ftp://h/services/" + canary, "https://h/services/%zz" + canary, "https://h/services/" + canary + "\n", "hooks/services/" + canary} {
		_, err := notify.NewWebhook(bad, nil)
		errs = append(errs, err)
	}
	for _, bad := range []string{canaryToken + "\n", " " + canaryToken} {
		_, err := notify.NewBot(bad, "", nil)
		errs = append(errs, err)
	}
	_, err = notify.NewBot("xoxb-1", "ftp://slack.com/api/?token="+canary, nil)
	errs = append(errs, err)

	var nerrs int
	for _, err := range errs {
		if err != nil {
			nerrs++
		}
		for _, s := range texts(err) {
			if strings.Contains(s, canary) {
				t.Errorf("error leaks the secret: %s", s)
			}
		}
	}
	if nerrs < len(faults) {
		t.Errorf("only %d errors collected; the scenarios did not fail as intended", nerrs)
	}
	if logs.String() == "" {
		t.Error("nothing was logged; the scenarios did not retry as intended")
	}
	for line := range strings.Lines(logs.String()) {
		if strings.Contains(line, canary) {
			t.Errorf("log line leaks the secret: %s", line)
		}
	}
}

func TestRedact(t *testing.T) {
	tests := []struct {
		name, in, webhook, api string
	}{
		{"slack webhook", "https://hooks.slack.com/services/T0/B0/secret", "https://hooks.slack.com/services/REDACTED", "https://hooks.slack.com/services/T0/B0/secret"},
		{"other path", "https://chat.example.com/hooks/secret?x=1", "https://chat.example.com/REDACTED", "https://chat.example.com/hooks/secret"},
		{"user info and query", "https://u:p@slack.com/api/?token=x#f", "https://slack.com/REDACTED", "https://slack.com/api/"},
		{"bare host", "https://slack.com", "https://slack.com", "https://slack.com"},
		{"unparsable", "https://h/%zz", "REDACTED", "REDACTED"},
		{"relative", "secret/path", "REDACTED", "REDACTED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := notify.RedactWebhookURL(tt.in); got != tt.webhook {
				t.Errorf("RedactWebhookURL(%q) = %q, want %q", tt.in, got, tt.webhook)
			}
			if got := notify.RedactAPIURL(tt.in); got != tt.api {
				t.Errorf("RedactAPIURL(%q) = %q, want %q", tt.in, got, tt.api)
			}
		})
	}
}

func TestErrorsIsThroughDelivery(t *testing.T) {
	s := slacktest.Start(t)
	s.Always(slacktest.EndpointPostMessage, slacktest.Fault{Delay: 5 * time.Second})
	bot, _ := notify.NewBot(slacktest.DefaultToken, s.URL(), nil)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	_, err := notify.Deliver(ctx, bot, message(), nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want it to wrap context.DeadlineExceeded", err)
	}
}
