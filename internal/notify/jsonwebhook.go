package notify

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/textproto"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/syncreport/syncreport/internal/safehttp"
)

// JSONWebhookName is the destination name of the signed JSON webhook in
// logs and errors ("webhook" is Slack's incoming webhook).
const JSONWebhookName = "json-webhook"

// Headers of a JSON webhook post. The signature covers the timestamp and
// the body: "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)),
// so a receiver that rejects old timestamps cannot be fed a replay.
// docs/delivery.md shows how to verify it.
const (
	SignatureHeader = "X-Syncreport-Signature"
	TimestampHeader = "X-Syncreport-Timestamp"
	// DeliveryHeader is the same on every attempt of one delivery, so a
	// receiver can drop a retry of a post it already took.
	DeliveryHeader = "X-Syncreport-Delivery"
)

// JSONWebhook posts the report's JSON (exactly `hook render --format json`)
// to a URL, signed with a shared secret. The URL, the secret and the extra
// headers are credentials: they never appear in errors or logs.
type JSONWebhook struct {
	url      string
	redacted string
	secret   []byte
	header   http.Header
	secrets  []string
	hc       *http.Client
	now      func() time.Time
}

// NewJSONWebhook returns a JSONWebhook posting to rawURL (https, or http to a
// loopback address only), signing with secret, adding header (may be nil).
// Redirects are never followed.
func NewJSONWebhook(rawURL, secret string, header http.Header, hc *http.Client) (*JSONWebhook, error) {
	if strings.ContainsAny(rawURL, " \t\r\n") {
		return nil, errors.New("json webhook URL contains whitespace (a trailing newline in the secret?)")
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("json webhook URL %s is not an http(s) URL", RedactWebhookURL(rawURL))
	}
	if !safehttp.PlainHTTPAllowed(u) {
		return nil, fmt.Errorf("json webhook URL %s: plain http would send it in clear; use https (http only to a loopback address)", RedactWebhookURL(rawURL))
	}
	if secret == "" {
		return nil, errors.New("json webhook secret is empty")
	}
	secrets := []string{rawURL, secret}
	if u.Path != "" && u.Path != "/" {
		secrets = append(secrets, u.Path)
		if last := path.Base(u.Path); len(last) >= 8 {
			secrets = append(secrets, last)
		}
	}
	if u.RawQuery != "" {
		secrets = append(secrets, u.RawQuery)
	}
	for _, vs := range header {
		for _, v := range vs {
			if len(v) >= 4 {
				secrets = append(secrets, v)
			}
		}
	}
	return &JSONWebhook{url: rawURL, redacted: RedactWebhookURL(rawURL), secret: []byte(secret), header: header,
		secrets: secrets, hc: safehttp.NoRedirects(hc), now: time.Now}, nil
}

// Name is the destination name.
func (w *JSONWebhook) Name() string { return JSONWebhookName }

// NewDeliveryID returns a random ID for DeliveryHeader.
func NewDeliveryID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

// Sign returns the signature header value for body sent at timestamp ts.
func Sign(secret []byte, ts string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Post makes one attempt to post body. retry reports whether another
// attempt may succeed (429, 5xx, no answer); the error is an *HTTPError.
func (w *JSONWebhook) Post(ctx context.Context, deliveryID string, body []byte) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return false, &HTTPError{Name: JSONWebhookName, URL: w.redacted, err: errors.New("cannot build the request")}
	}
	for k, vs := range w.header {
		req.Header[k] = vs
	}
	ts := strconv.FormatInt(w.now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "syncreport")
	req.Header.Set(TimestampHeader, ts)
	req.Header.Set(SignatureHeader, Sign(w.secret, ts, body))
	req.Header.Set(DeliveryHeader, deliveryID)
	return classifyHTTP(JSONWebhookName, w.redacted, exchange(w.hc, req, w.redacted, w.secrets...))
}

// HTTPError is one failed post to a plain HTTP receiver, classified.
type HTTPError struct {
	// Name is the destination, e.g. "json-webhook".
	Name string
	// URL is the redacted URL (scheme and host).
	URL string
	// Status is the HTTP status, 0 when no answer arrived.
	Status int
	// Temporary reports whether another attempt may succeed.
	Temporary bool
	// RetryAfter is how long the receiver asked us to wait, 0 if it did not say.
	RetryAfter time.Duration

	detail string
	err    error
}

// Error names the destination and redacted URL, then the status and the
// start of the answer, or the transport error.
func (e *HTTPError) Error() string {
	s := e.Name + " " + e.URL + ": "
	if e.err != nil {
		return s + e.err.Error()
	}
	s += fmt.Sprintf("HTTP %d %s", e.Status, http.StatusText(e.Status))
	if e.detail != "" {
		s += " (" + e.detail + ")"
	}
	return s
}

// Unwrap returns the transport error.
func (e *HTTPError) Unwrap() error { return e.err }

// classifyHTTP: 2xx success; 408, 429 and 5xx transient (Retry-After
// honoured); redirects are refused, never followed (the post would take the
// signature and headers elsewhere); other 4xx permanent.
func classifyHTTP(name, redacted string, o outcome) (bool, error) {
	e := &HTTPError{Name: name, URL: redacted, Status: o.status}
	if o.err != nil {
		e.err = o.err
		e.Temporary = transientTransport(o.err)
		return e.Temporary, e
	}
	if o.status >= 200 && o.status <= 299 {
		return false, nil
	}
	e.detail = snippet(o.body)
	if strings.EqualFold(e.detail, http.StatusText(o.status)) {
		e.detail = ""
	}
	switch {
	case o.status >= 300 && o.status <= 399:
		e.detail = "a redirect, not followed (it would take the signed report and headers along)"
		if loc := o.header.Get("Location"); loc != "" {
			e.detail = "a redirect to " + RedactWebhookURL(loc) + ", not followed (it would take the signed report and headers along)"
		}
	case o.status == http.StatusTooManyRequests, o.status == http.StatusRequestTimeout, o.status >= 500:
		e.Temporary = true
		e.RetryAfter = retryAfter(o.header, time.Now())
	}
	return e.Temporary, e
}

// ParseHeaders reads extra headers, one "Name: value" a line; blank lines
// and lines starting with # are skipped. Headers the hook sets itself
// (content type, signature, timestamp, delivery, host, length) cannot be
// replaced. Errors name the line number, never the value: it is a secret.
func ParseHeaders(data string) (http.Header, error) {
	h := http.Header{}
	sc := bufio.NewScanner(strings.NewReader(data))
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" || !validHeaderName(name) {
			return nil, fmt.Errorf("line %d: want \"Name: value\" with a header name of letters, digits and -", n)
		}
		for _, c := range value {
			if c < 0x20 && c != '\t' || c == 0x7f {
				return nil, fmt.Errorf("line %d: header %s: the value has a control character", n, name)
			}
		}
		switch textproto.CanonicalMIMEHeaderKey(name) {
		case "Content-Type", "Content-Length", "Host", "Transfer-Encoding",
			SignatureHeader, TimestampHeader, DeliveryHeader:
			return nil, fmt.Errorf("line %d: header %s is set by the hook", n, name)
		}
		h.Add(name, value)
	}
	return h, sc.Err()
}

func validHeaderName(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// DeliverJSONWebhook posts body under r (one delivery ID for every
// attempt) and returns the attempts made.
func DeliverJSONWebhook(ctx context.Context, r Retrier, w *JSONWebhook, body []byte, log *slog.Logger) (int, error) {
	id := NewDeliveryID()
	return r.Do(ctx, JSONWebhookName, func(ctx context.Context) (bool, error) { return w.Post(ctx, id, body) }, log)
}
