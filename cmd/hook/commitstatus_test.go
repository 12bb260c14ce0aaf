//go:build unix

package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/syncreport/syncreport/internal/argocd"
	"github.com/syncreport/syncreport/internal/config"
	"github.com/syncreport/syncreport/internal/forgetest"
	"github.com/syncreport/syncreport/internal/notify"
	"github.com/syncreport/syncreport/internal/recipients"
	"github.com/syncreport/syncreport/internal/report"
	"github.com/syncreport/syncreport/internal/slacktest"
)

const (
	shaWeb    = "0123456789abcdef0123456789abcdef01234567"
	shaConfig = "89abcdef0123456789abcdef0123456789abcdef"
	ghCanary  = "ghp_CANARY0123456789abcdef"
	glCanary  = "glpat-CANARY0123456789"
)

// TestCommitStatusDestination: a multi-source app's failed report sets a
// failure with the cause on each Git source's own commit (GitHub and
// GitLab), skips the Helm chart and the unresolved branch, next to Slack;
// a commit status refused (bad token) fails that destination only.
func TestCommitStatusDestination(t *testing.T) {
	for _, tt := range []struct {
		name, ghToken string
		wantErr       string
	}{
		{"both providers", ghCanary, ""},
		{"github refuses the token", "ghp_wrong", "commit-status"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := slacktest.Start(t)
			forge := forgetest.Start(t, forgetest.Options{GitHubToken: ghCanary, GitLabToken: glCanary})
			forge.AddRepo("github", "acme/web", shaWeb)
			forge.AddRepo("gitlab", "platform/web-config", shaConfig)
			cfg := &config.Config{
				Notifier: "auto", SlackToken: slacktest.DefaultToken, SlackAPIURL: s.URL(), SlackChannel: "#deploys",
				SlackAttemptTimeout:     time.Second,
				CommitStatusGitHubToken: tt.ghToken, CommitStatusGitHubHosts: "github.com=" + forge.GitHubURL(),
				CommitStatusGitLabToken: glCanary, CommitStatusGitLabHosts: "gitlab.example.com=" + forge.GitLabURL(),
			}
			r := report.Report{Verdict: report.Failed, Summary: "web sync failed", App: report.AppRef{Namespace: "argocd", Name: "web"},
				URL:        "https://argocd.example.com/applications/argocd/web?operation=true",
				Recipients: []recipients.Recipient{{Kind: recipients.Channel, Value: "#deploys"}},
				Failures: []report.Failure{{Kind: "Deployment", Namespace: "web", Name: "web", Message: "progress deadline exceeded",
					Cause: "pod web-1: container \"app\" CrashLoopBackOff, exit code 1: panic: DATABASE_URL not set"}},
				SourceRevisions: []argocd.SourceRevision{
					{RepoURL: "https://github.com/acme/web.git", Revision: shaWeb},
					{RepoURL: "https://charts.example.com", Revision: "1.2.3", Chart: true},
					{RepoURL: "git@gitlab.example.com:platform/web-config.git", Revision: shaConfig},
					{RepoURL: "https://github.com/acme/other.git", Revision: "main"},
				}}
			var logs bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			err := deliver(ctx, cfg, &r, io.Discard, slog.New(slog.NewJSONHandler(&logs, nil)))
			if (err != nil) != (tt.wantErr != "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("deliver: %v, want %q\n%s", err, tt.wantErr, logs.String())
			}
			if strings.Contains(logs.String()+errText(err), "CANARY") {
				t.Fatalf("a token leaked:\n%s", logs.String())
			}
			if n := len(s.Posts()); n != 1 {
				t.Errorf("%d Slack posts, want 1\n%s", n, logs.String())
			}
			want := map[string]string{"gitlab": "failed"}
			if tt.wantErr == "" {
				want["github"] = "failure"
			}
			got := forge.Statuses()
			if len(got) != len(want) {
				t.Fatalf("statuses %+v, want %v", got, want)
			}
			for _, st := range got {
				if want[st.Provider] != st.State || st.Context != "syncreport/web" || st.TargetURL != r.URL ||
					!strings.HasPrefix(st.Description, "sync failed: Deployment web/web: pod web-1: container \"app\" CrashLoopBackOff") {
					t.Errorf("status %+v", st)
				}
				if (st.Provider == "github" && st.SHA != shaWeb) || (st.Provider == "gitlab" && st.SHA != shaConfig) {
					t.Errorf("status on the wrong commit: %+v", st)
				}
			}
			if !strings.Contains(logs.String(), "without a resolved commit") {
				t.Errorf("the branch revision was skipped without a word:\n%s", logs.String())
			}
		})
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestCommitState(t *testing.T) {
	for _, tc := range []struct {
		v     report.Verdict
		retry bool
		want  notify.State
	}{
		{report.Succeeded, false, notify.Success},
		{report.Failed, false, notify.Failure},
		{report.Degraded, false, notify.Failure},
		{report.Failed, true, notify.Pending}, // Argo CD will retry: not over yet
		{report.Progressing, false, notify.Pending},
		{report.Unknown, false, notify.Pending},
	} {
		if got := commitState(report.Report{Verdict: tc.v, WillRetry: tc.retry}); got != tc.want {
			t.Errorf("%s (will retry %v) → %s, want %s", tc.v, tc.retry, got, tc.want)
		}
	}
}

func TestCommitStatusDestinationConfigured(t *testing.T) {
	for _, tt := range []struct {
		c    config.Config
		want string
	}{
		{config.Config{Notifier: "auto", CommitStatusGitHubToken: "x"}, "commit-status"},
		{config.Config{Notifier: "auto", SlackToken: "x", CommitStatusGitLabToken: "x"}, "slack,commit-status"},
	} {
		if got := strings.Join(tt.c.Destinations(), ","); got != tt.want {
			t.Errorf("%+v: %s, want %s", tt.c, got, tt.want)
		}
	}
}

// TestGatePending: while the gate watches, each Git source's commit shows
// pending (GitHub) / running (GitLab) with the Argo CD link.
func TestGatePending(t *testing.T) {
	forge := forgetest.Start(t, forgetest.Options{GitHubToken: ghCanary, GitLabToken: glCanary})
	forge.AddRepo("github", "acme/web", shaWeb)
	forge.AddRepo("gitlab", "platform/web-config", shaConfig)
	cfg := &config.Config{Timeout: 10 * time.Second, SlackAttemptTimeout: time.Second, ArgoCDURL: "https://argocd.example.com",
		CommitStatusGitHubToken: ghCanary, CommitStatusGitHubHosts: "github.com=" + forge.GitHubURL(),
		CommitStatusGitLabToken: glCanary, CommitStatusGitLabHosts: "gitlab.example.com=" + forge.GitLabURL()}
	app := &argocd.Application{Metadata: argocd.Metadata{Name: "web", Namespace: "argocd"},
		Spec: argocd.Spec{Sources: []argocd.Source{{RepoURL: "https://github.com/acme/web.git"}, {RepoURL: "https://gitlab.example.com/platform/web-config.git"}}},
		Status: argocd.Status{OperationState: &argocd.OperationState{Phase: "Running",
			SyncResult: &argocd.SyncResult{Revisions: []string{shaWeb, shaConfig}}}}}
	var logs bytes.Buffer
	wait := gatePending(context.Background(), cfg, func(context.Context) (*argocd.Application, error) { return app, nil },
		slog.New(slog.NewJSONHandler(&logs, nil)))
	wait()
	got := map[string]string{}
	for _, st := range forge.Statuses() {
		got[st.Provider] = st.State
		if st.TargetURL != "https://argocd.example.com/applications/argocd/web?operation=true" || st.Context != "syncreport/web" {
			t.Errorf("status %+v", st)
		}
	}
	if got["github"] != "pending" || got["gitlab"] != "running" || len(got) != 2 {
		t.Fatalf("statuses %v, want github pending and gitlab running\n%s", got, logs.String())
	}
}

// TestMutedReportStillSetsCommitStatus: NOTIFY_ON or RETRY_NOTIFY mute the
// messages, never the commit status. Otherwise NOTIFY_ON=failed,degraded
// (the docs' own annotation example) leaves the gate's "pending" on every
// healthy deploy for good, and a healthy re-sync of a commit whose first
// sync failed leaves its "failure".
func TestMutedReportStillSetsCommitStatus(t *testing.T) {
	for _, tt := range []struct {
		name, notifyOn string
		r              report.Report
		onDemand       bool
		want           string // "": no status
	}{
		{"NOTIFY_ON without succeeded", "failed,degraded",
			report.Report{Verdict: report.Succeeded, Summary: "web synced and healthy"}, false, "success"},
		{"RETRY_NOTIFY=first mutes a middle attempt", "succeeded,failed,degraded",
			report.Report{Verdict: report.Failed, Summary: "web sync failed", Attempt: 2, MaxAttempts: 6, WillRetry: true}, false, "pending"},
		// Not the sync's own report: its muted "progressing" must not
		// overwrite the hook's final state.
		{"a muted on-demand run sets none", "succeeded,failed,degraded",
			report.Report{Verdict: report.Progressing, Summary: "web is progressing"}, true, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := slacktest.Start(t)
			forge := forgetest.Start(t, forgetest.Options{GitHubToken: ghCanary})
			forge.AddRepo("github", "acme/web", shaWeb)
			cfg := &config.Config{
				Notifier: "auto", SlackToken: slacktest.DefaultToken, SlackAPIURL: s.URL(), SlackChannel: "#deploys",
				NotifyOn: tt.notifyOn, RetryNotify: "first", SlackAttemptTimeout: time.Second,
				CommitStatusGitHubToken: ghCanary, CommitStatusGitHubHosts: "github.com=" + forge.GitHubURL(),
			}
			r := tt.r
			r.App = report.AppRef{Namespace: "argocd", Name: "web"}
			r.Recipients = []recipients.Recipient{{Kind: recipients.Channel, Value: "#deploys"}}
			r.SourceRevisions = []argocd.SourceRevision{{RepoURL: "https://github.com/acme/web.git", Revision: shaWeb}}
			var logs bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			target := argocd.Target{Namespace: "argocd", Name: "web", SelfHook: "PostSync"}
			if tt.onDemand {
				target = argocd.Target{Namespace: "argocd", Name: "web", Self: &argocd.Ref{Kind: "Job", Namespace: "web", Name: "report-now"}}
			}
			if err := post(ctx, cfg, &r, target, io.Discard, slog.New(slog.NewJSONHandler(&logs, nil))); err != nil {
				t.Fatalf("post: %v\n%s", err, logs.String())
			}
			if n := len(s.Posts()); n != 0 {
				t.Errorf("%d Slack posts of a muted report, want 0", n)
			}
			got := forge.Statuses()
			if tt.want == "" {
				if len(got) != 0 {
					t.Fatalf("statuses %+v, want none", got)
				}
				return
			}
			if len(got) != 1 || got[0].State != tt.want || got[0].SHA != shaWeb || got[0].Context != "syncreport/web" {
				t.Fatalf("statuses %+v, want one %s on %s\n%s", got, tt.want, shaWeb, logs.String())
			}
		})
	}
}
