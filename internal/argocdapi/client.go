// Package argocdapi reads an Application and its revision's commit metadata
// from the Argo CD API server (argocd-server's REST gateway, /api/v1), for a
// hook running in a destination cluster where no Application object exists.
// It speaks plain HTTP+JSON with a bearer token; the argo-cd module is never
// imported.
package argocdapi

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/syncreport/syncreport/internal/argocd"
	"github.com/syncreport/syncreport/internal/redact"
	"github.com/syncreport/syncreport/internal/safehttp"
)

// Options configure a Client. Field comments name the environment variables
// the hook reads them from.
type Options struct {
	// Server is argocd-server's address (ARGOCD_SERVER): host[:port], or
	// https://host[:port][/rootpath] when argocd-server runs with --rootpath.
	Server string
	// Token is a bearer token (ARGOCD_AUTH_TOKEN or ARGOCD_AUTH_TOKEN_FILE):
	// a project role's JWT or an account's API key. It never appears in
	// errors or logs.
	Token string
	// Insecure skips TLS verification (ARGOCD_INSECURE).
	Insecure bool
	// CAFile is a PEM file of CA certificates that replaces the system roots
	// for argocd-server's certificate (ARGOCD_CA_FILE), as kubeconfig's
	// certificate-authority does.
	CAFile string
	// PlainText talks plain http (ARGOCD_PLAINTEXT), for an argocd-server
	// run with --insecure behind no TLS, and for tests. The token then
	// crosses the network in clear, so it must be asked for explicitly.
	PlainText bool
	// HTTPClient, when set, is used as is: its transport decides TLS, so
	// Insecure and CAFile must be unset.
	HTTPClient *http.Client
	// Log receives a warning per retry whose error differs from the last.
	Log *slog.Logger
	// InitialInterval is the first retry wait (default 500ms; tests shorten
	// it). The context's deadline bounds the whole call.
	InitialInterval time.Duration
	// UserAgent is sent with every request (default "syncreport").
	UserAgent string
}

// Client reads from one argocd-server. It is safe for concurrent use.
type Client struct {
	base      *url.URL // scheme, host and optional root path; no trailing slash
	hostport  string   // host:port for messages, default port made explicit
	token     string
	hc        *http.Client
	log       *slog.Logger
	initial   time.Duration
	userAgent string
	plainText bool
}

// maxBody bounds what is read from a response: an Application with
// thousands of resources is a few MiB.
const maxBody = 32 << 20

// New validates o and returns a Client. It does no I/O other than reading
// CAFile; errors name the environment variable at fault and never hold the
// token.
func New(o Options) (*Client, error) {
	base, hostport, err := parseServer(o.Server, o.PlainText)
	if err != nil {
		return nil, err
	}
	if o.Token == "" {
		return nil, errors.New("ARGOCD_AUTH_TOKEN: required with ARGOCD_SERVER (or ARGOCD_AUTH_TOKEN_FILE)")
	}
	if strings.ContainsAny(o.Token, " \t\r\n") {
		return nil, errors.New("ARGOCD_AUTH_TOKEN: contains whitespace (value not shown: it is a secret)")
	}
	if o.PlainText && (o.Insecure || o.CAFile != "") {
		return nil, errors.New("ARGOCD_PLAINTEXT is set: ARGOCD_INSECURE and ARGOCD_CA_FILE apply to TLS only, unset them")
	}
	if o.Insecure && o.CAFile != "" {
		return nil, errors.New("ARGOCD_INSECURE and ARGOCD_CA_FILE are both set: pick one")
	}
	hc := o.HTTPClient
	switch {
	case hc != nil && (o.Insecure || o.CAFile != ""):
		return nil, errors.New("argocdapi: Options.HTTPClient decides TLS itself: leave Insecure and CAFile unset")
	case hc == nil:
		tr := http.DefaultTransport.(*http.Transport).Clone()
		// A server that accepts the connection but never answers is retried
		// rather than left to eat the whole deadline.
		tr.ResponseHeaderTimeout = 30 * time.Second
		tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: o.Insecure}
		if o.CAFile != "" {
			pool, err := loadCAFile(o.CAFile)
			if err != nil {
				return nil, err
			}
			tr.TLSClientConfig.RootCAs = pool
		}
		hc = &http.Client{Transport: tr}
	}
	// Redirects are answered, not followed: the API never redirects a GET,
	// so one means the wrong address (argocd-server's plain-HTTP port
	// redirects to https, an SSO proxy to its login page), and following it
	// would send the token where ARGOCD_SERVER does not point.
	hc = safehttp.NoRedirects(hc)
	c := &Client{
		base: base, hostport: hostport, token: o.Token, hc: hc, log: o.Log,
		initial: o.InitialInterval, userAgent: o.UserAgent, plainText: o.PlainText,
	}
	if c.initial <= 0 {
		c.initial = 500 * time.Millisecond
	}
	if c.userAgent == "" {
		c.userAgent = "syncreport"
	}
	return c, nil
}

// parseServer accepts host[:port] or http(s)://host[:port][/path] and
// returns the base URL and host:port with the scheme's default port.
func parseServer(s string, plainText bool) (*url.URL, string, error) {
	if s == "" {
		return nil, "", errors.New("ARGOCD_SERVER: empty")
	}
	raw := s
	if !strings.Contains(s, "://") {
		scheme := "https"
		if plainText {
			scheme = "http"
		}
		raw = scheme + "://" + s
	}
	// The value is quoted only without user info, query and fragment: a
	// configuration error can land in the pod's termination message.
	shown := redact.URL(raw)
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, "", fmt.Errorf("ARGOCD_SERVER=%q: want host[:port] or https://host[:port]", shown)
	}
	if u.User != nil {
		// Credentials in the URL are a secret: do not echo it.
		return nil, "", errors.New("ARGOCD_SERVER: must not hold credentials; use ARGOCD_AUTH_TOKEN (value not shown)")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, "", fmt.Errorf("ARGOCD_SERVER=%q: no query or fragment allowed (not shown: it may hold a secret)", shown)
	}
	switch {
	case u.Scheme == "http" && !plainText:
		return nil, "", fmt.Errorf("ARGOCD_SERVER=%q: plain http sends the token in clear; set ARGOCD_PLAINTEXT=true to allow it", shown)
	case u.Scheme == "https" && plainText:
		return nil, "", fmt.Errorf("ARGOCD_SERVER=%q is https but ARGOCD_PLAINTEXT=true: pick one", shown)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, "", fmt.Errorf("ARGOCD_SERVER=%q: scheme %q, want https (or http with ARGOCD_PLAINTEXT=true)", shown, u.Scheme)
	}
	hostport := u.Host
	if u.Port() == "" {
		port := "443"
		if u.Scheme == "http" {
			port = "80"
		}
		hostport = net.JoinHostPort(u.Hostname(), port)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, hostport, nil
}

func loadCAFile(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = fmt.Errorf("%s %s: %w", pe.Op, pe.Path, pe.Err)
		}
		return nil, fmt.Errorf("ARGOCD_CA_FILE: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("ARGOCD_CA_FILE: %s holds no PEM certificate", path)
	}
	return pool, nil
}

// Server returns the server's host:port, for logs.
func (c *Client) Server() string { return c.hostport }

// GetApplication reads Application namespace/name, as
// `GET /api/v1/applications/{name}?appNamespace=…` returns it: the same
// document as the custom resource, usually without kind and apiVersion.
// Transient failures are retried until ctx is done. An empty namespace
// means argocd-server's own namespace.
func (c *Client) GetApplication(ctx context.Context, namespace, name string) (*argocd.Application, error) {
	id := appID(namespace, name)
	if name == "" {
		return nil, errors.New("argocdapi: application name is empty")
	}
	var app *argocd.Application
	err := c.get(ctx, "application "+id, target{app: id}, []string{"api", "v1", "applications", name}, appQuery(namespace), func(body []byte) error {
		a, err := argocd.Decode(body)
		if err != nil {
			return fmt.Errorf("argocd-server %s answered an unreadable Application: %s", c.hostport, c.redact(err.Error()))
		}
		app = a
		return nil
	})
	if err != nil {
		return nil, about("application "+id, err)
	}
	return app, nil
}

// RevisionMetadata reads the commit metadata of one revision of the app's
// source (`GET /api/v1/applications/{name}/revisions/{revision}/metadata`).
// argocd-server asks its repo-server, which may have to fetch the repository,
// so give this call a deadline of its own: the report is useful without it.
// https://argo-cd.readthedocs.io/en/stable/developer-guide/api-docs/
func (c *Client) RevisionMetadata(ctx context.Context, namespace, name, revision string) (*RevisionMetadata, error) {
	id := appID(namespace, name)
	if name == "" || revision == "" {
		return nil, errors.New("argocdapi: application name and revision are required")
	}
	var wire struct {
		Author  string   `json:"author"`
		Date    string   `json:"date"`
		Tags    []string `json:"tags"`
		Message string   `json:"message"`
	}
	what := fmt.Sprintf("revision %s of application %s", shortRev(revision), id)
	err := c.get(ctx, what, target{app: id, revision: revision}, []string{"api", "v1", "applications", name, "revisions", revision, "metadata"}, appQuery(namespace), func(body []byte) error {
		if err := json.Unmarshal(body, &wire); err != nil {
			return fmt.Errorf("argocd-server %s answered unreadable revision metadata: %s", c.hostport, c.redact(err.Error()))
		}
		return nil
	})
	if err != nil {
		return nil, about(what, err)
	}
	m := &RevisionMetadata{Author: wire.Author, Message: wire.Message, Tags: wire.Tags}
	if wire.Date != "" {
		// A date that does not parse is left zero: the metadata is an
		// embellishment, not worth failing for.
		m.Date, _ = time.Parse(time.RFC3339, wire.Date)
	}
	return m, nil
}

// about prefixes err with what it is about, unless it starts with it.
func about(what string, err error) error {
	if strings.HasPrefix(err.Error(), what+" ") {
		return err
	}
	return fmt.Errorf("%s: %w", what, err)
}

func appID(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}

func appQuery(namespace string) url.Values {
	q := url.Values{}
	if namespace != "" {
		q.Set("appNamespace", namespace)
	}
	return q
}

func shortRev(r string) string {
	if len(r) > 12 && !strings.ContainsAny(r, "./") {
		return r[:12]
	}
	return r
}

// target is what a request is about, for the messages of 403 and 404.
type target struct {
	app, revision string
}

// get sends GET base/segments?query with retries and hands a 200 body to
// decode. what names the call in retry logs.
func (c *Client) get(ctx context.Context, what string, t target, segments []string, query url.Values, decode func([]byte) error) error {
	u := *c.base
	raw := c.base.EscapedPath()
	for _, s := range segments {
		u.Path += "/" + s
		raw += "/" + url.PathEscape(s)
	}
	u.RawPath = raw
	u.RawQuery = query.Encode()
	return c.retry(ctx, what, func() (retryAfter time.Duration, retry bool, err error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return 0, false, err
		}
		req.Header.Set("Authorization", "Bearer "+c.token)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", c.userAgent)
		resp, err := c.hc.Do(req)
		if err != nil {
			retry, err := c.classifyTransport(err)
			return 0, retry, err
		}
		defer drain(resp.Body)
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
		if err != nil {
			// The connection broke mid-body: as transient as a refused one.
			return 0, true, &Error{Kind: ErrUnreachable, msg: fmt.Sprintf("argocd-server %s unreachable: reading the response: %v", c.hostport, c.redact(err.Error())), cause: err}
		}
		if len(body) > maxBody {
			return 0, false, fmt.Errorf("argocd-server %s answered more than %d MiB", c.hostport, maxBody>>20)
		}
		if resp.StatusCode == http.StatusOK {
			if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				return 0, false, fmt.Errorf("argocd-server %s answered an HTML page, not the API's JSON: "+
					"is ARGOCD_SERVER a login proxy or the UI's address? point it at argocd-server itself", c.hostport)
			}
			return 0, false, decode(body)
		}
		return c.classifyStatus(resp, body, t)
	})
}

func drain(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	body.Close()
}
