// Package safehttp holds the two rules every client that sends a credential
// (the Slack bot token and webhook URL, the Argo CD token) follows: never
// follow a redirect, and never talk plain http except where it was asked for.
package safehttp

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// NoRedirects returns a copy of hc (a plain client when nil) that answers a
// redirect instead of following it. Go's client keeps the Authorization
// header on a redirect to the same host, https→http included, and a POST
// body can be replayed on 307/308: following would send the credential where
// the configuration does not point. The caller sees the 3xx and says so.
func NoRedirects(hc *http.Client) *http.Client {
	var c http.Client
	if hc != nil {
		c = *hc
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// PlainHTTPAllowed reports whether u may be talked to without TLS: only an
// http URL whose host is a loopback address (localhost, 127.0.0.0/8, ::1),
// where nothing crosses a network: the tests' httptest servers, a local
// proxy sidecar. https URLs are always allowed.
func PlainHTTPAllowed(u *url.URL) bool {
	if u.Scheme != "http" {
		return true
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
