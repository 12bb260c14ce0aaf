package main

import (
	"testing"
	"time"

	"github.com/syncreport/syncreport/internal/config"
	"github.com/syncreport/syncreport/internal/notify"
	"github.com/syncreport/syncreport/internal/report"
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
