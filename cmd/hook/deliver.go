package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/syncreport/syncreport/internal/config"
	"github.com/syncreport/syncreport/internal/notify"
	"github.com/syncreport/syncreport/internal/recipients"
	"github.com/syncreport/syncreport/internal/report"
)

// deliver sends the report to every configured destination (Slack or
// stdout, email, the JSON webhook, commit statuses) at once: each retries on its own within
// ctx (HOOK_TIMEOUT), and one failing or hanging never holds up the others.
// It logs one line per destination and returns their failures joined; the
// caller decides whether they fail the hook (FAIL_ON_DELIVERY_ERROR).
func deliver(ctx context.Context, cfg *config.Config, r *report.Report, stdout io.Writer, log *slog.Logger) error {
	type destination struct {
		name string
		send func(context.Context) error
	}
	var dests []destination
	// What email and the webhook send is made here, before anything runs:
	// the Slack side writes the recipients' Slack IDs into r as it goes.
	for _, name := range cfg.Destinations() {
		switch name {
		case notify.EmailName:
			send, err := emailSender(cfg, *r, log)
			if err != nil {
				send = func(context.Context) error { return err }
			}
			dests = append(dests, destination{name, send})
		case notify.JSONWebhookName:
			send, err := webhookSender(cfg, *r, log)
			if err != nil {
				send = func(context.Context) error { return err }
			}
			dests = append(dests, destination{name, send})
		case notify.CommitStatusName:
			send, err := commitStatusSender(cfg, *r, log)
			if err != nil {
				send = func(context.Context) error { return err }
			}
			dests = append(dests, destination{name, send})
		default:
			dests = append(dests, destination{name, func(ctx context.Context) error {
				return deliverSlack(ctx, cfg, r, stdout, log)
			}})
		}
	}
	errs := make([]error, len(dests))
	var wg sync.WaitGroup
	for i, d := range dests {
		wg.Go(func() {
			defer func() {
				// One destination's bug must not take the others down.
				if p := recover(); p != nil {
					errs[i] = fmt.Errorf("%s: internal error: %v", d.name, p)
				}
			}()
			errs[i] = d.send(ctx)
		})
	}
	wg.Wait()
	var delivered, failed []string
	for i, d := range dests {
		if errs[i] != nil {
			failed = append(failed, d.name)
			log.Error("destination failed", "destination", d.name, "error", errs[i].Error(),
				"failOnDeliveryError", cfg.FailOnDeliveryError)
			continue
		}
		delivered = append(delivered, d.name)
	}
	if len(dests) > 1 || len(failed) > 0 {
		log.Info("delivery done", "delivered", strings.Join(delivered, ","), "failed", strings.Join(failed, ","))
	}
	return errors.Join(errs...)
}

// emailSender renders the email and works out who gets it: EMAIL_TO and,
// with EMAIL_RECIPIENTS, every resolved person with an email address.
func emailSender(cfg *config.Config, r report.Report, log *slog.Logger) (func(context.Context) error, error) {
	s, _ := cfg.SMTP()
	e, err := notify.NewEmail(s)
	if err != nil {
		return nil, fmt.Errorf("email: %w", err)
	}
	to := emailAddresses(cfg, r)
	if len(to) == 0 {
		return func(context.Context) error {
			log.Info("email: no one to send to (no EMAIL_TO, and no resolved person has an email address)", "destination", notify.EmailName)
			return nil
		}, nil
	}
	var m notify.EmailMessage
	m.Subject = report.EmailSubject(r)
	if m.Text, err = report.EmailText(r); err != nil {
		return nil, fmt.Errorf("email: rendering the text part: %w", err)
	}
	if m.HTML, err = report.EmailHTML(r); err != nil {
		return nil, fmt.Errorf("email: rendering the HTML part: %w", err)
	}
	retrier := notify.Retrier{AttemptTimeout: cfg.SlackAttemptTimeout}
	return func(ctx context.Context) error {
		return notify.DeliverEmail(ctx, retrier, e, to, m, log)
	}, nil
}

// emailAddresses is EMAIL_TO plus, with EMAIL_RECIPIENTS, the resolved
// people's addresses, each once (compared without case).
func emailAddresses(cfg *config.Config, r report.Report) []string {
	var out []string
	seen := map[string]bool{}
	add := func(a string) {
		if k := strings.ToLower(a); !seen[k] {
			seen[k] = true
			out = append(out, a)
		}
	}
	for _, a := range cfg.EmailAddresses() {
		add(a)
	}
	if cfg.EmailRecipients {
		for _, u := range recipients.Users(r.Recipients) {
			if u.Email() {
				add(u.Value)
			}
		}
	}
	return out
}

// webhookSender renders the report exactly as `hook render --format json`.
func webhookSender(cfg *config.Config, r report.Report, log *slog.Logger) (func(context.Context) error, error) {
	w, err := notify.NewJSONWebhook(cfg.WebhookURL, cfg.WebhookSecret, cfg.WebhookHeaders(), &http.Client{Transport: http.DefaultTransport})
	if err != nil {
		return nil, err
	}
	var body bytes.Buffer
	if err := report.JSON(&body, r); err != nil {
		return nil, fmt.Errorf("json-webhook: encoding the report: %w", err)
	}
	retrier := notify.Retrier{AttemptTimeout: cfg.SlackAttemptTimeout}
	return func(ctx context.Context) error {
		attempts, err := notify.DeliverJSONWebhook(ctx, retrier, w, body.Bytes(), log)
		if err != nil {
			log.Error("report not delivered", "destination", notify.JSONWebhookName, "attempts", attempts, "error", err.Error())
			return err
		}
		log.Info("report delivered", "destination", notify.JSONWebhookName, "attempts", attempts)
		return nil
	}, nil
}
