package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/syncreport/syncreport/internal/safehttp"
)

// DefaultAPIURL is the base of Slack's Web API.
const DefaultAPIURL = "https://slack.com/api/"

// Bot calls the Slack Web API with a bot token: chat.postMessage to deliver,
// and the look-ups needed to reach people directly.
type Bot struct {
	token string
	api   *url.URL // ends in "/"
	hc    *http.Client

	mu       sync.Mutex
	ownBotID string // from auth.test, when asked
}

// NewBot returns a Bot using token. apiURL is the Web API base, DefaultAPIURL
// when empty: https, or http to a loopback address only. hc is the client to
// send with, a plain one when nil; redirects are never followed whatever it
// says (safehttp.NoRedirects). Its Timeout should be zero: each attempt is
// bounded through its context instead (see Retrier.AttemptTimeout).
func NewBot(token, apiURL string, hc *http.Client) (*Bot, error) {
	switch {
	case token == "":
		return nil, errors.New("slack bot token is empty")
	case strings.ContainsAny(token, " \t\r\n"):
		// The usual cause is a trailing newline in the secret; Slack would answer invalid_auth.
		return nil, errors.New("slack bot token contains whitespace (a trailing newline in the secret?)")
	}
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	u, err := url.Parse(apiURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("slack API URL %q is not an http(s) URL", RedactAPIURL(apiURL))
	}
	if !safehttp.PlainHTTPAllowed(u) {
		return nil, fmt.Errorf("slack API URL %q: plain http would send the token in clear; use https (http only to a loopback address)", RedactAPIURL(apiURL))
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		u.RawPath = ""
	}
	return &Bot{token: token, api: u, hc: safehttp.NoRedirects(hc)}, nil
}

// Name implements Notifier.
func (b *Bot) Name() string { return "slack" }

// Notify posts m to m.Channel with chat.postMessage. retry reports whether the
// failure is transient; the error is an *Error for anything Slack answered.
// https://docs.slack.dev/reference/methods/chat.postMessage
func (b *Bot) Notify(ctx context.Context, m Message) (retry bool, err error) {
	if m.Channel == "" {
		return false, &Error{Method: "chat.postMessage", err: errors.New("message has no channel")}
	}
	ep := endpoint{method: "chat.postMessage", subject: fmt.Sprintf("to channel %q", m.Channel)}
	if m.Text == "" {
		return false, &Error{Method: ep.method, subject: ep.subject, err: errNoText}
	}
	body, err := json.Marshal(m)
	if err != nil {
		return false, &Error{Method: ep.method, subject: ep.subject, err: fmt.Errorf("encoding the message: %w", err)}
	}
	return b.post(ctx, ep, "application/json; charset=utf-8", body, nil)
}

// LookupUserByEmail returns the ID of the workspace member with this email.
// It needs the users:read.email scope; errors.Is(err, ErrUserNotFound) and
// errors.Is(err, ErrMissingScope) tell the usual failures apart, and
// IsTemporary(err) whether to try again (Call does that).
// https://docs.slack.dev/reference/methods/users.lookupByEmail
func (b *Bot) LookupUserByEmail(ctx context.Context, email string) (userID string, err error) {
	ep := endpoint{method: "users.lookupByEmail", subject: fmt.Sprintf("for %q", email)}
	var out struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	if _, err := b.post(ctx, ep, formType, []byte(url.Values{"email": {email}}.Encode()), &out); err != nil {
		return "", err
	}
	if out.User.ID == "" {
		return "", &Error{Method: ep.method, Status: http.StatusOK, subject: ep.subject, detail: "the answer has no user ID"}
	}
	return out.User.ID, nil
}

// OpenDM opens (or finds) the direct-message conversation with userID and
// returns its channel ID, to post to with Notify. It needs the im:write scope.
// https://docs.slack.dev/reference/methods/conversations.open
func (b *Bot) OpenDM(ctx context.Context, userID string) (channelID string, err error) {
	ep := endpoint{method: "conversations.open", subject: fmt.Sprintf("with user %q", userID)}
	var out struct {
		Channel struct {
			ID string `json:"id"`
		} `json:"channel"`
	}
	if _, err := b.post(ctx, ep, formType, []byte(url.Values{"users": {userID}}.Encode()), &out); err != nil {
		return "", err
	}
	if out.Channel.ID == "" {
		return "", &Error{Method: ep.method, Status: http.StatusOK, subject: ep.subject, detail: "the answer has no channel ID"}
	}
	return out.Channel.ID, nil
}

const formType = "application/x-www-form-urlencoded"

// post calls one Web API method and, on success, decodes the answer into out
// (if not nil).
func (b *Bot) post(ctx context.Context, ep endpoint, contentType string, body []byte, out any) (retry bool, err error) {
	u := b.api.JoinPath(ep.method)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		// Not wrapped: the error would quote the URL.
		return false, &Error{Method: ep.method, subject: ep.subject, err: errors.New("cannot build the request")}
	}
	req.Header.Set("Authorization", "Bearer "+b.token)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")

	limit := int64(maxBody)
	if ep.maxBody > 0 {
		limit = ep.maxBody
	}
	o := exchangeUpTo(b.hc, req, RedactAPIURL(u.String()), limit, b.token)
	if retry, err := classify(ep, o); err != nil {
		return retry, err
	}
	if out != nil {
		if err := json.Unmarshal(o.body, out); err != nil {
			return false, &Error{Method: ep.method, Status: o.status, subject: ep.subject, detail: "the answer could not be decoded: " + err.Error()}
		}
	}
	return false, nil
}
