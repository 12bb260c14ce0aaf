package argocdapi_test

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syncreport/syncreport/internal/argocdapi"
)

const (
	sha   = "9c0ffee1234567890abcdef1234567890abcdef1"
	token = "test-token"
)

// reply is one canned answer of the fake argocd-server.
type reply struct {
	status int
	body   string
	header map[string]string
}

// request is what the fake server saw.
type request struct {
	method, path, query, auth, accept string
}

// fakeServer answers the two endpoints the client uses with replies in
// order, repeating the last, and records every request.
type fakeServer struct {
	*httptest.Server
	root    string // argocd-server --rootpath
	mu      sync.Mutex
	replies []reply
	seen    []request
}

func newFakeServer(t *testing.T, useTLS bool, root string, replies ...reply) *fakeServer {
	t.Helper()
	f := &fakeServer{root: root, replies: replies}
	f.Server = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	// Handshake failures are what some tests are about: keep them quiet.
	f.Config.ErrorLog = log.New(io.Discard, "", 0)
	if useTLS {
		f.StartTLS()
	} else {
		f.Start()
	}
	t.Cleanup(f.Close)
	return f
}

func (f *fakeServer) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.seen = append(f.seen, request{
		method: r.Method, path: r.URL.EscapedPath(), query: r.URL.RawQuery,
		auth: r.Header.Get("Authorization"), accept: r.Header.Get("Accept"),
	})
	rep := f.replies[0]
	if len(f.replies) > 1 {
		f.replies = f.replies[1:]
	}
	f.mu.Unlock()
	// Like grpc-gateway: unknown paths are a plain-text 404.
	if !strings.HasPrefix(r.URL.Path, f.root+"/api/v1/applications/") {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(rep.status)
	// A server that echoes the request's credentials, as some proxies do in
	// their error pages; the client must not pass them on.
	fmt.Fprint(w, strings.ReplaceAll(rep.body, "$AUTH", r.Header.Get("Authorization")))
}

func (f *fakeServer) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.seen...)
}

func (f *fakeServer) addr() string { return f.Listener.Addr().String() }

// caFile writes the TLS server's certificate, which is its own CA, as PEM.
func (f *fakeServer) caFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.crt")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.Certificate().Raw})
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func grpcErr(code int, msg string) string {
	return fmt.Sprintf(`{"error":%q,"code":%d,"message":%q}`, msg, code, msg)
}

func appJSON(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "application.json"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func newClient(t *testing.T, o argocdapi.Options) *argocdapi.Client {
	t.Helper()
	if o.Token == "" {
		o.Token = token
	}
	o.InitialInterval = 5 * time.Millisecond
	c, err := argocdapi.New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func TestGetApplication(t *testing.T) {
	app := appJSON(t)
	tests := []struct {
		name      string
		namespace string
		root      string
		replies   []reply
		wantErr   []string // substrings of the error; none: success
		notErr    string   // must not be in the error
		wantKind  error
		wantCalls int
		wantPath  string
		wantQuery string
	}{
		{
			name: "success", namespace: "argocd", replies: []reply{{200, app, nil}},
			wantCalls: 1, wantPath: "/api/v1/applications/web", wantQuery: "appNamespace=argocd",
		},
		{
			name: "no namespace: no appNamespace", replies: []reply{{200, app, nil}},
			wantCalls: 1, wantPath: "/api/v1/applications/web", wantQuery: "",
		},
		{
			name: "rootpath", namespace: "team-a", root: "/argocd", replies: []reply{{200, app, nil}},
			wantCalls: 1, wantPath: "/argocd/api/v1/applications/web", wantQuery: "appNamespace=team-a",
		},
		{
			name: "unauthorized", namespace: "argocd",
			replies:  []reply{{401, grpcErr(16, "invalid session: token is expired"), nil}},
			wantErr:  []string{"application argocd/web: ", "ARGOCD_AUTH_TOKEN rejected (401): the token is invalid or expired"},
			wantKind: argocdapi.ErrUnauthorized, wantCalls: 1,
		},
		{
			name: "forbidden", namespace: "argocd",
			replies: []reply{{403, grpcErr(7, "permission denied"), nil}},
			wantErr: []string{"permission denied (403): give the token's project role `applications, get, <project>/web, allow`",
				"`<project>/argocd/web`", "check that application argocd/web exists"},
			wantKind: argocdapi.ErrForbidden, wantCalls: 1,
		},
		{
			name: "not found", namespace: "argocd",
			replies:  []reply{{404, grpcErr(5, `applications.argoproj.io "web" not found`), nil}},
			wantErr:  []string{"application argocd/web not found on argocd-server 127.0.0.1:"},
			notErr:   "web: application",
			wantKind: argocdapi.ErrNotFound, wantCalls: 1,
		},
		{
			name: "wrong path", namespace: "argocd", root: "/argocd", // the client has no root path
			replies:  []reply{{200, app, nil}},
			wantErr:  []string{"answered 404 without an Argo CD error: is ARGOCD_SERVER argocd-server, with its --rootpath"},
			wantKind: argocdapi.ErrNotFound, wantCalls: 1,
		},
		{
			name: "bad request is final", namespace: "argocd",
			replies:  []reply{{400, grpcErr(3, "invalid application name"), nil}},
			wantErr:  []string{"answered 400 Bad Request: invalid application name"},
			wantKind: argocdapi.ErrServer, wantCalls: 1,
		},
		{
			name: "500 then success", namespace: "argocd",
			replies:   []reply{{500, grpcErr(13, "etcdserver: leader changed"), nil}, {200, app, nil}},
			wantCalls: 2, wantPath: "/api/v1/applications/web", wantQuery: "appNamespace=argocd",
		},
		{
			name: "429 then success", namespace: "argocd",
			replies:   []reply{{429, grpcErr(8, "slow down"), map[string]string{"Retry-After": "0"}}, {200, app, nil}},
			wantCalls: 2, wantPath: "/api/v1/applications/web", wantQuery: "appNamespace=argocd",
		},
		{
			name: "login page", namespace: "argocd",
			replies:   []reply{{200, "<html>Sign in</html>", map[string]string{"Content-Type": "text/html; charset=utf-8"}}},
			wantErr:   []string{"answered an HTML page, not the API's JSON"},
			wantCalls: 1,
		},
		{
			name: "200 that is no Application", namespace: "argocd",
			replies:   []reply{{200, `{"kind":"Status"}`, nil}},
			wantErr:   []string{"answered an unreadable Application", `kind "Status"`},
			wantCalls: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeServer(t, true, tt.root, tt.replies...)
			server := srv.addr()
			if tt.root != "" && tt.name == "rootpath" {
				server = "https://" + server + tt.root + "/"
			}
			c := newClient(t, argocdapi.Options{Server: server, CAFile: srv.caFile(t)})
			got, err := c.GetApplication(t.Context(), tt.namespace, "web")
			reqs := srv.requests()
			if len(reqs) != tt.wantCalls {
				t.Errorf("%d requests, want %d: %+v", len(reqs), tt.wantCalls, reqs)
			}
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("no error, want %q", tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				if tt.wantKind != nil && !errors.Is(err, tt.wantKind) {
					t.Errorf("error %q is not %v", err, tt.wantKind)
				}
				if tt.notErr != "" && strings.Contains(err.Error(), tt.notErr) {
					t.Errorf("error %q has %q", err, tt.notErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Metadata.Name != "web" || got.Spec.Project != "payments" || got.Status.Health.Status != "Degraded" ||
				got.Status.OperationState == nil || len(got.Status.OperationState.SyncResult.Resources) != 2 {
				t.Errorf("decoded %+v", got)
			}
			last := reqs[len(reqs)-1]
			want := request{method: "GET", path: tt.wantPath, query: tt.wantQuery, auth: "Bearer " + token, accept: "application/json"}
			if last != want {
				t.Errorf("request %+v, want %+v", last, want)
			}
		})
	}
}

// TestRetryBoundedByContext: a server that never recovers is retried until
// the context's deadline, and the error says so.
func TestRetryBoundedByContext(t *testing.T) {
	srv := newFakeServer(t, false, "", reply{503, grpcErr(14, "connection refused to repo-server"), nil})
	var logs bytes.Buffer
	c := newClient(t, argocdapi.Options{Server: srv.addr(), PlainText: true, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	_, err := c.GetApplication(ctx, "argocd", "web")
	if err == nil {
		t.Fatal("no error")
	}
	n := len(srv.requests())
	for _, w := range []string{"application argocd/web: gave up after", "answered 503 Service Unavailable: connection refused to repo-server"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	// The attempt the deadline cut short counts, though the server may not
	// have seen it.
	var attempts int
	if _, scanErr := fmt.Sscanf(err.Error(), "application argocd/web: gave up after %d attempts", &attempts); scanErr != nil || (attempts != n && attempts != n+1) {
		t.Errorf("error %q: want the count of attempts, %d or %d", err, n, n+1)
	}
	if n < 2 || !errors.Is(err, argocdapi.ErrServer) {
		t.Errorf("%d requests, error %v: want retries and ErrServer", n, err)
	}
	// One warning: the error did not change between retries.
	if got := strings.Count(logs.String(), "retrying"); got != 1 {
		t.Errorf("%d retry warnings, want 1:\n%s", got, logs.String())
	}
}

func TestTransport(t *testing.T) {
	app := appJSON(t)
	tlsSrv := newFakeServer(t, true, "", reply{200, app, nil})
	plainSrv := newFakeServer(t, false, "", reply{200, app, nil})
	_, port, _ := net.SplitHostPort(tlsSrv.addr())
	closed := closedAddr(t)
	// Redirects are never followed, so the token never reaches target.
	target := newFakeServer(t, false, "", reply{200, app, nil})
	defer func() {
		if n := len(target.requests()); n > 0 {
			t.Errorf("a redirect was followed: %d requests reached its target", n)
		}
	}()
	redirecting := newFakeServer(t, false, "", reply{http.StatusTemporaryRedirect, "", map[string]string{
		"Location": "https://" + target.addr() + "/api/v1/applications/web"}})
	sso := newFakeServer(t, true, "", reply{http.StatusFound, "", map[string]string{
		"Location": "http://" + target.addr() + "/login?session=s3cr3t"}})
	tests := []struct {
		name     string
		opts     argocdapi.Options
		timeout  time.Duration
		wantErr  []string
		wantKind error
	}{
		{name: "CA file", opts: argocdapi.Options{Server: tlsSrv.addr(), CAFile: tlsSrv.caFile(t)}},
		{name: "https URL with CA file", opts: argocdapi.Options{Server: "https://" + tlsSrv.addr(), CAFile: tlsSrv.caFile(t)}},
		{name: "insecure", opts: argocdapi.Options{Server: tlsSrv.addr(), Insecure: true}},
		{name: "plain text", opts: argocdapi.Options{Server: plainSrv.addr(), PlainText: true}},
		{name: "http URL with plain text", opts: argocdapi.Options{Server: "http://" + plainSrv.addr(), PlainText: true}},
		{
			name: "unknown CA", opts: argocdapi.Options{Server: tlsSrv.addr()},
			wantErr: []string{"TLS verification of 127.0.0.1 failed: x509: certificate signed by unknown authority; " +
				"set ARGOCD_CA_FILE to the server's CA, or ARGOCD_INSECURE=true"},
			wantKind: argocdapi.ErrTLS,
		},
		{
			// httptest's certificate is for 127.0.0.1 and example.com only.
			name: "name not in the certificate", opts: argocdapi.Options{Server: "localhost:" + port, CAFile: tlsSrv.caFile(t)},
			wantErr:  []string{"TLS verification of localhost failed: x509: certificate is valid for", "not localhost", "ARGOCD_INSECURE=true"},
			wantKind: argocdapi.ErrTLS,
		},
		{
			name: "TLS to a plain server", opts: argocdapi.Options{Server: plainSrv.addr(), Insecure: true},
			wantErr:  []string{"does not speak TLS", "ARGOCD_PLAINTEXT=true"},
			wantKind: argocdapi.ErrTLS,
		},
		{
			name: "plain text to a TLS server", opts: argocdapi.Options{Server: tlsSrv.addr(), PlainText: true},
			wantErr:  []string{"speaks TLS: unset ARGOCD_PLAINTEXT"},
			wantKind: argocdapi.ErrTLS,
		},
		{
			// What a real argocd-server with TLS answers on plain HTTP.
			name: "plain text to a TLS server that redirects", opts: argocdapi.Options{Server: redirecting.addr(), PlainText: true},
			wantErr:  []string{"redirects plain HTTP to https: it speaks TLS: unset ARGOCD_PLAINTEXT"},
			wantKind: argocdapi.ErrTLS,
		},
		{
			name: "redirect to a login page", opts: argocdapi.Options{Server: sso.addr(), CAFile: sso.caFile(t)},
			wantErr: []string{"answered 302 Found, a redirect to http://127.0.0.1:", "/login, not followed",
				"point ARGOCD_SERVER at argocd-server itself"},
			wantKind: argocdapi.ErrServer,
		},
		{
			name: "connection refused", opts: argocdapi.Options{Server: closed, Insecure: true}, timeout: 300 * time.Millisecond,
			wantErr:  []string{"gave up after", "argocd-server " + closed + " unreachable: dial tcp " + closed + ": connect: connection refused"},
			wantKind: argocdapi.ErrUnreachable,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, tt.opts)
			ctx := t.Context()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			app, err := c.GetApplication(ctx, "argocd", "web")
			if tt.wantErr == nil {
				if err != nil || app.Metadata.Name != "web" {
					t.Fatalf("app %v, error %v", app, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if !errors.Is(err, tt.wantKind) {
				t.Errorf("error %q is not %v", err, tt.wantKind)
			}
		})
	}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestNew(t *testing.T) {
	ca := newFakeServer(t, true, "", reply{200, "{}", nil}).caFile(t)
	notPEM := filepath.Join(t.TempDir(), "not.pem")
	os.WriteFile(notPEM, []byte("hello"), 0o600)
	tests := []struct {
		name       string
		opts       argocdapi.Options
		wantErr    string // substring; empty: valid
		wantServer string
	}{
		{name: "host", opts: argocdapi.Options{Server: "argocd.example.com", Token: token}, wantServer: "argocd.example.com:443"},
		{name: "host and port", opts: argocdapi.Options{Server: "argocd.example.com:8443", Token: token}, wantServer: "argocd.example.com:8443"},
		{name: "https URL with root path", opts: argocdapi.Options{Server: "https://example.com/argocd/", Token: token}, wantServer: "example.com:443"},
		{name: "plain text host", opts: argocdapi.Options{Server: "argocd-server.argocd", Token: token, PlainText: true}, wantServer: "argocd-server.argocd:80"},
		{name: "IPv6", opts: argocdapi.Options{Server: "[::1]:8080", Token: token}, wantServer: "[::1]:8080"},
		{name: "CA file", opts: argocdapi.Options{Server: "argocd.example.com", Token: token, CAFile: ca}, wantServer: "argocd.example.com:443"},
		{name: "no server", opts: argocdapi.Options{Token: token}, wantErr: "ARGOCD_SERVER: empty"},
		{name: "garbage server", opts: argocdapi.Options{Server: "https://", Token: token}, wantErr: "ARGOCD_SERVER="},
		{name: "http without plain text", opts: argocdapi.Options{Server: "http://argocd", Token: token}, wantErr: "set ARGOCD_PLAINTEXT=true"},
		{name: "https with plain text", opts: argocdapi.Options{Server: "https://argocd", Token: token, PlainText: true}, wantErr: "ARGOCD_PLAINTEXT=true: pick one"},
		{name: "other scheme", opts: argocdapi.Options{Server: "grpc://argocd", Token: token}, wantErr: `scheme "grpc"`},
		{name: "query", opts: argocdapi.Options{Server: "https://argocd/?x=1", Token: token}, wantErr: "no query"},
		{name: "credentials in URL", opts: argocdapi.Options{Server: "https://admin:hunter2@argocd", Token: token}, wantErr: "ARGOCD_SERVER: must not hold credentials"},
		{name: "no token", opts: argocdapi.Options{Server: "argocd"}, wantErr: "ARGOCD_AUTH_TOKEN: required"},
		{name: "token with newline", opts: argocdapi.Options{Server: "argocd", Token: "abc\ndef"}, wantErr: "ARGOCD_AUTH_TOKEN: contains whitespace"},
		{name: "insecure and CA", opts: argocdapi.Options{Server: "argocd", Token: token, Insecure: true, CAFile: ca}, wantErr: "ARGOCD_INSECURE and ARGOCD_CA_FILE"},
		{name: "plain text and insecure", opts: argocdapi.Options{Server: "argocd", Token: token, PlainText: true, Insecure: true}, wantErr: "ARGOCD_PLAINTEXT is set"},
		{name: "missing CA file", opts: argocdapi.Options{Server: "argocd", Token: token, CAFile: "/nonexistent/ca.crt"}, wantErr: "ARGOCD_CA_FILE: open /nonexistent/ca.crt: no such file"},
		{name: "CA file without PEM", opts: argocdapi.Options{Server: "argocd", Token: token, CAFile: notPEM}, wantErr: "ARGOCD_CA_FILE: " + notPEM + " holds no PEM certificate"},
		{name: "HTTP client and CA", opts: argocdapi.Options{Server: "argocd", Token: token, CAFile: ca, HTTPClient: http.DefaultClient}, wantErr: "leave Insecure and CAFile unset"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := argocdapi.New(tt.opts)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if c.Server() != tt.wantServer {
					t.Errorf("Server() = %q, want %q", c.Server(), tt.wantServer)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "abc") {
				t.Errorf("error %q shows a secret", err)
			}
		})
	}
}

func TestRevisionMetadata(t *testing.T) {
	tests := []struct {
		name      string
		replies   []reply
		want      argocdapi.RevisionMetadata
		wantEmail string
		wantSubj  string
		wantErr   string
		wantKind  error
	}{
		{
			name: "success",
			replies: []reply{{200, `{"author":"Alice Example <alice@example.com>","date":"2026-11-20T09:58:12Z",` +
				`"tags":["v1.5.0"],"message":"Raise the web replicas to 4\n\nThe load test asked for it.\n","signatureInfo":""}`, nil}},
			want: argocdapi.RevisionMetadata{
				Author: "Alice Example <alice@example.com>", Date: time.Date(2026, 11, 20, 9, 58, 12, 0, time.UTC),
				Tags: []string{"v1.5.0"}, Message: "Raise the web replicas to 4\n\nThe load test asked for it.\n",
			},
			wantEmail: "alice@example.com", wantSubj: "Raise the web replicas to 4",
		},
		{
			name:    "no date",
			replies: []reply{{200, `{"author":"bot","message":"chore: bump"}`, nil}},
			want:    argocdapi.RevisionMetadata{Author: "bot", Message: "chore: bump"}, wantSubj: "chore: bump",
		},
		{
			name:     "unknown revision",
			replies:  []reply{{404, grpcErr(5, "revision not found"), nil}},
			wantErr:  "revision 9c0ffee12345 of application argocd/web not found on argocd-server",
			wantKind: argocdapi.ErrNotFound,
		},
		{
			name:     "forbidden",
			replies:  []reply{{403, grpcErr(7, "permission denied"), nil}},
			wantErr:  "revision 9c0ffee12345 of application argocd/web: argocd-server 127.0.0.1:",
			wantKind: argocdapi.ErrForbidden,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeServer(t, true, "", tt.replies...)
			c := newClient(t, argocdapi.Options{Server: srv.addr(), CAFile: srv.caFile(t)})
			got, err := c.RevisionMetadata(t.Context(), "argocd", "web", sha)
			reqs := srv.requests()
			if len(reqs) != 1 || reqs[0].path != "/api/v1/applications/web/revisions/"+sha+"/metadata" || reqs[0].query != "appNamespace=argocd" {
				t.Errorf("requests %+v", reqs)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, tt.wantKind) {
					t.Fatalf("error %v, want %q (%v)", err, tt.wantErr, tt.wantKind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Author != tt.want.Author || !got.Date.Equal(tt.want.Date) || got.Message != tt.want.Message ||
				strings.Join(got.Tags, ",") != strings.Join(tt.want.Tags, ",") {
				t.Errorf("got %+v, want %+v", *got, tt.want)
			}
			if got.AuthorEmail() != tt.wantEmail || got.Subject() != tt.wantSubj {
				t.Errorf("AuthorEmail %q Subject %q, want %q %q", got.AuthorEmail(), got.Subject(), tt.wantEmail, tt.wantSubj)
			}
		})
	}
}

// TestTokenNeverInErrors drives every failure with a canary token, on a
// server that echoes the Authorization header into its error bodies, and
// checks errors and logs.
func TestTokenNeverInErrors(t *testing.T) {
	const canary = "canary-7f3e9a1d-do-not-leak"
	echo := grpcErr(2, "bad header: $AUTH")
	tests := []struct {
		name    string
		replies []reply
		plain   bool
		server  string
	}{
		{name: "401", replies: []reply{{401, echo, nil}}},
		{name: "403", replies: []reply{{403, echo, nil}}},
		{name: "404", replies: []reply{{404, echo, nil}}},
		{name: "400", replies: []reply{{400, echo, nil}}},
		{name: "500 then 502", replies: []reply{{500, echo, nil}, {502, "<html>$AUTH</html>", nil}}},
		{name: "unreadable 200", replies: []reply{{200, `{"metadata":` + "$AUTH", nil}}},
		{name: "TLS"},
		{name: "unreachable", server: closedAddr(t)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			replies := tt.replies
			if replies == nil {
				replies = []reply{{200, "{}", nil}}
			}
			srv := newFakeServer(t, true, "", replies...)
			o := argocdapi.Options{Server: srv.addr(), Token: canary, CAFile: srv.caFile(t)}
			switch tt.name {
			case "TLS":
				o.CAFile = ""
			case "unreachable":
				o.Server = tt.server
			}
			var logs bytes.Buffer
			o.Log = slog.New(slog.NewJSONHandler(&logs, nil))
			c := newClient(t, o)
			ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
			defer cancel()
			_, err1 := c.GetApplication(ctx, "argocd", "web")
			_, err2 := c.RevisionMetadata(ctx, "argocd", "web", sha)
			for _, err := range []error{err1, err2} {
				if err == nil {
					t.Fatal("no error")
				}
				if strings.Contains(err.Error(), canary) {
					t.Errorf("error leaks the token: %q", err)
				}
			}
			if strings.Contains(logs.String(), canary) {
				t.Errorf("log leaks the token:\n%s", logs.String())
			}
			if tt.name != "TLS" && tt.server == "" && !strings.Contains(fmt.Sprint(srv.requests()), canary) {
				t.Errorf("the token was not sent: the test proves nothing")
			}
		})
	}
}
