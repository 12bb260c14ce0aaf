package argocdapi

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// Kinds of failure, for errors.Is. Every error the Client returns for a
// request that reached the network wraps one of them.
var (
	ErrUnreachable  = errors.New("argocd-server unreachable")
	ErrTLS          = errors.New("argocd-server TLS verification failed")
	ErrUnauthorized = errors.New("argocd-server rejected the token")
	ErrForbidden    = errors.New("argocd-server denied permission")
	ErrNotFound     = errors.New("not found on argocd-server")
	ErrServer       = errors.New("argocd-server error")
)

// Error is a failed request. Its message says what to fix and never holds
// the token; Kind is one of the Err* values above.
type Error struct {
	Kind error
	// Status is the HTTP status code, 0 when no response came.
	Status int
	msg    string
	cause  error
}

// Error returns the message, which says what to fix.
func (e *Error) Error() string { return e.msg }

// Unwrap exposes Kind and the underlying cause (a net.Error, an x509 error)
// to errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	if e.cause == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.cause}
}

// classifyTransport turns an error of http.Client.Do into an Error and says
// whether it is worth retrying: refused, reset and timed out connections
// are; TLS and DNS "no such host" are not, since waiting fixes neither.
func (c *Client) classifyTransport(err error) (retry bool, _ error) {
	inner := err
	var ue *url.Error
	if errors.As(err, &ue) {
		inner = ue.Err // the URL is in every message otherwise; ours are shorter
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false, &Error{Kind: ErrUnreachable, msg: fmt.Sprintf("argocd-server %s unreachable: %v", c.hostport, inner), cause: err}
	}
	host := c.base.Hostname()
	var (
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		verify    *tls.CertificateVerificationError
		record    tls.RecordHeaderError
		dns       *net.DNSError
	)
	switch {
	case errors.As(err, &hostname):
		return false, &Error{Kind: ErrTLS, cause: err, msg: fmt.Sprintf(
			"TLS verification of %s failed: %v; set ARGOCD_SERVER to a name the certificate is for, or ARGOCD_INSECURE=true", host, hostname.Error())}
	case errors.As(err, &unknownCA), errors.As(err, &invalid), errors.As(err, &verify):
		return false, &Error{Kind: ErrTLS, cause: err, msg: fmt.Sprintf(
			"TLS verification of %s failed: %v; set ARGOCD_CA_FILE to the server's CA, or ARGOCD_INSECURE=true", host, tlsReason(err))}
	case errors.As(err, &record), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return false, &Error{Kind: ErrTLS, cause: err, msg: fmt.Sprintf(
			"argocd-server %s does not speak TLS (argocd-server --insecure?): set ARGOCD_PLAINTEXT=true, or use its TLS port", c.hostport)}
	case errors.As(err, &dns) && dns.IsNotFound:
		return false, &Error{Kind: ErrUnreachable, cause: err, msg: fmt.Sprintf(
			"argocd-server %s unreachable: %v (a Service name of the Argo CD cluster does not resolve in this one: use an address reachable from here)",
			c.hostport, inner)}
	}
	retry = errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
	var ne net.Error
	if errors.As(err, &ne) {
		retry = true
	}
	return retry, &Error{Kind: ErrUnreachable, cause: err, msg: fmt.Sprintf("argocd-server %s unreachable: %s", c.hostport, c.redact(inner.Error()))}
}

// tlsReason is the x509 reason without tls's "tls: failed to verify
// certificate: " prefix, which the message says already.
func tlsReason(err error) string {
	var verify *tls.CertificateVerificationError
	if errors.As(err, &verify) && verify.Err != nil {
		return verify.Err.Error()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// classifyStatus turns a non-200 response into an Error: 5xx and 429 are
// retried (honouring Retry-After), everything else is final.
func (c *Client) classifyStatus(resp *http.Response, body []byte, t target) (time.Duration, bool, error) {
	code := resp.StatusCode
	detail := c.redact(serverMessage(body))
	e := &Error{Status: code}
	switch {
	case code == http.StatusUnauthorized:
		e.Kind = ErrUnauthorized
		e.msg = fmt.Sprintf("argocd-server %s: ARGOCD_AUTH_TOKEN rejected (401): the token is invalid or expired", c.hostport)
	case code == http.StatusForbidden:
		// argocd-server answers 403 for an app that does not exist as for
		// one the token may not see, so as not to leak which apps exist
		// (GHSA-2q5c-qw9c-fmvq, https://github.com/argoproj/argo-cd/issues/13000).
		ns, name, hasNS := strings.Cut(t.app, "/")
		if !hasNS {
			name = t.app
		}
		role := fmt.Sprintf("`applications, get, <project>/%s, allow`", name)
		if hasNS {
			role += fmt.Sprintf(" (`<project>/%s/%s` if the app is outside Argo CD's namespace)", ns, name)
		}
		e.Kind = ErrForbidden
		e.msg = fmt.Sprintf("argocd-server %s: permission denied (403): give the token's project role %s, "+
			"or check that application %s exists: argocd-server answers 403 for missing apps too", c.hostport, role, t.app)
	case code == http.StatusNotFound && t.revision != "" && grpcError(body):
		e.Kind = ErrNotFound
		e.msg = fmt.Sprintf("revision %s of application %s not found on argocd-server %s", shortRev(t.revision), t.app, c.hostport)
	case code == http.StatusNotFound && grpcError(body):
		e.Kind = ErrNotFound
		e.msg = fmt.Sprintf("application %s not found on argocd-server %s", t.app, c.hostport)
	case code == http.StatusNotFound:
		// Not the API's JSON error: the path is wrong, not the app.
		e.Kind = ErrNotFound
		e.msg = fmt.Sprintf("argocd-server %s: %s answered 404 without an Argo CD error: is ARGOCD_SERVER argocd-server, with its --rootpath if any?",
			c.hostport, resp.Request.URL.Path)
	case code == http.StatusBadRequest && c.plainText && strings.Contains(string(body), "HTTPS server"):
		e.Kind = ErrTLS
		e.msg = fmt.Sprintf("argocd-server %s speaks TLS: unset ARGOCD_PLAINTEXT", c.hostport)
	case code >= 300 && code < 400 && c.plainText && strings.HasPrefix(resp.Header.Get("Location"), "https://"):
		// argocd-server with TLS answers plain HTTP with a redirect.
		e.Kind = ErrTLS
		e.msg = fmt.Sprintf("argocd-server %s redirects plain HTTP to https: it speaks TLS: unset ARGOCD_PLAINTEXT", c.hostport)
	case code >= 300 && code < 400:
		loc := resp.Header.Get("Location")
		if u, err := url.Parse(loc); err == nil {
			loc = u.Scheme + "://" + u.Host + u.Path // no query: it may carry a session
		}
		e.Kind = ErrServer
		e.msg = fmt.Sprintf("argocd-server %s answered %s, a redirect to %s, not followed (it would take the token along): "+
			"point ARGOCD_SERVER at argocd-server itself, not a login proxy", c.hostport, resp.Status, c.redact(loc))
	default:
		e.Kind = ErrServer
		e.msg = fmt.Sprintf("argocd-server %s answered %s", c.hostport, resp.Status)
		if detail != "" {
			e.msg += ": " + detail
		}
	}
	if code == http.StatusTooManyRequests || code >= 500 {
		return retryAfter(resp.Header.Get("Retry-After")), true, e
	}
	return 0, false, e
}

// serverMessage extracts the message of a grpc-gateway error body
// ({"code":16,"message":"…"}; older versions also have "error"), or the
// start of a non-JSON body.
func serverMessage(body []byte) string {
	var ge struct {
		Message string `json:"message"`
		Error   string `json:"error"`
	}
	msg := ""
	if json.Unmarshal(body, &ge) == nil {
		msg = ge.Message
		if msg == "" {
			msg = ge.Error
		}
	} else {
		msg = string(body)
	}
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return msg
}

// grpcError reports whether body is argocd-server's JSON error, which has a
// numeric gRPC code.
func grpcError(body []byte) bool {
	var ge struct {
		Code *int `json:"code"`
	}
	return json.Unmarshal(body, &ge) == nil && ge.Code != nil
}

// redact removes the token from text that came from outside, in case a
// proxy or server echoes the request's headers.
func (c *Client) redact(s string) string {
	if c.token == "" {
		return s
	}
	return strings.ReplaceAll(s, c.token, "[redacted]")
}

// retryAfter reads Retry-After as seconds or an HTTP date; 0 if absent.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

// retry runs attempt with exponential backoff while it asks to retry and
// the context has time for another wait. The final error counts the
// attempts when there was more than one.
func (c *Client) retry(ctx context.Context, what string, attempt func() (time.Duration, bool, error)) error {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = c.initial
	b.MaxInterval = 10 * time.Second
	b.MaxElapsedTime = 0 // the context's deadline is the only bound
	b.Reset()
	last := ""
	var prev error
	for n := 1; ; n++ {
		after, again, err := attempt()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil && prev != nil && errors.Is(err, ctx.Err()) {
			// The deadline cut this attempt short: the previous error says
			// more about why the call failed.
			return gaveUp(n, prev)
		}
		if !again || ctx.Err() != nil {
			return gaveUp(n, err)
		}
		prev = err
		wait := max(b.NextBackOff(), after)
		if d, ok := ctx.Deadline(); ok && time.Until(d) < wait {
			return gaveUp(n, err)
		}
		if c.log != nil && err.Error() != last {
			c.log.Warn("retrying", "what", what, "server", c.hostport, "attempt", n, "wait", wait.String(), "error", err.Error())
		}
		last = err.Error()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return gaveUp(n, err)
		case <-t.C:
		}
	}
}

func gaveUp(attempts int, err error) error {
	if attempts == 1 {
		return err
	}
	return fmt.Errorf("gave up after %d attempts: %w", attempts, err)
}
