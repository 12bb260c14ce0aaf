package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/syncreport/syncreport/internal/argocd"
	"github.com/syncreport/syncreport/internal/config"
	"github.com/syncreport/syncreport/internal/notify"
	"github.com/syncreport/syncreport/internal/report"
)

// commitStatusSender sets the report's verdict as a commit status on each
// Git source's deployed commit (GitHub and GitLab).
func commitStatusSender(cfg *config.Config, r report.Report, log *slog.Logger) (func(context.Context) error, error) {
	f, err := newForges(cfg)
	if err != nil {
		return nil, err
	}
	st := notify.CommitStatus{
		State:       commitState(r),
		Context:     "syncreport/" + r.App.Name,
		Description: report.StatusLine(r),
		TargetURL:   r.URL,
		Environment: r.App.Name,
	}
	targets := commitTargets(r.SourceRevisions, log)
	retrier := notify.Retrier{AttemptTimeout: cfg.SlackAttemptTimeout}
	return func(ctx context.Context) error {
		return notify.DeliverCommitStatuses(ctx, retrier, f, targets, st, log)
	}, nil
}

func newForges(cfg *config.Config) (*notify.Forges, error) {
	hosts, err := cfg.ForgeHosts()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", notify.CommitStatusName, err)
	}
	f, err := notify.NewForges(hosts, cfg.ForgeTokens(), cfg.CommitStatusGitHubDeploy, &http.Client{Transport: http.DefaultTransport})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", notify.CommitStatusName, err)
	}
	return f, nil
}

// commitState maps the verdict: failed and degraded are failures; an
// outcome still open (progressing, one the hook could not settle, or a
// failed attempt Argo CD will retry) is pending, never a success or a
// failure it has not seen. The description says which.
func commitState(r report.Report) notify.State {
	switch r.Verdict {
	case report.Succeeded:
		return notify.Success
	case report.Failed, report.Degraded:
		if r.WillRetry {
			return notify.Pending
		}
		return notify.Failure
	}
	return notify.Pending
}

// commitTargets keeps the Git sources whose revision is a commit SHA, each
// (repo, commit) once: a Helm chart has no commit, and a branch or tag
// (an operation that failed before resolving it) may have moved since.
func commitTargets(srcs []argocd.SourceRevision, log *slog.Logger) []notify.CommitTarget {
	var out []notify.CommitTarget
	seen := map[notify.CommitTarget]bool{}
	for _, s := range srcs {
		repo := notify.RepoForLog(s.RepoURL)
		switch {
		case s.Chart:
			log.Debug("commit status: skipping a Helm chart source", "repo", repo)
			continue
		case !notify.IsCommitSHA(s.Revision):
			log.Info("commit status: skipping a source without a resolved commit", "repo", repo,
				"revision", notify.StatusText(s.Revision, 64))
			continue
		}
		t := notify.CommitTarget{RepoURL: s.RepoURL, SHA: s.Revision}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// gatePending sets "pending" commit statuses while the gate watches the
// rollout, in the background, within HOOK_TIMEOUT; the returned func waits
// for it. A failure is logged, never the gate's: the gate judges the
// rollout, not the Git provider.
func gatePending(ctx context.Context, cfg *config.Config, get func(context.Context) (*argocd.Application, error), log *slog.Logger) (wait func()) {
	if cfg.CommitStatusGitHubToken == "" && cfg.CommitStatusGitLabToken == "" {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if p := recover(); p != nil {
				log.Error("commit status: internal error", "destination", notify.CommitStatusName, "panic", fmt.Sprint(p))
			}
		}()
		ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
		f, err := newForges(cfg)
		if err != nil {
			log.Error("commit status not set", "destination", notify.CommitStatusName, "error", err.Error())
			return
		}
		app, err := get(ctx)
		if err != nil {
			log.Warn("commit status: cannot read the application for a pending status", "destination", notify.CommitStatusName, "error", err.Error())
			return
		}
		r := report.Build(app, report.Options{ArgoCDURL: cfg.ArgoCDURL})
		st := notify.CommitStatus{State: notify.Pending, Context: "syncreport/" + r.App.Name,
			Description: "rollout in progress: the gate is watching it", TargetURL: r.URL, Environment: r.App.Name}
		retrier := notify.Retrier{AttemptTimeout: cfg.SlackAttemptTimeout}
		if err := notify.DeliverCommitStatuses(ctx, retrier, f, commitTargets(r.SourceRevisions, log), st, log); err != nil {
			log.Warn("commit status: pending not set on every commit", "destination", notify.CommitStatusName, "error", err.Error())
		}
	}()
	return func() { <-done }
}
