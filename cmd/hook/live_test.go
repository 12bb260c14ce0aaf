package main

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/syncreport/syncreport/internal/argocd"
	"github.com/syncreport/syncreport/internal/config"
	"github.com/syncreport/syncreport/internal/notify"
	"github.com/syncreport/syncreport/internal/recipients"
	"github.com/syncreport/syncreport/internal/report"
	"github.com/syncreport/syncreport/internal/slacktest"
)

// TestRetryNotifyUpdate: update keeps a live message only with a bot token;
// elsewhere (a webhook, stdout) it posts as first.
func TestRetryNotifyUpdate(t *testing.T) {
	tests := []struct {
		name       string
		cfg        config.Config
		live       bool
		wantPolicy string
	}{
		{"bot", config.Config{Notifier: "auto", SlackToken: "xoxb-1", RetryNotify: "update"}, true, "first"},
		{"webhook", config.Config{Notifier: "auto", SlackWebhookURL: "https://hooks.slack.com/x", RetryNotify: "update"}, false, "first"},
		{"stdout", config.Config{Notifier: "stdout", RetryNotify: "update"}, false, "first"},
		{"bot, first", config.Config{Notifier: "auto", SlackToken: "xoxb-1", RetryNotify: "first"}, false, "first"},
		{"bot, all", config.Config{Notifier: "slack", SlackToken: "xoxb-1", RetryNotify: "all"}, false, "all"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := liveUpdates(&tt.cfg); got != tt.live {
				t.Errorf("liveUpdates %v, want %v", got, tt.live)
			}
			if got := retryPolicy(tt.cfg.RetryNotify); got != tt.wantPolicy {
				t.Errorf("retryPolicy %q, want %q", got, tt.wantPolicy)
			}
		})
	}
}

// TestLiveMessage: the operation's identity, the stage and the thread
// rules the hook gives a report.
func TestLiveMessageOfReport(t *testing.T) {
	started := time.Date(2026, 11, 20, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	r := report.Report{Verdict: report.Failed, Summary: "web sync failed after 6 attempts", App: report.AppRef{Name: "web", Namespace: "argocd"},
		StartedAt: &started, Attempt: 6, MaxAttempts: 6, Phase: "Failed"}
	lm := liveMessage(r, "C0DEPLOYS")
	if lm.App != "argocd/web" || lm.Operation != "2026-11-20T09:00:00Z" || lm.Attempt != 6 || lm.Stage != notify.StageReport {
		t.Errorf("identity %q %q attempt %d stage %q", lm.App, lm.Operation, lm.Attempt, lm.Stage)
	}
	if !lm.Broadcast || lm.ReplyOnUpdate || lm.Reply == nil || lm.Top.Metadata != nil {
		t.Errorf("a final failure: broadcast %v, replyOnUpdate %v, reply %v, top metadata %v", lm.Broadcast, lm.ReplyOnUpdate, lm.Reply != nil, lm.Top.Metadata)
	}
	r.Verdict, r.Attempt = report.Succeeded, 1
	if lm := liveMessage(r, "C0DEPLOYS"); lm.Broadcast || !lm.ReplyOnUpdate {
		t.Errorf("a success: broadcast %v, replyOnUpdate %v", lm.Broadcast, lm.ReplyOnUpdate)
	}
	r.Verdict, r.WillRetry, r.Attempt = report.Failed, true, 2
	if lm := liveMessage(r, "C0DEPLOYS"); lm.Broadcast || lm.ReplyOnUpdate {
		t.Errorf("a retried failure: broadcast %v, replyOnUpdate %v", lm.Broadcast, lm.ReplyOnUpdate)
	}
}

// TestEndStartedRetriedSuccess: a retried sync whose earlier attempt posted
// "failed (attempt 1 of 3, Argo CD will retry)" and whose success NOTIFY_ON
// mutes must not leave that text for good, even without SLACK_POST_STARTED.
func TestEndStartedRetriedSuccess(t *testing.T) {
	s := slacktest.Start(t)
	s.SetValidToken("xoxb-live-test")
	cfg := &config.Config{Notifier: "auto", SlackToken: "xoxb-live-test", SlackAPIURL: s.URL(), RetryNotify: "update",
		SlackAttemptTimeout: 2 * time.Second}
	bot, err := notify.NewBot(cfg.SlackToken, cfg.SlackAPIURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now().Add(-time.Minute).Truncate(time.Second)
	r := report.Report{Verdict: report.Failed, WillRetry: true, App: report.AppRef{Name: "web", Namespace: "argocd"},
		StartedAt: &started, Attempt: 1, MaxAttempts: 3, Summary: "web sync failed (attempt 1 of 3, Argo CD will retry)",
		Recipients: []recipients.Recipient{{Kind: recipients.Channel, Value: "C0DEPLOYS"}}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := bot.DeliverLive(ctx, notify.Retrier{AttemptTimeout: time.Second}, liveMessage(r, "C0DEPLOYS"), nil); err != nil {
		t.Fatal(err)
	}
	r.Verdict, r.WillRetry, r.Attempt, r.Summary = report.Succeeded, false, 2, "web synced and healthy"
	endStarted(ctx, cfg, r, slog.New(slog.DiscardHandler))
	top := s.TopLevel("C0DEPLOYS")
	if len(top) != 1 || strings.Contains(top[0].Text, "failed") {
		t.Errorf("after the muted success the sync's message reads %+v", top)
	}
}

// TestEndStartedNotOnDemand: a run from the CronJob (not a hook of the
// sync) whose verdict NOTIFY_ON mutes leaves the sync's live message as
// its hooks left it: its "rollout still in progress" must not replace the
// sync's final verdict.
func TestEndStartedNotOnDemand(t *testing.T) {
	s := slacktest.Start(t)
	s.SetValidToken("xoxb-live-test")
	cfg := &config.Config{Notifier: "auto", SlackToken: "xoxb-live-test", SlackAPIURL: s.URL(), RetryNotify: "update",
		SlackAttemptTimeout: 2 * time.Second, SlackPostStarted: true, NotifyOn: "succeeded,failed,degraded"}
	bot, err := notify.NewBot(cfg.SlackToken, cfg.SlackAPIURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now().Add(-time.Minute).Truncate(time.Second)
	r := report.Report{Verdict: report.Failed, App: report.AppRef{Name: "web", Namespace: "argocd"},
		StartedAt: &started, Attempt: 2, MaxAttempts: 2, Summary: "web sync failed after 2 attempts",
		Recipients: []recipients.Recipient{{Kind: recipients.Channel, Value: "C0DEPLOYS"}}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := bot.DeliverLive(ctx, notify.Retrier{AttemptTimeout: time.Second}, liveMessage(r, "C0DEPLOYS"), nil); err != nil {
		t.Fatal(err)
	}
	r.Verdict, r.Summary = report.Progressing, "web rollout still in progress"
	onDemand := argocd.Target{Name: "web", Namespace: "argocd", Self: &argocd.Ref{Kind: "Job", Name: "web-syncreport-cron-1"}}
	if err := post(ctx, cfg, &r, onDemand, io.Discard, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	top := s.TopLevel("C0DEPLOYS")
	if len(top) != 1 || top[0].Text != "web sync failed after 2 attempts" && !strings.Contains(top[0].Text, "failed after 2 attempts") {
		t.Errorf("after an on-demand muted run the sync's message reads %+v", top)
	}
}
