package notify

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Sentinel errors, matched with errors.Is against an *Error carrying the
// corresponding Slack error code, so callers can react without knowing the codes.
var (
	// ErrUserNotFound: users_not_found (users.lookupByEmail) or user_not_found.
	ErrUserNotFound = errors.New("slack user not found")
	// ErrMissingScope: missing_scope; the token lacks a scope the method needs.
	ErrMissingScope = errors.New("slack token is missing a scope")
	// ErrInvalidAuth: the token or webhook URL was rejected (invalid_auth,
	// not_authed, token_revoked, token_expired, account_inactive; no_service,
	// invalid_token from a webhook).
	ErrInvalidAuth = errors.New("slack credentials rejected")
	// ErrChannelNotFound: channel_not_found from either transport.
	ErrChannelNotFound = errors.New("slack channel not found")
	// ErrNotInChannel: not_in_channel; the bot must be invited.
	ErrNotInChannel = errors.New("slack bot is not in the channel")
)

// Error is one failed Slack call, classified. Its text never contains the
// token or the webhook URL.
type Error struct {
	// Method is the Web API method ("chat.postMessage") or "webhook".
	Method string
	// Status is the HTTP status, 0 when no answer arrived.
	Status int
	// Code is Slack's error code ("channel_not_found"), "" when there was none.
	Code string
	// Temporary reports whether another attempt may succeed.
	Temporary bool
	// RetryAfter is how long Slack asked us to wait (429), 0 if it did not say.
	RetryAfter time.Duration

	subject string // what the call was about, e.g. `to channel "#deploys"`
	detail  string // hint or explanation appended in parentheses
	err     error  // transport error, already redacted
}

// Error names the method and what it was about, then the HTTP status, the
// Slack error code and a hint, or the transport error.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("slack ")
	b.WriteString(e.Method)
	if e.subject != "" {
		b.WriteString(" ")
		b.WriteString(e.subject)
	}
	b.WriteString(": ")
	if e.err != nil {
		b.WriteString(e.err.Error())
		return b.String()
	}
	var parts []string
	if e.Status != 0 && (e.Status < 200 || e.Status > 299) {
		parts = append(parts, fmt.Sprintf("HTTP %d %s", e.Status, http.StatusText(e.Status)))
	}
	if e.Code != "" {
		parts = append(parts, e.Code)
	}
	b.WriteString(strings.Join(parts, ": "))
	if e.detail != "" {
		if len(parts) > 0 {
			b.WriteString(" (" + e.detail + ")")
		} else {
			b.WriteString(e.detail)
		}
	}
	return b.String()
}

// Unwrap returns the transport error, if any, so errors.Is can see through to
// context.DeadlineExceeded or a *net.DNSError.
func (e *Error) Unwrap() error { return e.err }

// Is matches the sentinel errors by Slack error code.
func (e *Error) Is(target error) bool {
	switch e.Code {
	case "users_not_found", "user_not_found":
		return target == ErrUserNotFound
	case "missing_scope":
		return target == ErrMissingScope
	case "invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive",
		"no_service", "invalid_token":
		return target == ErrInvalidAuth
	case "channel_not_found":
		return target == ErrChannelNotFound
	case "not_in_channel":
		return target == ErrNotInChannel
	}
	return false
}

// IsTemporary reports whether err is a classified Slack failure worth another
// attempt.
func IsTemporary(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Temporary
}

// transientCode reports whether a Web API error code describes a passing
// condition on Slack's side. https://docs.slack.dev/reference/methods/chat.postMessage#errors
func transientCode(code string) bool {
	switch code {
	case "internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited", "rate_limited":
		return true
	}
	return false
}

// hint explains an error code in terms of what to change. needed is the scope
// Slack reported missing, if any.
func hint(code, needed string) string {
	switch code {
	case "invalid_auth":
		return "the bot token is not valid; check the secret it comes from"
	case "not_authed":
		return "no token was sent"
	case "token_revoked":
		return "the token was revoked; reinstall the app or issue a new token"
	case "token_expired":
		return "the token expired; token rotation is on for this app, use a non-rotating bot token"
	case "account_inactive":
		return "the token belongs to a deactivated user or workspace"
	case "channel_not_found":
		return "the channel does not exist or the bot cannot see it; for a private channel, invite the bot"
	case "not_in_channel":
		return "invite the bot to the channel with /invite @your-app, or add the chat:write.public scope for public channels"
	case "is_archived", "channel_is_archived":
		return "the channel is archived"
	case "msg_too_long":
		return "the message text is too long"
	case "no_text":
		return "the message has neither text nor blocks"
	case "invalid_blocks", "invalid_blocks_format":
		return "Slack rejected the blocks"
	case "invalid_metadata_format", "invalid_metadata_schema":
		return "Slack rejected the message metadata"
	case "missing_scope":
		if needed != "" {
			return fmt.Sprintf("the token lacks the scope %s; add it to the app and reinstall it", needed)
		}
		return "the token lacks a scope this method needs; add it to the app and reinstall it"
	case "invalid_arguments":
		return "the request was malformed"
	case "restricted_action", "action_prohibited":
		return "a workspace admin has restricted posting to this channel"
	case "posting_to_general_channel_denied":
		return "only admins may post to this channel"
	case "users_not_found":
		return "no user in the workspace has this email address, or the bot cannot see them"
	case "user_not_found":
		return "no such user"
	case "cannot_dm_bot":
		return "bots cannot be sent DMs"
	case "invalid_payload":
		return "the webhook could not parse the message"
	case "too_many_attachments":
		return "the message has too many attachments"
	case "no_service", "no_service_id":
		return "the webhook URL is wrong, or the webhook was removed"
	case "invalid_token":
		return "the webhook was disabled or its URL is wrong"
	case "team_disabled", "no_team":
		return "the workspace behind the webhook is gone"
	case "no_active_hooks":
		return "the webhook was disabled"
	}
	return ""
}
