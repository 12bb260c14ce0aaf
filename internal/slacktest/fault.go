package slacktest

import (
	"time"
)

// Fault is one scripted misbehaviour of the server, applied to one request.
//
// The fields combine: Delay is applied first, then Reset, then the answer
// built from Status, RetryAfter, OKFalse and Body. A Fault with only Delay set
// delays the request and then handles it normally, which is how a slow but
// successful Slack is simulated.
type Fault struct {
	// Accept handles the request normally (a message is posted) before the
	// rest of the fault applies: with Delay, the client that gives up meanwhile
	// has been posted for all the same; with Reset or an answer, the message
	// is posted but the client hears of a failure. It simulates the ambiguous
	// failures after which a retry would post twice.
	Accept bool
	// Delay holds the answer back. If the client gives up meanwhile (its
	// per-attempt timeout fires) the request is dropped unprocessed: nothing is
	// posted, so a retry that succeeds leaves exactly one message behind.
	Delay time.Duration
	// Reset hijacks the connection and closes it with SO_LINGER 0, so the client
	// sees a TCP reset (or EOF) instead of an answer.
	Reset bool
	// Status is the HTTP status of the answer. Zero means 429 when only
	// RetryAfter is set, the code's real status for a webhook OKFalse, and 200
	// otherwise.
	Status int
	// RetryAfter, in seconds, sets the Retry-After header.
	RetryAfter int
	// OKFalse answers with this Slack error code: {"ok":false,"error":code} on
	// Web API endpoints, the bare code as plain text on the webhook endpoint.
	OKFalse string
	// Needed and Provided add the scope fields Slack sends with missing_scope.
	Needed, Provided string
	// Body, when set, is sent verbatim and replaces any body built from OKFalse.
	Body string
}

// MissingScope is the answer Slack gives when the token lacks needed, for
// example MissingScope("users:read.email") on users.lookupByEmail.
func MissingScope(needed string) Fault {
	return Fault{OKFalse: "missing_scope", Needed: needed, Provided: "chat:write"}
}

// answers reports whether f replaces the normal answer (as opposed to only
// delaying it).
func (f Fault) answers() bool {
	return f.Status != 0 || f.RetryAfter != 0 || f.OKFalse != "" || f.Body != ""
}

// status is the HTTP status to answer f with on endpoint.
func (f Fault) status(endpoint string) int {
	switch {
	case f.Status != 0:
		return f.Status
	case f.OKFalse != "" && endpoint == EndpointWebhook:
		return webhookStatus(f.OKFalse)
	case f.RetryAfter != 0:
		return 429
	default:
		return 200
	}
}

// webhookStatus is the HTTP status Slack's incoming webhooks pair with an error
// code. https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks#handling_errors
func webhookStatus(code string) int {
	switch code {
	case "invalid_payload", "no_text", "too_many_attachments", "invalid_token_format":
		return 400
	case "action_prohibited", "posting_to_general_channel_denied", "invalid_token", "team_disabled":
		return 403
	case "no_service", "no_service_id", "no_team", "channel_not_found", "user_not_found":
		return 404
	case "channel_is_archived", "no_active_hooks":
		return 410
	case "rate_limited", "ratelimited":
		return 429
	default:
		return 400
	}
}
