package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/syncreport/syncreport/internal/safehttp"
)

// Webhook posts to a Slack incoming webhook. The URL is a credential: it never
// appears in errors or logs, only its RedactWebhookURL form.
type Webhook struct {
	url      string
	redacted string
	secrets  []string // parts of url that must not be quoted back
	hc       *http.Client
}

// NewWebhook returns a Webhook posting to webhookURL (https, or http to a
// loopback address only) with hc (a plain client when nil; its Timeout should
// be zero, see Retrier.AttemptTimeout). Redirects are never followed: the
// URL is the credential, and a 307/308 would replay the post elsewhere.
func NewWebhook(webhookURL string, hc *http.Client) (*Webhook, error) {
	if webhookURL == "" {
		return nil, errors.New("slack webhook URL is empty")
	}
	if strings.ContainsAny(webhookURL, " \t\r\n") {
		return nil, errors.New("slack webhook URL contains whitespace (a trailing newline in the secret?)")
	}
	// The parse error is not wrapped: it would quote part of the URL.
	u, err := url.Parse(webhookURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("slack webhook URL %s is not an http(s) URL", RedactWebhookURL(webhookURL))
	}
	if !safehttp.PlainHTTPAllowed(u) {
		return nil, fmt.Errorf("slack webhook URL %s: plain http would send it in clear; use https (http only to a loopback address)", RedactWebhookURL(webhookURL))
	}
	secrets := []string{webhookURL}
	if u.Path != "" && u.Path != "/" {
		secrets = append(secrets, u.Path)
		if last := path.Base(u.Path); len(last) >= 8 {
			secrets = append(secrets, last)
		}
	}
	return &Webhook{url: webhookURL, redacted: RedactWebhookURL(webhookURL), secrets: secrets, hc: safehttp.NoRedirects(hc)}, nil
}

// Name implements Notifier.
func (w *Webhook) Name() string { return "webhook" }

// Notify posts m as the webhook's JSON payload. retry reports whether the
// failure is transient; the error is an *Error for anything Slack answered.
func (w *Webhook) Notify(ctx context.Context, m Message) (retry bool, err error) {
	ep := endpoint{method: "webhook", webhook: true}
	if m.Channel != "" {
		ep.subject = fmt.Sprintf("to channel %q", m.Channel)
	}
	if m.Text == "" {
		return false, &Error{Method: ep.method, subject: ep.subject, err: errNoText}
	}
	body, err := json.Marshal(m)
	if err != nil {
		return false, &Error{Method: ep.method, subject: ep.subject, err: fmt.Errorf("encoding the message: %w", err)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return false, &Error{Method: ep.method, subject: ep.subject, err: errors.New("cannot build the request")}
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	return classify(ep, exchange(w.hc, req, w.redacted, w.secrets...))
}
