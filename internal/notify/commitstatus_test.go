package notify_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/syncreport/syncreport/internal/forgetest"
	"github.com/syncreport/syncreport/internal/notify"
)

const (
	ghToken = "ghp_CANARYgithubtoken0123456789"
	glToken = "glpat-CANARYgitlabtoken0123"
	shaA    = "0123456789abcdef0123456789abcdef01234567"
	shaB    = "89abcdef0123456789abcdef0123456789abcdef"
)

func TestParseRepoURL(t *testing.T) {
	for _, tc := range []struct{ in, host, path string }{
		{"https://github.com/acme/web.git", "github.com", "acme/web"},
		{"https://github.com/acme/web", "github.com", "acme/web"},
		{"https://user:tok@GitHub.com/acme/web/", "github.com", "acme/web"},
		{"git@github.com:acme/web.git", "github.com", "acme/web"},
		{"ssh://git@gitlab.example.com:2222/group/sub/web.git", "gitlab.example.com:2222", "group/sub/web"},
		{"git://127.0.0.1:9418/acme/web.git", "127.0.0.1:9418", "acme/web"},
	} {
		r, err := notify.ParseRepoURL(tc.in)
		if err != nil || r.Host != tc.host || r.Path != tc.path {
			t.Errorf("ParseRepoURL(%q) = %+v, %v; want %s %s", tc.in, r, err, tc.host, tc.path)
		}
	}
	for _, bad := range []string{"", "/local/path", "https://github.com/", "https://github.com/acme/we%3Fb",
		"https://github.com/acme/../x", "oci://ghcr.io/acme/chart", "https://github.com/acme/web%0A", "https://github.com/acme/w b"} {
		if r, err := notify.ParseRepoURL(bad); err == nil {
			t.Errorf("ParseRepoURL(%q) = %+v, want an error", bad, r)
		}
	}
}

func TestStatusText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"plain", 140, "plain"},
		{"a\nb\r\nc\td", 140, "a b c d"},
		{"\x1b[2Jfake \u202egnp.exe", 140, "[2Jfake gnp.exe"},
		{"bad \xff\xfe utf8", 140, "bad \uFFFD utf8"},
		{"\u0085next\u2028line", 140, "next line"},
		{strings.Repeat("é", 200), 140, strings.Repeat("é", 139) + "…"},
		{"<!channel> @here", 140, "<!channel> @here"}, // plain text at the providers: shown as is
	} {
		got := notify.StatusText(tc.in, tc.max)
		if got != tc.want {
			t.Errorf("StatusText(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if !utf8.ValidString(got) || utf8.RuneCountInString(got) > tc.max {
			t.Errorf("StatusText(%q) = %q: invalid or longer than %d characters", tc.in, got, tc.max)
		}
	}
}

// fixture is a forge with one GitHub and one GitLab repository.
func fixture(t *testing.T, deployments bool) (*forgetest.Server, *notify.Forges) {
	t.Helper()
	s := forgetest.Start(t, forgetest.Options{GitHubToken: ghToken, GitLabToken: glToken,
		ReadOnlyGitHub: "ghp_readonly", ReadOnlyGitLab: "glpat-readonly"})
	s.AddRepo("github", "acme/web", shaA)
	s.AddRepo("gitlab", "platform/config/web", shaB)
	f, err := notify.NewForges([]notify.ForgeHost{
		{Host: "github.com", Provider: notify.GitHub, APIURL: s.GitHubURL()},
		{Host: "gitlab.example.com", Provider: notify.GitLab, APIURL: s.GitLabURL()},
	}, map[notify.Provider]string{notify.GitHub: ghToken, notify.GitLab: glToken}, deployments, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s, f
}

var fastForge = notify.Retrier{InitialInterval: 10 * time.Millisecond, MaxInterval: 50 * time.Millisecond, AttemptTimeout: 2 * time.Second}

func deadline(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

var both = []notify.CommitTarget{
	{RepoURL: "https://github.com/acme/web.git", SHA: shaA},
	{RepoURL: "git@gitlab.example.com:platform/config/web.git", SHA: shaB},
}

func TestCommitStatusesOnBothProviders(t *testing.T) {
	s, f := fixture(t, true)
	link := "https://argocd.example.com/applications/argocd/web?operation=true"
	for _, st := range []notify.State{notify.Pending, notify.Pending, notify.Failure} {
		err := notify.DeliverCommitStatuses(deadline(t, 10*time.Second), fastForge, f, both, notify.CommitStatus{
			State: st, Context: "syncreport/web", Description: "sync failed: Deployment web/web: CrashLoopBackOff",
			TargetURL: link, Environment: "web"}, nil)
		if err != nil {
			t.Fatalf("%s: %v", st, err)
		}
	}
	got := s.Statuses()
	var gh, gl []forgetest.Status
	for _, x := range got {
		if x.Provider == "github" {
			gh = append(gh, x)
		} else {
			gl = append(gl, x)
		}
	}
	// GitHub takes every status; GitLab refuses "running" twice with 400
	// "Cannot transition status", which is the state we wanted: done.
	if len(gh) != 3 || gh[0].State != "pending" || gh[2].State != "failure" {
		t.Fatalf("GitHub statuses %+v", gh)
	}
	if len(gl) != 2 || gl[0].State != "running" || gl[1].State != "failed" {
		t.Fatalf("GitLab statuses %+v", gl)
	}
	for _, x := range got {
		if x.Context != "syncreport/web" || x.TargetURL != link || !strings.Contains(x.Description, "CrashLoopBackOff") {
			t.Errorf("status %+v", x)
		}
	}
	if gh[0].Repo != "acme/web" || gh[0].SHA != shaA || gl[0].Repo != "platform/config/web" || gl[0].SHA != shaB {
		t.Errorf("statuses on the wrong commits: %+v %+v", gh[0], gl[0])
	}
	deps := s.Deployments()
	if len(deps) != 1 || deps[0].Environment != "web" || deps[0].SHA != shaA || len(deps[0].Statuses) != 3 ||
		deps[0].Statuses[0].State != "in_progress" || deps[0].Statuses[2].State != "failure" || deps[0].Statuses[2].TargetURL != link {
		t.Errorf("want one deployment of web with in_progress, in_progress, failure; got %+v", deps)
	}
}

func TestCommitStatusDescriptionHostile(t *testing.T) {
	s, f := fixture(t, false)
	hostile := "\x1b]8;;https://evil.example\x07click\x1b]8;;\x07 \u202eoverride\nsecond line \xff " + strings.Repeat("ü", 300)
	err := notify.DeliverCommitStatuses(deadline(t, 10*time.Second), fastForge, f, both,
		notify.CommitStatus{State: notify.Failure, Context: "syncreport/web\n\x1b[31m", Description: hostile}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range s.Statuses() {
		limit := map[string]int{"github": notify.GitHubDescriptionMax, "gitlab": notify.GitLabFieldMax}[x.Provider]
		if n := utf8.RuneCountInString(x.Description); n != limit {
			t.Errorf("%s description has %d characters, want the limit %d (cut in characters, not bytes)", x.Provider, n, limit)
		}
		for _, s := range []string{x.Description, x.Context} {
			if !utf8.ValidString(s) || strings.ContainsAny(s, "\x1b\x07\n\r\u202e") {
				t.Errorf("%s: %q keeps a control character or invalid UTF-8", x.Provider, s)
			}
		}
		if x.Context != "syncreport/web [31m" {
			t.Errorf("context %q", x.Context)
		}
	}
}

// TestCommitStatusFaults is the fault matrix of one destination: each
// class of answer and whether it is retried.
func TestCommitStatusFaults(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name      string
		target    notify.CommitTarget
		faults    []forgetest.Fault
		token     string // replaces the GitHub token
		permanent bool
		want      string // in the error; "" for success
		attempts  int    // requests the server saw
	}{
		{name: "github primary rate limit, reset soon", target: both[0],
			faults: []forgetest.Fault{forgetest.PrimaryRateLimit(now.Add(time.Second))}, attempts: 2},
		{name: "github secondary 403 retry-after", target: both[0],
			faults: []forgetest.Fault{forgetest.SecondaryRateLimit(403, 1)}, attempts: 2},
		{name: "github secondary 429 retry-after", target: both[0],
			faults: []forgetest.Fault{forgetest.SecondaryRateLimit(429, 1)}, attempts: 2},
		{name: "gitlab 429 Retry-After", target: both[1],
			faults: []forgetest.Fault{forgetest.GitLabRateLimit(1, now)}, attempts: 2},
		{name: "5xx", target: both[0],
			faults: []forgetest.Fault{{Status: 502, Body: "<html>bad gateway</html>"}, {Status: 503}}, attempts: 3},
		{name: "connection dropped", target: both[1], faults: []forgetest.Fault{{Drop: true}}, attempts: 2},
		{name: "github rate limit past the deadline", target: both[0],
			faults: []forgetest.Fault{forgetest.PrimaryRateLimit(now.Add(time.Hour))}, want: "asked to retry after", attempts: 1},
		{name: "bad credentials", target: both[0], token: "ghp_wrong", permanent: true, want: "HTTP 401", attempts: 1},
		{name: "token without write", target: both[0], token: "ghp_readonly", permanent: true, want: "Resource not accessible", attempts: 1},
		{name: "gitlab forbidden", target: both[1], faults: []forgetest.Fault{{Status: 403, Body: `{"message":"403 Forbidden"}`}},
			permanent: true, want: "may not set statuses", attempts: 1},
		{name: "unknown repository", target: notify.CommitTarget{RepoURL: "https://github.com/acme/nope", SHA: shaA},
			permanent: true, want: "no such repository", attempts: 1},
		{name: "unknown commit", target: notify.CommitTarget{RepoURL: "https://github.com/acme/web", SHA: shaB},
			permanent: true, want: "No commit found for SHA", attempts: 1},
		{name: "gitlab unknown commit", target: notify.CommitTarget{RepoURL: "https://gitlab.example.com/platform/config/web", SHA: shaA},
			permanent: true, want: "404 Commit Not Found", attempts: 1},
		{name: "gitlab validation", target: both[1], faults: []forgetest.Fault{{Status: 400, Body: `{"message":{"name":["is too long (maximum is 255 characters)"]}}`}},
			permanent: true, want: "name is too long", attempts: 1},
		{name: "redirect refused", target: both[0], faults: []forgetest.Fault{{Status: 301, Header: map[string]string{"Location": "https://elsewhere.example/x?token=1"}}},
			permanent: true, want: "not followed", attempts: 1},
		{name: "token echoed in an answer", target: both[0], faults: []forgetest.Fault{{Status: 422, Body: `{"message":"bad token ` + ghToken + `"}`}},
			permanent: true, want: "bad token REDACTED", attempts: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, f := fixture(t, false)
			if tc.token != "" {
				var err error
				f, err = notify.NewForges([]notify.ForgeHost{{Host: "github.com", Provider: notify.GitHub, APIURL: s.GitHubURL()}},
					map[notify.Provider]string{notify.GitHub: tc.token}, false, nil)
				if err != nil {
					t.Fatal(err)
				}
			}
			s.Fail(tc.faults...)
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			err := notify.DeliverCommitStatuses(deadline(t, 8*time.Second), fastForge, f, []notify.CommitTarget{tc.target},
				notify.CommitStatus{State: notify.Success, Context: "syncreport/web", Description: "synced and healthy"}, log)
			if got := s.Requests(); got != tc.attempts {
				t.Errorf("%d requests, want %d", got, tc.attempts)
			}
			if strings.Contains(logs.String()+errString(err), ghToken) || strings.Contains(logs.String()+errString(err), glToken) {
				t.Fatalf("a token leaked:\n%v\n%s", err, logs.String())
			}
			if tc.want == "" {
				if err != nil {
					t.Fatalf("want success, got %v", err)
				}
				if len(s.Statuses()) != 1 {
					t.Fatalf("statuses %+v", s.Statuses())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to say %q", err, tc.want)
			}
			var de *notify.DeliveryError
			if !errors.As(err, &de) || de.Permanent != tc.permanent {
				t.Errorf("permanent = %v, want %v (%v)", de != nil && de.Permanent, tc.permanent, err)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestCommitStatusOneRepoFailingDoesNotBlockAnother: a hung GitHub and a
// missing repository leave the GitLab status set.
func TestCommitStatusOneRepoFailingDoesNotBlockAnother(t *testing.T) {
	s, f := fixture(t, false)
	targets := append([]notify.CommitTarget{{RepoURL: "https://github.com/acme/nope", SHA: shaA}}, both[1])
	err := notify.DeliverCommitStatuses(deadline(t, 10*time.Second), fastForge, f, targets,
		notify.CommitStatus{State: notify.Failure, Context: "syncreport/web", Description: "x"}, nil)
	if err == nil || !strings.Contains(err.Error(), "acme/nope") {
		t.Fatalf("want the missing repo's error, got %v", err)
	}
	if st := s.Statuses(); len(st) != 1 || st[0].Provider != "gitlab" || st[0].State != "failed" {
		t.Fatalf("statuses %+v", st)
	}
}

func TestCommitStatusSkipsUnknownHosts(t *testing.T) {
	s, f := fixture(t, false)
	var logs bytes.Buffer
	err := notify.DeliverCommitStatuses(deadline(t, 5*time.Second), fastForge, f, []notify.CommitTarget{
		{RepoURL: "https://bitbucket.org/acme/web.git", SHA: shaA},
		{RepoURL: "https://github.com/acme/web.git", SHA: shaA},
		{RepoURL: "git@github.com:acme/web.git", SHA: shaA}, // the same commit again
		{RepoURL: "https://github.com/group/sub/web.git", SHA: shaA},
	}, notify.CommitStatus{State: notify.Success, Context: "syncreport/web"}, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(s.Statuses()); n != 1 {
		t.Fatalf("%d statuses, want 1", n)
	}
	for _, want := range []string{"bitbucket.org", "owner/name"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs do not say why %s was skipped:\n%s", want, logs.String())
		}
	}
}

func TestNewForgesRefusesPlainHTTP(t *testing.T) {
	_, err := notify.NewForges([]notify.ForgeHost{{Host: "github.com", Provider: notify.GitHub, APIURL: "http://api.github.com"}},
		map[notify.Provider]string{notify.GitHub: ghToken}, false, &http.Client{})
	if err == nil || strings.Contains(err.Error(), ghToken) {
		t.Fatalf("want an error without the token, got %v", err)
	}
}
