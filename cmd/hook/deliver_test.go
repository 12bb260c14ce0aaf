package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/syncreport/syncreport/internal/config"
	"github.com/syncreport/syncreport/internal/recipients"
	"github.com/syncreport/syncreport/internal/report"
	"github.com/syncreport/syncreport/internal/slacktest"
)

// TestLookupsLeaveTimeForThePost: users.lookupByEmail that hang or keep
// failing cannot spend the deadline the channel post needs; the report goes
// out with the people as plain text (issue 13 item 17).
func TestLookupsLeaveTimeForThePost(t *testing.T) {
	for name, fault := range map[string]slacktest.Fault{
		"hung":     {Delay: time.Minute},
		"5xx":      {Status: 503},
		"429":      {Status: 429, RetryAfter: 1},
		"internal": {OKFalse: "internal_error"},
	} {
		t.Run(name, func(t *testing.T) {
			s := slacktest.Start(t)
			s.Always(slacktest.EndpointLookupByEmail, fault)
			cfg := &config.Config{
				SlackToken: slacktest.DefaultToken, SlackAPIURL: s.URL(), SlackChannel: "#deploys",
				Notifier: "auto", SlackAttemptTimeout: 700 * time.Millisecond,
			}
			r := report.Report{Verdict: report.Failed, Summary: "web sync failed", App: report.AppRef{Namespace: "argocd", Name: "web"}}
			for _, e := range []string{"alice@example.com", "bob@example.com", "carol@example.com"} {
				r.Recipients = append(r.Recipients, recipients.Recipient{Kind: recipients.User, Value: e})
			}
			r.Recipients = append(r.Recipients, recipients.Recipient{Kind: recipients.Channel, Value: "#deploys"})
			var logs bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
			defer cancel()
			if err := deliver(ctx, cfg, &r, &bytes.Buffer{}, slog.New(slog.NewTextHandler(&logs, nil))); err != nil {
				t.Fatalf("not delivered: %v\n%s", err, logs.String())
			}
			posts := s.Posts()
			if len(posts) != 1 {
				t.Fatalf("%d posts; want 1\n%s", len(posts), logs.String())
			}
			if !strings.Contains(posts[0].Text, "alice@example.com") {
				t.Errorf("post %q lacks the unresolved people as text", posts[0].Text)
			}
		})
	}
}
