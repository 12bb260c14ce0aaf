package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// endpoint names one Slack call for classification and error messages.
type endpoint struct {
	method  string // Web API method such as "chat.postMessage", or "webhook"
	subject string // what the call was about, e.g. `to channel "#deploys"`; may be empty
	webhook bool   // answers are plain text ("ok", "no_service"), not the Web API's JSON envelope
	maxBody int64  // how much of the answer is read; 0 means maxBody
}

// outcome is what one HTTP exchange produced: an answer, or a transport error.
type outcome struct {
	status int
	header http.Header
	body   []byte
	err    error // set when no complete answer arrived; already redacted
}

// apiResponse is the envelope every Web API answer shares, errors included.
type apiResponse struct {
	OK               *bool  `json:"ok"`
	Error            string `json:"error"`
	Needed           string `json:"needed"`
	ResponseMetadata struct {
		Messages []string `json:"messages"`
	} `json:"response_metadata"`
}

// classify decides what one exchange with Slack means, for both transports:
// success (nil error), worth retrying (true), or permanent (false).
//
// The Web API answers most errors with HTTP 200 and {"ok":false,"error":code},
// so a 2xx is only a success once the body says so; incoming webhooks answer
// "ok" or a bare error code in plain text with a 4xx status.
// https://docs.slack.dev/apis/web-api/#responses
// https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks#handling_errors
func classify(ep endpoint, o outcome) (retry bool, err error) {
	e := &Error{Method: ep.method, Status: o.status, subject: ep.subject}
	if o.err != nil {
		e.err = o.err
		e.Temporary = transientTransport(o.err)
		return e.Temporary, e
	}

	success := o.status >= 200 && o.status <= 299
	needed := ""
	if ep.webhook {
		e.Code = errorCode(o.body)
		// Slack answers "ok"; Slack-compatible receivers answer other things on
		// success, so only a code we know to be an error spoils a 2xx.
		if success && (e.Code == "" || (hint(e.Code, "") == "" && !transientCode(e.Code))) {
			return false, nil
		}
		if e.Code == "" {
			e.detail = snippet(o.body)
		}
	} else {
		var r apiResponse
		switch {
		case json.Unmarshal(o.body, &r) != nil || r.OK == nil:
			if success {
				// Without "ok" we cannot tell whether the message was posted;
				// retrying risks posting it twice.
				e.detail = "unexpected answer, not Slack API JSON"
				if s := snippet(o.body); s != "" {
					e.detail += ": " + s
				}
			} else {
				e.detail = snippet(o.body)
			}
		case *r.OK && success:
			return false, nil
		default:
			e.Code = oneLine(r.Error)
			needed = oneLine(r.Needed)
			if e.Code == "" {
				e.detail = `"ok":false without an error code`
			}
			if msgs := r.ResponseMetadata.Messages; len(msgs) > 0 {
				var clean []string
				for _, m := range msgs[:min(len(msgs), 3)] {
					clean = append(clean, oneLine(m))
				}
				e.detail = strings.Join(clean, "; ")
			}
		}
	}
	if strings.EqualFold(e.detail, http.StatusText(o.status)) {
		e.detail = "" // a plain "Bad Gateway" body says nothing the status does not
	}
	if o.status >= 300 && o.status <= 399 {
		// Not followed (safehttp.NoRedirects): say where it pointed, host only.
		e.detail = "a redirect, not followed (it would take the credentials along)"
		if loc := o.header.Get("Location"); loc != "" {
			e.detail = "a redirect to " + RedactWebhookURL(loc) + ", not followed (it would take the credentials along)"
		}
	}
	if h := hint(e.Code, needed); h != "" {
		e.detail = strings.TrimSuffix(h+": "+e.detail, ": ")
	}

	switch {
	case o.status == http.StatusTooManyRequests, o.status >= 500:
		e.Temporary = true
	case success:
		e.Temporary = transientCode(e.Code)
	default: // other 4xx, and 1xx/3xx that the client did not follow
		e.Temporary = false
	}
	if e.Temporary {
		e.RetryAfter = retryAfter(o.header, time.Now())
	}
	return e.Temporary, e
}

// transientTransport reports whether a failure to get any answer is worth
// another attempt: refused, reset, EOF, DNS failures and per-attempt timeouts
// are; a cancelled context or a certificate that does not verify are not.
func transientTransport(err error) bool {
	var (
		verify   *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	switch {
	case errors.Is(err, context.Canceled):
		return false
	case errors.As(err, &verify), errors.As(err, &unknown), errors.As(err, &hostname), errors.As(err, &invalid):
		return false
	}
	return true
}

// retryAfter reads the Retry-After header, in seconds or as an HTTP date; 0 if
// absent or unusable. https://www.rfc-editor.org/rfc/rfc9110#field.retry-after
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// errorCode returns body as a Slack error code if it looks like one
// ("channel_not_found"), "" otherwise; "ok" is not an error.
func errorCode(body []byte) string {
	s := strings.TrimSpace(string(body))
	if s == "" || s == "ok" || len(s) > 64 {
		return ""
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && c != '_' {
			return ""
		}
	}
	return s
}

// snippet is a short, single-line excerpt of an unexpected body for an error
// message; HTML error pages are left out as noise.
func snippet(body []byte) string {
	s := strings.TrimSpace(string(body))
	if strings.HasPrefix(s, "<") {
		return ""
	}
	s, _, _ = strings.Cut(s, "\n")
	return oneLine(s)
}

// oneLine makes text from an answer safe to put in a one-line message:
// printable characters only, at most 120 of them.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, strings.TrimSpace(s))
	if r := []rune(s); len(r) > 120 {
		s = string(r[:120]) + "…"
	}
	return s
}

// maxBody bounds how much of an answer is read: Slack's are small, and a
// misbehaving proxy should not make us buffer megabytes.
const maxBody = 1 << 20

// exchange sends req and reads the answer. Go's *url.Error quotes the request
// URL, so redactedURL replaces it in transport errors; secrets are blanked out
// of the body before anything can quote it.
func exchange(hc *http.Client, req *http.Request, redactedURL string, secrets ...string) outcome {
	return exchangeUpTo(hc, req, redactedURL, maxBody, secrets...)
}

// exchangeUpTo is exchange reading at most limit bytes of the answer.
func exchangeUpTo(hc *http.Client, req *http.Request, redactedURL string, limit int64, secrets ...string) outcome {
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = redactedURL
		}
		return outcome{err: err}
	}
	defer func() {
		// Drained bodies let the connection be reused by the next attempt.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, limit))
		_ = resp.Body.Close()
	}()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return outcome{err: fmt.Errorf("reading the answer (HTTP %d): %w", resp.StatusCode, err)}
	}
	for _, s := range secrets {
		if s != "" {
			body = bytes.ReplaceAll(body, []byte(s), []byte("REDACTED"))
		}
	}
	return outcome{status: resp.StatusCode, header: resp.Header, body: body}
}
