// Package forgetest is a GitHub and GitLab API server for tests: the
// commit status endpoints (and GitHub's deployments) with the providers'
// documented answers — their status codes, error bodies and rate-limit
// headers — and faults to inject. It binds 127.0.0.1 and stops with the test.
//
// GitHub (base URL GitHubURL):
//
//	POST /repos/{owner}/{repo}/statuses/{sha}                201 Status
//	GET  /repos/{owner}/{repo}/deployments?sha=&environment=  200 [Deployment]
//	POST /repos/{owner}/{repo}/deployments                   201 Deployment
//	POST /repos/{owner}/{repo}/deployments/{id}/statuses     201 DeploymentStatus
//
// errors as {"message","documentation_url"} (+ "errors" on 422): 401 "Bad
// credentials", 403 "Resource not accessible by personal access token",
// 404 "Not Found" for a repository the token cannot see, 422 "No commit
// found for SHA", 422 "Validation Failed" for a description over 140
// characters; rate limits as 403 with x-ratelimit-remaining: 0 and
// x-ratelimit-reset, or 403/429 with retry-after (secondary limits).
// https://docs.github.com/rest/commits/statuses
// https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api
//
// GitLab (base URL GitLabURL, …/api/v4):
//
//	POST /projects/{url-encoded path}/statuses/{sha}   201 CommitStatus
//
// errors as {"message"} or {"error"}: 401 "401 Unauthorized", 403 "403
// Forbidden", 404 "404 Project Not Found" / "404 Commit Not Found", 400
// "state does not have a valid value", 400 {"message":{"name":[…]}} past
// 255 characters, 400 "Cannot transition status via :run from :running"
// when a status is set again in the state it has; rate limits as 429 with
// Retry-After and RateLimit-Limit/-Remaining/-Reset.
// https://docs.gitlab.com/api/commits/#set-the-pipeline-status-of-a-commit
// https://docs.gitlab.com/administration/settings/user_and_ip_rate_limits/
package forgetest

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// Options configure a Server.
type Options struct {
	// GitHubToken and GitLabToken are the tokens accepted (Bearer /
	// PRIVATE-TOKEN). ReadOnly tokens authenticate but may not write (403).
	GitHubToken, GitLabToken       string
	ReadOnlyGitHub, ReadOnlyGitLab string
	// Listener, when set, is served instead of a new 127.0.0.1 one (an
	// end-to-end test's namespace).
	Listener net.Listener
}

// Status is one commit status the server took.
type Status struct {
	Provider    string // "github" or "gitlab"
	Repo        string // owner/name or group/…/name
	SHA         string
	State       string
	Context     string // GitHub context, GitLab name
	Description string
	TargetURL   string
}

// Deployment is one GitHub deployment and its statuses.
type Deployment struct {
	ID          int64
	Repo, SHA   string
	Environment string
	Statuses    []Status // State, Description, TargetURL (log_url)
}

// Fault is an answer served instead of the real one, for the next request.
type Fault struct {
	Status int
	Header map[string]string
	Body   string
	// Hang holds the request until the client gives up.
	Hang bool
	// Drop closes the connection without an answer.
	Drop bool
}

// Server is the test forge.
type Server struct {
	srv  *httptest.Server
	opts Options

	mu          sync.Mutex
	repos       map[string]map[string]bool // provider/path → known SHAs
	statuses    []Status
	deployments []*Deployment
	faults      []Fault
	requests    int
	lastState   map[string]string // gitlab: repo@sha/name → state
}

// Start serves until the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	s := &Server{opts: o, repos: map[string]map[string]bool{}, lastState: map[string]string{}}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	if o.Listener != nil {
		s.srv.Listener = o.Listener
	}
	s.srv.Start()
	t.Cleanup(s.srv.Close)
	return s
}

// GitHubURL is the GitHub API base URL (as https://api.github.com).
func (s *Server) GitHubURL() string { return s.srv.URL + "/github" }

// GitLabURL is the GitLab API base URL (as https://gitlab.com/api/v4).
func (s *Server) GitLabURL() string { return s.srv.URL + "/gitlab/api/v4" }

// AddRepo makes a repository with commits exist on provider ("github" or "gitlab").
func (s *Server) AddRepo(provider, path string, shas ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := provider + "/" + strings.ToLower(path)
	if s.repos[k] == nil {
		s.repos[k] = map[string]bool{}
	}
	for _, sha := range shas {
		s.repos[k][sha] = true
	}
}

// Fail queues faults, served in order to the next requests.
func (s *Server) Fail(f ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f...)
}

// Statuses returns the commit statuses taken so far.
func (s *Server) Statuses() []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Status(nil), s.statuses...)
}

// Deployments returns GitHub's deployments so far.
func (s *Server) Deployments() []Deployment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Deployment
	for _, d := range s.deployments {
		c := *d
		c.Statuses = append([]Status(nil), d.Statuses...)
		out = append(out, c)
	}
	return out
}

// Requests counts the requests served, faults included.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// PrimaryRateLimit is GitHub's answer when the hourly quota is used up:
// 403, x-ratelimit-remaining 0, reset at the given time.
func PrimaryRateLimit(reset time.Time) Fault {
	return Fault{Status: http.StatusForbidden, Header: map[string]string{
		"X-Ratelimit-Limit": "5000", "X-Ratelimit-Remaining": "0", "X-Ratelimit-Used": "5000",
		"X-Ratelimit-Reset": strconv.FormatInt(reset.Unix(), 10), "X-Ratelimit-Resource": "core",
	}, Body: `{"message":"API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}`}
}

// SecondaryRateLimit is GitHub's secondary limit: status (403 or 429) with
// retry-after seconds (0: no header).
func SecondaryRateLimit(status, retryAfter int) Fault {
	f := Fault{Status: status, Header: map[string]string{}, Body: `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.","documentation_url":"https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`}
	if retryAfter > 0 {
		f.Header["Retry-After"] = strconv.Itoa(retryAfter)
	}
	return f
}

// GitLabRateLimit is GitLab's 429 with Retry-After seconds and RateLimit-* headers.
func GitLabRateLimit(retryAfter int, now time.Time) Fault {
	reset := now.Add(time.Duration(retryAfter) * time.Second)
	return Fault{Status: http.StatusTooManyRequests, Header: map[string]string{
		"Retry-After": strconv.Itoa(retryAfter), "RateLimit-Name": "throttle_authenticated_api",
		"RateLimit-Limit": "60", "RateLimit-Observed": "61", "RateLimit-Remaining": "0",
		"RateLimit-Reset": strconv.FormatInt(reset.Unix(), 10), "RateLimit-ResetTime": reset.UTC().Format(http.TimeFormat),
	}, Body: "Retry later\n"}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	var f *Fault
	if len(s.faults) > 0 {
		f = &s.faults[0]
		s.faults = s.faults[1:]
	}
	s.mu.Unlock()
	if f != nil {
		serveFault(w, r, *f)
		return
	}
	switch {
	case strings.HasPrefix(r.URL.Path, "/github/"):
		s.github(w, r, strings.TrimPrefix(r.URL.EscapedPath(), "/github"))
	case strings.HasPrefix(r.URL.Path, "/gitlab/api/v4/"):
		s.gitlab(w, r, strings.TrimPrefix(r.URL.EscapedPath(), "/gitlab/api/v4"))
	default:
		http.NotFound(w, r)
	}
}

func serveFault(w http.ResponseWriter, r *http.Request, f Fault) {
	switch {
	case f.Hang:
		<-r.Context().Done()
		return
	case f.Drop:
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				_ = c.Close()
				return
			}
		}
	}
	for k, v := range f.Header {
		w.Header().Set(k, v)
	}
	if strings.HasPrefix(f.Body, "{") {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	w.WriteHeader(f.Status)
	_, _ = io.WriteString(w, f.Body)
}

const ghDocs = "https://docs.github.com/rest/commits/statuses#create-a-commit-status"

func ghError(w http.ResponseWriter, status int, msg string, errs ...map[string]string) {
	body := map[string]any{"message": msg, "documentation_url": ghDocs, "status": strconv.Itoa(status)}
	if len(errs) > 0 {
		body["errors"] = errs
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) github(w http.ResponseWriter, r *http.Request, path string) {
	w.Header().Set("X-Ratelimit-Limit", "5000")
	w.Header().Set("X-Ratelimit-Remaining", "4999")
	w.Header().Set("X-Ratelimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
	w.Header().Set("X-Ratelimit-Resource", "core")
	auth := r.Header.Get("Authorization")
	tok, _ := strings.CutPrefix(auth, "Bearer ")
	if tok == "" || (tok != s.opts.GitHubToken && tok != s.opts.ReadOnlyGitHub) {
		ghError(w, http.StatusUnauthorized, "Bad credentials")
		return
	}
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(parts) < 4 || parts[0] != "repos" {
		ghError(w, http.StatusNotFound, "Not Found")
		return
	}
	repo := strings.ToLower(parts[1] + "/" + parts[2])
	s.mu.Lock()
	shas, known := s.repos["github/"+repo]
	s.mu.Unlock()
	if !known {
		// GitHub hides a repository the token cannot see behind a 404.
		ghError(w, http.StatusNotFound, "Not Found")
		return
	}
	if r.Method == http.MethodPost && tok == s.opts.ReadOnlyGitHub {
		ghError(w, http.StatusForbidden, "Resource not accessible by personal access token")
		return
	}
	var body map[string]any
	if r.Method == http.MethodPost {
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &body); err != nil {
			ghError(w, http.StatusBadRequest, "Problems parsing JSON")
			return
		}
	}
	str := func(k string) string { v, _ := body[k].(string); return v }
	switch {
	case len(parts) == 5 && parts[3] == "statuses" && r.Method == http.MethodPost:
		sha := parts[4]
		if !shas[sha] {
			ghError(w, http.StatusUnprocessableEntity, "No commit found for SHA: "+sha)
			return
		}
		st := Status{Provider: "github", Repo: repo, SHA: sha, State: str("state"), Context: str("context"),
			Description: str("description"), TargetURL: str("target_url")}
		if st.Context == "" {
			st.Context = "default"
		}
		switch st.State {
		case "error", "failure", "pending", "success":
		default:
			ghError(w, http.StatusUnprocessableEntity, "Validation Failed",
				map[string]string{"resource": "Status", "field": "state", "code": "custom", "message": "state is not included in the list"})
			return
		}
		if utf8.RuneCountInString(st.Description) > 140 {
			ghError(w, http.StatusUnprocessableEntity, "Validation Failed",
				map[string]string{"resource": "Status", "field": "description", "code": "custom", "message": "description is too long (maximum is 140 characters)"})
			return
		}
		s.mu.Lock()
		s.statuses = append(s.statuses, st)
		id := len(s.statuses)
		s.mu.Unlock()
		writeJSON(w, http.StatusCreated, map[string]any{"id": id, "state": st.State, "context": st.Context,
			"description": st.Description, "target_url": st.TargetURL,
			"url": fmt.Sprintf("%s/repos/%s/statuses/%s", s.GitHubURL(), repo, sha)})
	case len(parts) == 4 && parts[3] == "deployments" && r.Method == http.MethodGet:
		q := r.URL.Query()
		out := []map[string]any{}
		s.mu.Lock()
		for i := len(s.deployments) - 1; i >= 0; i-- { // newest first
			d := s.deployments[i]
			if d.Repo == repo && (q.Get("sha") == "" || q.Get("sha") == d.SHA) && (q.Get("environment") == "" || q.Get("environment") == d.Environment) {
				out = append(out, map[string]any{"id": d.ID, "sha": d.SHA, "environment": d.Environment})
			}
		}
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, out)
	case len(parts) == 4 && parts[3] == "deployments" && r.Method == http.MethodPost:
		sha := str("ref")
		if !shas[sha] {
			ghError(w, http.StatusUnprocessableEntity, "No ref found for: "+sha)
			return
		}
		if utf8.RuneCountInString(str("description")) > 140 {
			ghError(w, http.StatusUnprocessableEntity, "Validation Failed",
				map[string]string{"resource": "Deployment", "field": "description", "code": "custom", "message": "description is too long (maximum is 140 characters)"})
			return
		}
		env := str("environment")
		if env == "" {
			env = "production"
		}
		s.mu.Lock()
		d := &Deployment{ID: int64(len(s.deployments) + 1), Repo: repo, SHA: sha, Environment: env}
		s.deployments = append(s.deployments, d)
		s.mu.Unlock()
		writeJSON(w, http.StatusCreated, map[string]any{"id": d.ID, "sha": sha, "ref": sha, "environment": env})
	case len(parts) == 6 && parts[3] == "deployments" && parts[5] == "statuses" && r.Method == http.MethodPost:
		id, _ := strconv.ParseInt(parts[4], 10, 64)
		s.mu.Lock()
		var d *Deployment
		for _, x := range s.deployments {
			if x.ID == id && x.Repo == repo {
				d = x
			}
		}
		s.mu.Unlock()
		if d == nil {
			ghError(w, http.StatusNotFound, "Not Found")
			return
		}
		switch str("state") {
		case "error", "failure", "inactive", "in_progress", "queued", "pending", "success":
		default:
			ghError(w, http.StatusUnprocessableEntity, "Validation Failed",
				map[string]string{"resource": "DeploymentStatus", "field": "state", "code": "invalid"})
			return
		}
		if utf8.RuneCountInString(str("description")) > 140 {
			ghError(w, http.StatusUnprocessableEntity, "Validation Failed",
				map[string]string{"resource": "DeploymentStatus", "field": "description", "code": "custom", "message": "description is too long (maximum is 140 characters)"})
			return
		}
		s.mu.Lock()
		d.Statuses = append(d.Statuses, Status{Provider: "github", Repo: repo, SHA: d.SHA, State: str("state"),
			Description: str("description"), TargetURL: str("log_url"), Context: d.Environment})
		s.mu.Unlock()
		writeJSON(w, http.StatusCreated, map[string]any{"id": len(d.Statuses), "state": str("state")})
	default:
		ghError(w, http.StatusNotFound, "Not Found")
	}
}

func (s *Server) gitlab(w http.ResponseWriter, r *http.Request, path string) {
	w.Header().Set("RateLimit-Limit", "2000")
	w.Header().Set("RateLimit-Remaining", "1999")
	tok := r.Header.Get("PRIVATE-TOKEN")
	if tok == "" {
		tok, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	if tok == "" || (tok != s.opts.GitLabToken && tok != s.opts.ReadOnlyGitLab) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "401 Unauthorized"})
		return
	}
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(parts) != 4 || parts[0] != "projects" || parts[2] != "statuses" || r.Method != http.MethodPost {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "404 Not Found"})
		return
	}
	project, err := url.PathUnescape(parts[1])
	if err != nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "404 Project Not Found"})
		return
	}
	project = strings.ToLower(project)
	s.mu.Lock()
	shas, known := s.repos["gitlab/"+project]
	s.mu.Unlock()
	if !known {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "404 Project Not Found"})
		return
	}
	if tok == s.opts.ReadOnlyGitLab {
		writeJSON(w, http.StatusForbidden, map[string]string{"message": "403 Forbidden"})
		return
	}
	sha := parts[3]
	if !shas[sha] {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "404 Commit Not Found"})
		return
	}
	var body map[string]any
	b, _ := io.ReadAll(r.Body)
	if json.Unmarshal(b, &body) != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "The provided content-type '' is not supported."})
		return
	}
	str := func(k string) string { v, _ := body[k].(string); return v }
	st := Status{Provider: "gitlab", Repo: project, SHA: sha, State: str("state"), Context: str("name"),
		Description: str("description"), TargetURL: str("target_url")}
	if st.Context == "" {
		st.Context = str("context")
	}
	if st.Context == "" {
		st.Context = "default"
	}
	switch st.State {
	case "pending", "running", "success", "failed", "canceled", "skipped":
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "state does not have a valid value"})
		return
	}
	for field, v := range map[string]string{"name": st.Context, "target_url": st.TargetURL, "description": st.Description} {
		if utf8.RuneCountInString(v) > 255 {
			writeJSON(w, http.StatusBadRequest, map[string]any{"message": map[string][]string{field: {"is too long (maximum is 255 characters)"}}})
			return
		}
	}
	key := project + "@" + sha + "/" + st.Context
	s.mu.Lock()
	prev := s.lastState[key]
	if prev == st.State && (prev == "running" || prev == "pending") {
		s.mu.Unlock()
		event := map[string]string{"running": "run", "pending": "enqueue"}[prev]
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": fmt.Sprintf("Cannot transition status via :%s from :%s (Reason(s): Status cannot transition via \"%s\")", event, prev, event)})
		return
	}
	s.lastState[key] = st.State
	s.statuses = append(s.statuses, st)
	id := len(s.statuses)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"id": id, "sha": sha, "status": st.State, "name": st.Context,
		"description": st.Description, "target_url": st.TargetURL, "allow_failure": false})
}
