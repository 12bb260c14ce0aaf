//go:build unix

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syncreport/syncreport/internal/config"
	"github.com/syncreport/syncreport/internal/mailpittest"
	"github.com/syncreport/syncreport/internal/notify"
	"github.com/syncreport/syncreport/internal/recipients"
	"github.com/syncreport/syncreport/internal/report"
	"github.com/syncreport/syncreport/internal/slacktest"
)

// TestDestinationsAtOnce: Slack, email and the JSON webhook in one run, at
// once: the webhook is posted while Slack's first attempt still hangs; a
// destination that fails permanently does not stop the others; the error
// and the log name it (issue 18).
func TestDestinationsAtOnce(t *testing.T) {
	for _, tt := range []struct {
		name        string
		webhookCode int
		wantErr     string
	}{
		{"all delivered", http.StatusNoContent, ""},
		{"webhook refused", http.StatusBadRequest, "json-webhook"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := slacktest.Start(t)
			// The first post hangs past the attempt timeout, then Slack answers.
			s.Fail(slacktest.EndpointPostMessage, slacktest.Fault{Delay: time.Minute})
			mp := mailpittest.Start(t, mailpittest.Options{})
			var (
				mu           sync.Mutex
				body         []byte
				slackPending bool
			)
			hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				body = b
				slackPending = len(s.RequestsTo(slacktest.EndpointPostMessage)) <= 1 && len(s.Posts()) == 0
				mu.Unlock()
				w.WriteHeader(tt.webhookCode)
			}))
			defer hook.Close()
			cfg := &config.Config{
				Notifier: "auto", SlackToken: slacktest.DefaultToken, SlackAPIURL: s.URL(), SlackChannel: "#deploys",
				SlackAttemptTimeout: 1500 * time.Millisecond,
				SMTPHost:            mp.Host, SMTPPort: mp.Port, SMTPTLS: notify.SMTPNoTLS, SMTPFrom: "deploys@example.com",
				EmailRecipients: true, EmailTo: "oncall@example.com",
				WebhookURL: hook.URL + "/hook", WebhookSecret: "s3cret",
			}
			r := report.Report{Verdict: report.Failed, Summary: "web sync failed", App: report.AppRef{Namespace: "argocd", Name: "web"},
				Revisions: []string{"0123456789abcdef0123456789abcdef01234567"},
				Recipients: []recipients.Recipient{
					{Kind: recipients.User, Value: "alice@example.com", Sources: []string{"info"}},
					{Kind: recipients.User, Value: "@bob"},
					{Kind: recipients.Channel, Value: "#deploys"},
				}}
			var want bytes.Buffer
			if err := report.JSON(&want, r); err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			err := deliver(ctx, cfg, &r, io.Discard, slog.New(slog.NewJSONHandler(&logs, nil)))
			if (err != nil) != (tt.wantErr != "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("deliver: %v, want %q\n%s", err, tt.wantErr, logs.String())
			}
			if n := len(s.Posts()); n != 1 {
				t.Errorf("%d Slack posts, want 1", n)
			}
			msgs := mp.Messages(t)
			var to []string
			for _, m := range msgs {
				for _, a := range m.To {
					to = append(to, a.Address)
				}
				if m.Subject != "Failed: web 0123456" {
					t.Errorf("subject %q", m.Subject)
				}
			}
			if strings.Join(to, ",") != "oncall@example.com,alice@example.com" && strings.Join(to, ",") != "alice@example.com,oncall@example.com" {
				t.Errorf("emails to %v, want oncall@ and alice@ once each", to)
			}
			mu.Lock()
			defer mu.Unlock()
			if !bytes.Equal(body, want.Bytes()) {
				t.Errorf("webhook body is not render --format json:\n%s\nwant\n%s", body, want.Bytes())
			}
			if !slackPending {
				t.Error("the webhook was posted only after Slack was done: destinations are not delivered at once")
			}
			var lines []map[string]any
			for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
				var m map[string]any
				_ = json.Unmarshal([]byte(l), &m)
				lines = append(lines, m)
			}
			found := false
			for _, l := range lines {
				if l["msg"] == "delivery done" {
					found = true
					if tt.wantErr != "" && l["failed"] != "json-webhook" {
						t.Errorf("summary %v does not name the failed destination", l)
					}
				}
			}
			if !found {
				t.Errorf("no delivery summary in the log:\n%s", logs.String())
			}
		})
	}
}

// TestDestinationsConfigured: NOTIFIER=auto prints to stdout only when no
// other destination is set.
func TestDestinationsConfigured(t *testing.T) {
	for _, tt := range []struct {
		c    config.Config
		want string
	}{
		{config.Config{Notifier: "auto"}, "stdout"},
		{config.Config{Notifier: "auto", SMTPHost: "mail"}, "email"},
		{config.Config{Notifier: "auto", WebhookURL: "https://h"}, "json-webhook"},
		{config.Config{Notifier: "stdout", SMTPHost: "mail"}, "stdout,email"},
		{config.Config{Notifier: "auto", SlackToken: "x", SMTPHost: "mail", WebhookURL: "https://h"}, "slack,email,json-webhook"},
		{config.Config{Notifier: "auto", SlackWebhookURL: "https://h", WebhookURL: "https://h"}, "webhook,json-webhook"},
	} {
		if got := strings.Join(tt.c.Destinations(), ","); got != tt.want {
			t.Errorf("%+v: %s, want %s", tt.c, got, tt.want)
		}
	}
}
