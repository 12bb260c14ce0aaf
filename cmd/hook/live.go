package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/syncreport/syncreport/internal/argocd"
	"github.com/syncreport/syncreport/internal/recipients"

	"github.com/syncreport/syncreport/internal/config"
	"github.com/syncreport/syncreport/internal/notify"
	"github.com/syncreport/syncreport/internal/report"
)

// liveUpdates reports whether RETRY_NOTIFY=update keeps one live message per
// sync: only a bot can find and update its messages (Slack gives a webhook
// no timestamp to update).
func liveUpdates(cfg *config.Config) bool {
	return cfg.RetryNotify == "update" && cfg.Transport() == "slack"
}

// retryPolicy is the RETRY_NOTIFY policy for messages that are not live
// (a webhook, a channel given by name, other destinations): update posts
// like first there.
func retryPolicy(p string) string {
	if p == "update" {
		return "first"
	}
	return p
}

// liveMessage is r's contribution to its sync's live message in channel:
// the message as it should read now, and this run's reply in its thread,
// shown in the channel too for a final failure.
func liveMessage(r report.Report, channel string) notify.LiveMessage {
	top := slackMessage(r, channel)
	top.Metadata = nil
	text, blocks := report.SlackReply(r)
	return notify.LiveMessage{
		App:       r.App.Namespace + "/" + r.App.Name,
		Operation: r.StartedAt.UTC().Format("2006-01-02T15:04:05Z07:00"),
		Attempt:   r.Attempt,
		Stage:     notify.StageReport,
		Verdict:   string(r.Verdict),
		Since:     *r.StartedAt,
		Top:       top,
		Reply:     &notify.Message{Channel: channel, Text: text, Blocks: blocks},
		Broadcast: r.Verdict == report.Failed && !r.WillRetry,
		// A sync that succeeds at once is one message, no thread.
		ReplyOnUpdate: r.Verdict == report.Succeeded,
	}
}

// sendLive delivers r to channel as a live message when it can be one
// (RETRY_NOTIFY=update, a channel ID, an operation to key it by), and
// reports false when it cannot, for the caller to post as before.
func sendLive(ctx context.Context, cfg *config.Config, bot *notify.Bot, retrier notify.Retrier, r report.Report, channel string, log *slog.Logger) (handled bool, err error) {
	if !liveUpdates(cfg) || r.StartedAt == nil {
		return false, nil
	}
	if !notify.CanLive(channel) {
		log.Warn("RETRY_NOTIFY=update needs the channel's ID (C0123…) to find and update this sync's message; posting a new message as RETRY_NOTIFY=first would",
			"channel", channel)
		return false, nil
	}
	return true, deliverLive(ctx, bot, retrier, liveMessage(r, channel), log)
}

func deliverLive(ctx context.Context, bot *notify.Bot, retrier notify.Retrier, lm notify.LiveMessage, log *slog.Logger) error {
	res, err := bot.DeliverLive(ctx, retrier, lm, log)
	if err != nil {
		log.Error("report not delivered", "notifier", "slack", "channel", lm.Top.Channel, "error", err.Error())
		return err
	}
	log.Info("report delivered", "notifier", "slack", "channel", lm.Top.Channel, "live", true, "ts", res.TS,
		"posted", res.Posted, "updated", res.Updated, "skipped", res.Skipped, "replied", res.Replied, "merged", res.Merged, "fallback", res.Fallback != "")
	return nil
}

// postStarted is the gate's optional "Syncing web to 9c0ffee, by alice…"
// message (SLACK_POST_STARTED): the first of the sync's live message, which
// its report later turns into the verdict. It is best effort: it never
// changes the gate's outcome, and it leaves a message that a report
// already made alone (see notify.LiveMessage.Attempt).
func postStarted(ctx context.Context, cfg *config.Config, rd *appReader, t argocd.Target, log *slog.Logger) {
	if !cfg.SlackPostStarted {
		return
	}
	if !liveUpdates(cfg) {
		log.Warn("SLACK_POST_STARTED needs a bot token (SLACK_TOKEN) and RETRY_NOTIFY=update; not posting a started message")
		return
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	app, err := rd.get(ctx, t.Namespace, t.Name)
	if err != nil {
		log.Warn("cannot read the application for the started message", "error", err.Error())
		return
	}
	r := report.Build(app, report.Options{Self: t.Self, SelfImages: t.SelfImages, SelfHook: t.SelfHook, ArgoCDURL: cfg.ArgoCDURL, Now: time.Now()})
	if r.StartedAt == nil {
		return
	}
	bot, err := notify.NewBot(cfg.SlackToken, cfg.SlackAPIURL, &http.Client{Transport: http.DefaultTransport})
	if err != nil {
		log.Warn("cannot post the started message", "error", err.Error())
		return
	}
	s := report.Started(r)
	settings := recipients.Settings{Channel: cfg.SlackChannel, ChannelFailed: cfg.SlackChannelFailed}
	for _, ch := range recipients.Channels(recipients.Collect(app, string(s.Verdict), settings)) {
		if !notify.CanLive(ch) {
			log.Info("no started message in a channel given by name (RETRY_NOTIFY=update needs its ID)", "channel", ch)
			continue
		}
		lm := liveMessage(s, ch)
		lm.Stage, lm.Reply = notify.StageStarted, nil
		_ = deliverLive(ctx, bot, notify.Retrier{AttemptTimeout: cfg.SlackAttemptTimeout}, lm, log)
	}
}

// endStarted updates the sync's live message to a verdict NOTIFY_ON mutes:
// it is never posted as a new message, but a message that says the sync is
// running (the gate's "Syncing…", SLACK_POST_STARTED) or that an earlier
// attempt failed and Argo CD will retry must not stay so. Without either
// there is no message to end, and no history to read.
func endStarted(ctx context.Context, cfg *config.Config, r report.Report, log *slog.Logger) {
	if (!cfg.SlackPostStarted && r.Attempt <= 1) || !liveUpdates(cfg) || r.StartedAt == nil {
		return
	}
	bot, err := notify.NewBot(cfg.SlackToken, cfg.SlackAPIURL, &http.Client{Transport: http.DefaultTransport})
	if err != nil {
		return
	}
	retrier := notify.Retrier{AttemptTimeout: cfg.SlackAttemptTimeout}
	for _, ch := range recipients.Channels(r.Recipients) {
		if !notify.CanLive(ch) {
			continue
		}
		lm := liveMessage(r, ch)
		lm.UpdateOnly, lm.Reply = true, nil
		if _, err := bot.DeliverLive(ctx, retrier, lm, log); err != nil {
			log.Warn("cannot end the started message", "channel", ch, "error", err.Error())
		}
	}
}
