package report

import "testing"

func TestStatusLine(t *testing.T) {
	fail := Failure{Kind: "Deployment", Namespace: "web", Name: "web", Message: "progress deadline exceeded"}
	withCause := fail
	withCause.Cause = "pod web-1: CrashLoopBackOff"
	for _, tc := range []struct {
		name string
		r    Report
		want string
	}{
		{"success", Report{Verdict: Succeeded, Summary: "web synced and healthy", App: AppRef{Name: "web"}}, "synced and healthy"},
		{"failure with a cause", Report{Verdict: Failed, Summary: "web sync failed", App: AppRef{Name: "web"}, Failures: []Failure{withCause, fail}},
			"sync failed (2 failures): Deployment web/web: pod web-1: CrashLoopBackOff"},
		{"failure, Argo CD's message", Report{Verdict: Degraded, Summary: "web synced but is Degraded", App: AppRef{Name: "web"}, Failures: []Failure{fail}},
			"synced but is Degraded: Deployment web/web: progress deadline exceeded"},
		{"no failures, the operation message", Report{Verdict: Failed, Summary: "web sync failed", App: AppRef{Name: "web"}, Message: "one or more objects failed to apply"},
			"sync failed: one or more objects failed to apply"},
		{"unknown", Report{Verdict: Unknown, Summary: "web: outcome unknown", App: AppRef{Name: "web"}, Message: "PostSync hook still running"},
			"outcome unknown: PostSync hook still running"},
	} {
		if got := StatusLine(tc.r); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
