package report

import (
	"cmp"
	"slices"

	"github.com/syncreport/syncreport/internal/health"
)

// ApplyDiagnosis adds what the live objects say to a report: each failure
// gets the cause found on its object, unhealthy objects Argo CD did not name
// become failures of their own (Argo CD 3.x keeps no per-resource health in
// the Application), and a sync that "succeeded" while a workload is Degraded
// becomes degraded. Failures end up worst-first. A healthy app is untouched.
func ApplyDiagnosis(r *Report, d *health.Diagnosis) {
	if d == nil {
		return
	}
	r.Partial = r.Partial || d.Partial
	index := map[key]int{}
	for i, f := range r.Failures {
		index[key{f.Group, f.Kind, f.Namespace, f.Name}] = i
	}
	degraded := false
	for _, res := range d.Results {
		k := key{res.Ref.Group, res.Ref.Kind, res.Ref.Namespace, res.Ref.Name}
		cause := res.Cause
		if cause == "" {
			cause = res.Note
		}
		if i, ok := index[k]; ok {
			f := &r.Failures[i]
			if f.Cause == "" {
				f.Cause = cause
			}
			f.Logs = res.Logs
			if f.Health == "" && res.Status != health.StatusUnknown {
				f.Health = res.Status
			}
			degraded = degraded || res.Status == health.StatusDegraded
			continue
		}
		// Unnamed by Argo CD: worth a line only when it is broken, or
		// still progressing for a reason the pods show.
		if res.Status != health.StatusDegraded && (res.Status != health.StatusProgressing || res.Cause == "") {
			continue
		}
		degraded = degraded || res.Status == health.StatusDegraded
		index[k] = len(r.Failures)
		r.Failures = append(r.Failures, Failure{
			Group: res.Ref.Group, Kind: res.Ref.Kind, Namespace: res.Ref.Namespace, Name: res.Ref.Name,
			Health: res.Status, Message: res.Message, Cause: res.Cause, Logs: res.Logs,
		})
	}
	if degraded && (r.Verdict == Succeeded || r.Verdict == Progressing) {
		r.Verdict = Degraded
		r.Summary = summary(r)
	}
	slices.SortStableFunc(r.Failures, func(a, b Failure) int { return cmp.Compare(severity(a), severity(b)) })
}

type key struct{ group, kind, namespace, name string }

// severity orders failures worst-first: what failed the sync or is
// Degraded, then missing objects, then rollouts still progressing, then
// app-level conditions.
func severity(f Failure) int {
	switch {
	case f.Kind == "Application" && f.Group == "argoproj.io":
		return 3
	case f.Health == health.StatusMissing:
		return 1
	case f.Health == health.StatusProgressing:
		return 2
	}
	return 0
}
