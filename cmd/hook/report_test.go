package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/syncreport/syncreport/internal/argocd"
	"github.com/syncreport/syncreport/internal/report"
)

func fixture(t *testing.T, name string) *argocd.Application {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "internal", "report", "testdata", "apps", name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	app, err := argocd.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return app
}

// TestAwaitFinal: a PostSync hook re-reads the app until its sibling hook
// ends; it gives up within half of its deadline, and only hooks wait.
func TestAwaitFinal(t *testing.T) {
	self := &argocd.Ref{Group: "batch", Kind: "Job", Namespace: "web", Name: "syncreport-postsync"}
	siblingEnds := func(after int, phase string) (func(context.Context) (*argocd.Application, error), *int) {
		reads := 0
		return func(context.Context) (*argocd.Application, error) {
			reads++
			a := fixture(t, "postsync-sibling-running")
			if reads >= after {
				a.Status.OperationState.SyncResult.Resources[3].HookPhase = phase
			}
			return a, nil
		}, &reads
	}
	log := slog.New(slog.DiscardHandler)
	for _, tt := range []struct {
		name     string
		selfHook string
		after    int
		phase    string
		want     report.Verdict
	}{
		{"sibling succeeds", report.HookPostSync, 2, "Succeeded", report.Succeeded},
		{"sibling fails", report.HookPostSync, 2, "Failed", report.Failed},
		{"sibling outlasts the wait", report.HookPostSync, 1000, "Succeeded", report.Progressing},
		{"not a hook: no wait", "", 1, "Succeeded", report.Progressing},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
			defer cancel()
			get, reads := siblingEnds(tt.after, tt.phase)
			o := report.Options{Self: self, SelfHook: tt.selfHook}
			start := time.Now()
			app := awaitFinal(ctx, fixture(t, "postsync-sibling-running"), o, get, log)
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("waited %s; want at most half of the 4s deadline", d)
			}
			if tt.selfHook == "" && *reads != 0 {
				t.Errorf("%d re-reads; an on-demand report does not wait", *reads)
			}
			if got := report.Build(app, o).Verdict; got != tt.want {
				t.Errorf("verdict %s; want %s", got, tt.want)
			}
		})
	}
}

// TestNotifies: a hook's unsettled outcome is posted when successes are;
// so is one of a run that could not read its own Job (it may be a hook).
func TestNotifies(t *testing.T) {
	def := []string{"succeeded", "failed", "degraded"}
	job := &argocd.Ref{Group: "batch", Kind: "Job", Namespace: "web", Name: "report-now"}
	for _, tt := range []struct {
		verdicts []string
		verdict  report.Verdict
		self     *argocd.Ref
		selfHook string
		want     bool
	}{
		{def, report.Succeeded, job, "", true},
		{def, report.Progressing, job, "", false}, // the CronJob's Job
		{def, report.Unknown, job, "", false},
		{def, report.Progressing, job, "PostSync", true},
		{def, report.Unknown, job, "PostSync", true},
		{def, report.Progressing, nil, "", true}, // own Job unreadable
		{[]string{"failed"}, report.Progressing, job, "PostSync", false},
		{[]string{"failed"}, report.Progressing, nil, "", false},
		{[]string{"failed"}, report.Succeeded, job, "PostSync", false},
	} {
		target := argocd.Target{Self: tt.self, SelfHook: tt.selfHook}
		if got := notifies(tt.verdicts, report.Report{Verdict: tt.verdict}, target); got != tt.want {
			t.Errorf("NOTIFY_ON=%v verdict %s self %v hook %q: %v; want %v", tt.verdicts, tt.verdict, tt.self, tt.selfHook, got, tt.want)
		}
	}
}
