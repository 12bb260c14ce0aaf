package notify

import (
	"net/url"
	"strings"

	"github.com/syncreport/syncreport/internal/redact"
)

// RedactWebhookURL returns an incoming-webhook URL fit for logs and errors.
// The path of a webhook URL is its credential, so it is replaced, as are any
// user info, query and fragment; scheme and host are kept to tell which
// service was meant ("https://hooks.slack.com/services/REDACTED").
func RedactWebhookURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "REDACTED"
	}
	r := url.URL{Scheme: u.Scheme, Host: u.Host}
	switch {
	case strings.HasPrefix(u.Path, "/services/"):
		r.Path = "/services/REDACTED"
	case u.Path != "" && u.Path != "/":
		r.Path = "/REDACTED"
	}
	return r.String()
}

// RedactAPIURL returns a Web API URL fit for logs and errors: the URL itself
// is not secret, but user info, query and fragment could carry a token.
func RedactAPIURL(raw string) string { return redact.URL(raw) }
