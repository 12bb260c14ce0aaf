package report

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/syncreport/syncreport/internal/argocd"
)

var testNow = time.Date(2026, 11, 20, 10, 1, 30, 0, time.UTC)

func loadApp(t testing.TB, name string) *argocd.Application {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "apps", name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	app, err := argocd.Decode(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return app
}

func TestBuildVerdict(t *testing.T) {
	tests := []struct {
		app         string
		self        *argocd.Ref
		verdict     Verdict
		hook        string
		attempt     int64
		maxAttempts int64
		willRetry   bool
		failures    []string // FailureTitle of each, in order
	}{
		{app: "postsync-healthy", verdict: Succeeded, hook: HookPostSync, attempt: 1, maxAttempts: 1},
		{app: "syncfail-degraded", verdict: Failed, hook: HookSyncFail, attempt: 1, maxAttempts: 1,
			failures: []string{"Deployment web/web"}},
		{app: "presync-failed", verdict: Failed, hook: HookSyncFail, attempt: 1, maxAttempts: 1,
			failures: []string{"Job api/db-migrate (PreSync hook)"}},
		{app: "first-attempt", verdict: Failed, hook: HookSyncFail, attempt: 1, maxAttempts: 6, willRetry: true,
			failures: []string{"ConfigMap web/web-config"}},
		{app: "retrying", verdict: Failed, hook: HookSyncFail, attempt: 3, maxAttempts: 6, willRetry: true,
			failures: []string{"ConfigMap web/web-config"}},
		// On the last attempt the operation is already Failed while the SyncFail hook runs.
		{app: "final-attempt", verdict: Failed, hook: HookSyncFail, attempt: 6, maxAttempts: 6,
			failures: []string{"ConfigMap web/web-config"}},
		// Sync succeeded without waiting for health: sync success is not health.
		{app: "succeeded-degraded", verdict: Degraded, attempt: 1, maxAttempts: 1,
			failures: []string{"Deployment shop/frontend"}},
		{app: "progressing", verdict: Progressing, attempt: 1, maxAttempts: 1},
		// A terminated operation is not retried even with retries left.
		{app: "terminated", verdict: Failed, attempt: 1, maxAttempts: 4,
			failures: []string{"Application argocd/web"}},
		// Between two attempts (back-off) the attempt that failed is retryCount,
		// and Argo CD will still retry: attempt 2 of 3, not "no retries left".
		{app: "retry-backoff", verdict: Failed, attempt: 2, maxAttempts: 3, willRetry: true,
			failures: []string{"ConfigMap web/web-config"}},
		// A sibling PostSync hook (smoke test) still runs: no success yet.
		{app: "postsync-sibling-running", verdict: Progressing, hook: HookPostSync, attempt: 1, maxAttempts: 1},
		// Degraded health during PostSync: a success would hide it.
		{app: "postsync-degraded", verdict: Degraded, hook: HookPostSync, attempt: 1, maxAttempts: 1,
			failures: []string{"Deployment web/worker"}},
		// No operation: there is no sync to judge, whatever the health.
		{app: "never-synced", verdict: Unknown},
		// The own Job's entry decides the hook type even when it is not Running.
		{app: "postsync-healthy", self: &argocd.Ref{Group: "batch", Kind: "Job", Namespace: "web", Name: "syncreport-postsync"},
			verdict: Succeeded, hook: HookPostSync, attempt: 1, maxAttempts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.app, func(t *testing.T) {
			r := Build(loadApp(t, tt.app), Options{Self: tt.self, Now: testNow})
			if r.Verdict != tt.verdict || r.Hook != tt.hook {
				t.Errorf("verdict, hook = %s, %q; want %s, %q", r.Verdict, r.Hook, tt.verdict, tt.hook)
			}
			if r.Attempt != tt.attempt || r.MaxAttempts != tt.maxAttempts || r.WillRetry != tt.willRetry {
				t.Errorf("attempt %d of %d willRetry=%v; want %d of %d willRetry=%v",
					r.Attempt, r.MaxAttempts, r.WillRetry, tt.attempt, tt.maxAttempts, tt.willRetry)
			}
			var got []string
			for _, f := range r.Failures {
				got = append(got, FailureTitle(f))
				if f.Message == "" {
					t.Errorf("failure %s lost its message", FailureTitle(f))
				}
			}
			if len(got) != len(tt.failures) {
				t.Fatalf("failures = %q; want %q", got, tt.failures)
			}
			for i := range got {
				if got[i] != tt.failures[i] {
					t.Errorf("failure %d = %q; want %q", i, got[i], tt.failures[i])
				}
			}
		})
	}
}

// TestOwnHookEntryIsNotAFailure: a SyncFail hook that itself failed on an
// earlier run must not be reported by the same hook as a cause.
func TestOwnHookEntryIsNotAFailure(t *testing.T) {
	app := loadApp(t, "syncfail-degraded")
	rs := app.Status.OperationState.SyncResult.Resources
	rs[len(rs)-1].HookPhase = "Failed"
	self := &argocd.Ref{Group: "batch", Kind: "Job", Namespace: "web", Name: "syncreport-syncfail"}
	r := Build(app, Options{Self: self, Now: testNow})
	if len(r.Failures) != 1 || r.Failures[0].Name != "web" {
		t.Fatalf("failures = %+v; want only the Deployment", r.Failures)
	}
	if r.Hook != HookSyncFail || r.Verdict != Failed {
		t.Fatalf("hook %q verdict %s; want SyncFail failed", r.Hook, r.Verdict)
	}
}

func TestRetryLimit(t *testing.T) {
	five, zero, inf := int64(5), int64(0), int64(-1)
	tests := []struct {
		name     string
		opRetry  *argocd.RetryStrategy
		appRetry *argocd.RetryStrategy
		count    int64
		max      int64
		retry    bool
	}{
		{"no retry anywhere", nil, nil, 0, 1, false},
		{"limit 0 stored as {}", &argocd.RetryStrategy{}, &argocd.RetryStrategy{Limit: &five}, 0, 1, false},
		{"explicit zero", &argocd.RetryStrategy{Limit: &zero}, nil, 0, 1, false},
		{"auto-sync default 5, first", &argocd.RetryStrategy{Limit: &five}, nil, 0, 6, true},
		{"auto-sync default 5, fifth retry", &argocd.RetryStrategy{Limit: &five}, nil, 5, 6, false},
		{"app policy when operation has none", nil, &argocd.RetryStrategy{Limit: &five}, 4, 6, true},
		{"unlimited", &argocd.RetryStrategy{Limit: &inf}, nil, 40, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := loadApp(t, "syncfail-degraded")
			app.Status.OperationState.Operation.Retry = tt.opRetry
			app.Spec.SyncPolicy = &argocd.SyncPolicy{Retry: tt.appRetry}
			app.Status.OperationState.RetryCount = tt.count
			r := Build(app, Options{Now: testNow})
			if r.MaxAttempts != tt.max || r.WillRetry != tt.retry || r.Attempt != tt.count+1 {
				t.Errorf("attempt %d of %d willRetry=%v; want %d of %d willRetry=%v",
					r.Attempt, r.MaxAttempts, r.WillRetry, tt.count+1, tt.max, tt.retry)
			}
		})
	}
}

func TestShouldNotify(t *testing.T) {
	tests := []struct {
		name      string
		verdict   Verdict
		attempt   int64
		willRetry bool
		want      map[string]bool // policy → post?
	}{
		{"success always posts", Succeeded, 3, false, map[string]bool{"first": true, "final": true, "all": true}},
		{"first failed attempt", Failed, 1, true, map[string]bool{"first": true, "final": false, "all": true}},
		{"middle attempt", Failed, 3, true, map[string]bool{"first": false, "final": false, "all": true}},
		{"final attempt", Failed, 6, false, map[string]bool{"first": true, "final": true, "all": true}},
		{"no retries configured", Failed, 1, false, map[string]bool{"first": true, "final": true, "all": true}},
	}
	for _, tt := range tests {
		for policy, want := range tt.want {
			t.Run(tt.name+"/"+policy, func(t *testing.T) {
				r := Report{Verdict: tt.verdict, Attempt: tt.attempt, WillRetry: tt.willRetry}
				if got := ShouldNotify(r, policy); got != want {
					t.Errorf("ShouldNotify = %v; want %v", got, want)
				}
			})
		}
	}
}

// TestNoOperation: an app never synced has no sync to judge, whatever its
// health (a never-synced app is Missing, which used to read "Degraded").
func TestNoOperation(t *testing.T) {
	for _, health := range []string{"Healthy", "Degraded", "Missing", "Progressing", "Unknown", ""} {
		app := &argocd.Application{Metadata: argocd.Metadata{Name: "x", Namespace: "argocd"}}
		app.Status.Health.Status = health
		r := Build(app, Options{Now: testNow})
		if r.Verdict != Unknown {
			t.Errorf("health %q: verdict %s; want unknown", health, r.Verdict)
		}
		if !strings.Contains(r.Message, "no sync operation recorded; health is ") || !strings.Contains(r.Summary, "no sync operation") {
			t.Errorf("health %q: summary %q message %q; want them to say there is no sync", health, r.Summary, r.Message)
		}
	}
}

// TestHealthUnknown: a finished sync whose health is Unknown (a comparison
// error) or not reported is not "synced and healthy".
func TestHealthUnknown(t *testing.T) {
	for _, health := range []string{"Unknown", ""} {
		app := loadApp(t, "succeeded-degraded")
		app.Status.Health.Status = health
		app.Status.Resources = nil
		r := Build(app, Options{Now: testNow})
		if r.Verdict != Unknown || strings.Contains(r.Summary, "healthy") {
			t.Errorf("health %q: verdict %s summary %q; want unknown", health, r.Verdict, r.Summary)
		}
	}
}

// TestPostSyncHealth: during PostSync the verdict follows the app's health.
func TestPostSyncHealth(t *testing.T) {
	for health, want := range map[string]Verdict{"Healthy": Succeeded, "Suspended": Succeeded, "Degraded": Degraded,
		"Missing": Degraded, "Progressing": Progressing, "Unknown": Unknown} {
		app := loadApp(t, "postsync-healthy")
		app.Status.Health.Status = health
		r := Build(app, Options{Now: testNow})
		if r.Verdict != want {
			t.Errorf("health %s: verdict %s; want %s", health, r.Verdict, want)
		}
		if want != Succeeded && !strings.Contains(r.Message, health) {
			t.Errorf("health %s: message %q does not say why", health, r.Message)
		}
	}
}

func TestPending(t *testing.T) {
	self := &argocd.Ref{Group: "batch", Kind: "Job", Namespace: "web", Name: "syncreport-postsync"}
	dropSelf := func(a *argocd.Application) {
		rs := a.Status.OperationState.SyncResult.Resources
		a.Status.OperationState.SyncResult.Resources = rs[:len(rs)-1]
	}
	tests := []struct {
		name     string
		fixture  string
		edit     func(*argocd.Application)
		o        Options
		want     Wait
		verdict  Verdict
		contains string
	}{
		{name: "hook, own entry there", fixture: "postsync-healthy", o: Options{Self: self, SelfHook: HookPostSync},
			want: Ready, verdict: Succeeded},
		{name: "hook, own entry not saved yet", fixture: "postsync-healthy", edit: dropSelf, o: Options{Self: self, SelfHook: HookPostSync},
			want: WaitRecord, verdict: Progressing, contains: "has not recorded this hook (Job/web/syncreport-postsync)"},
		{name: "hook, own entry of the previous operation", fixture: "postsync-healthy",
			edit: func(a *argocd.Application) {
				rs := a.Status.OperationState.SyncResult.Resources
				rs[len(rs)-1].HookPhase = "Succeeded"
				a.Status.OperationState.Phase = "Succeeded"
			}, o: Options{Self: self, SelfHook: HookPostSync}, want: WaitRecord, verdict: Progressing},
		// A PostSync hook never runs in a failed operation before its
		// entry exists: a failed one without it is an earlier sync's
		// (a fix following a failed sync, read through a slow cache).
		{name: "postsync hook reading the previous, failed operation", fixture: "postsync-healthy",
			edit: func(a *argocd.Application) {
				rs := a.Status.OperationState.SyncResult.Resources
				rs[len(rs)-1].HookPhase = "Succeeded"
				a.Status.OperationState.Phase = "Failed"
				a.Status.OperationState.Message = "one or more synchronization tasks completed unsuccessfully"
			}, o: Options{Self: self, SelfHook: HookPostSync}, want: WaitRecord, verdict: Progressing, contains: "has not recorded this hook"},
		// A SyncFail hook knows the sync failed even before its entry is saved.
		{name: "syncfail hook, own entry not saved yet", fixture: "syncfail-degraded", edit: dropSelf,
			o:    Options{Self: &argocd.Ref{Group: "batch", Kind: "Job", Namespace: "web", Name: "syncreport-syncfail"}, SelfHook: HookSyncFail},
			want: WaitRecord, verdict: Failed},
		// Not a hook (a Job from the CronJob): nothing of its own to wait for.
		{name: "on-demand Job", fixture: "postsync-healthy", o: Options{Self: &argocd.Ref{Group: "batch", Kind: "Job", Namespace: "web", Name: "report-now"}},
			want: WaitHooks, verdict: Progressing, contains: "Job/web/syncreport-postsync is still running"},
		{name: "sibling running", fixture: "postsync-sibling-running", o: Options{Self: self, SelfHook: HookPostSync},
			want: WaitHooks, verdict: Progressing, contains: "PostSync hook Job/web/smoke-test is still running"},
		{name: "sibling running, own Job unknown", fixture: "postsync-sibling-running",
			want: WaitHooks, verdict: Progressing},
		{name: "sibling done", fixture: "postsync-sibling-running", o: Options{Self: self, SelfHook: HookPostSync},
			edit: func(a *argocd.Application) { a.Status.OperationState.SyncResult.Resources[3].HookPhase = "Succeeded" },
			want: Ready, verdict: Succeeded},
		{name: "sibling failed", fixture: "postsync-sibling-running", o: Options{Self: self, SelfHook: HookPostSync},
			edit: func(a *argocd.Application) { a.Status.OperationState.SyncResult.Resources[3].HookPhase = "Failed" },
			want: Ready, verdict: Failed},
		{name: "health not saved yet", fixture: "postsync-healthy", o: Options{Self: self, SelfHook: HookPostSync},
			edit: func(a *argocd.Application) { a.Status.Health.Status = "Progressing" },
			want: WaitHealth, verdict: Progressing},
		{name: "between attempts", fixture: "retry-backoff", o: Options{Self: self, SelfHook: HookPostSync},
			want: Ready, verdict: Failed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := loadApp(t, tt.fixture)
			if tt.edit != nil {
				tt.edit(app)
			}
			tt.o.Now = testNow
			w, reason := Pending(app, tt.o)
			if w != tt.want || (w == Ready) != (reason == "") {
				t.Errorf("Pending = %d %q; want %d", w, reason, tt.want)
			}
			r := Build(app, tt.o)
			if r.Verdict != tt.verdict {
				t.Errorf("verdict %s (%s); want %s", r.Verdict, r.Summary, tt.verdict)
			}
			if tt.contains != "" && !strings.Contains(r.Message, tt.contains) {
				t.Errorf("message %q lacks %q", r.Message, tt.contains)
			}
		})
	}
}

// TestBackoffAttempts: read between attempts, the failed attempt is
// retryCount and a retry is still to come, up to the last granted one.
func TestBackoffAttempts(t *testing.T) {
	for _, tt := range []struct {
		count, limit int64
		text         string
	}{
		{1, 2, "attempt 1 of 3, Argo CD will retry"},
		{2, 2, "attempt 2 of 3, Argo CD will retry"},
		{5, 5, "attempt 5 of 6, Argo CD will retry"},
		{3, -1, "attempt 3, Argo CD will retry"},
	} {
		app := loadApp(t, "retry-backoff")
		app.Status.OperationState.RetryCount = tt.count
		app.Status.OperationState.Operation.Retry.Limit = &tt.limit
		r := Build(app, Options{Now: testNow})
		if got := AttemptText(r); got != tt.text || r.Verdict != Failed {
			t.Errorf("retryCount %d limit %d: %s %q; want failed %q", tt.count, tt.limit, r.Verdict, got, tt.text)
		}
	}
}

// TestSyncStatusOfAnotherRevision: after a failed PreSync hook Argo CD's
// status.sync still says Synced — to the previous revision.
func TestSyncStatusOfAnotherRevision(t *testing.T) {
	app := loadApp(t, "presync-failed")
	app.Status.Sync = argocd.SyncStatus{Status: "Synced", Revision: "0123456789abcdef0123456789abcdef01234567"}
	if got := Build(app, Options{Now: testNow}).Sync; got != "Synced to 0123456" {
		t.Errorf("sync %q; want it to name the old revision", got)
	}
	app.Status.Sync.Revision = app.Status.OperationState.SyncResult.Revision
	if got := Build(app, Options{Now: testNow}).Sync; got != "Synced" {
		t.Errorf("sync %q; want plain Synced for the synced revision", got)
	}
}

// Argo CD lists the hook's own image in status.summary.images; the report
// leaves it out and keeps the rest in order.
func TestSelfImagesLeftOut(t *testing.T) {
	app := loadApp(t, "postsync-healthy")
	app.Status.Summary.Images = []string{"registry.example.com/web:2.0.0", "ghcr.io/syncreport/syncreport:v0.1.0", "registry.example.com/worker:2.0.0"}
	r := Build(app, Options{Now: testNow, SelfImages: []string{"ghcr.io/syncreport/syncreport:v0.1.0"}})
	want := []string{"registry.example.com/web:2.0.0", "registry.example.com/worker:2.0.0"}
	if !slices.Equal(r.Images, want) {
		t.Errorf("images = %q, want %q", r.Images, want)
	}
	if r := Build(app, Options{Now: testNow}); len(r.Images) != 3 {
		t.Errorf("without SelfImages: images = %q, want all three", r.Images)
	}
}
