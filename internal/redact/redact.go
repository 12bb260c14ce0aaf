// Package redact makes URL-ish values from the configuration fit to quote in
// an error or a log line. A configuration error can end up in the pod's
// termination message, where anyone who can read pods sees it, so a value
// is never echoed whole when it may carry a credential.
package redact

import "net/url"

// Hidden replaces a value that cannot be shown at all.
const Hidden = "REDACTED"

// URL returns raw without user info, query and fragment, the parts that can
// carry a token ("https://bot:xoxp-…@proxy/api/?token=…" becomes
// "https://proxy/api/"). A value that does not parse as a URL, or parses
// without a host, is replaced whole: where its secret starts is unknown.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return Hidden
	}
	r := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	return r.String()
}
