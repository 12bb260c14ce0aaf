// Package health judges the live objects of an Argo CD application the way
// Argo CD does (gitops-engine pkg/health) and goes one level deeper: for an
// unhealthy workload it finds the pods of the current revision and names the
// cause in one line, e.g.
//
//	pod web-7d9f-x2: container "app" CrashLoopBackOff, exit code 1 (3 restarts): panic: DATABASE_URL not set
//
// The Assess* functions and PodCause are pure: they take the small API
// types of types.go (the workload, its ReplicaSets, pods and events) and
// return a Result, so the rollout gate can reuse them on whatever it
// watched; Facts and the *Pods functions give it the timing facts. Diagnose is the I/O
// edge: it reads the objects with a dynamic client, one paged LIST per kind
// and namespace, under a request cap.
//
// Rules follow https://github.com/argoproj/gitops-engine/tree/master/pkg/health.
package health

import "github.com/syncreport/syncreport/internal/argocd"

// Health statuses, spelled as Argo CD spells them.
const (
	StatusHealthy     = "Healthy"
	StatusProgressing = "Progressing"
	StatusDegraded    = "Degraded"
	StatusSuspended   = "Suspended"
	StatusMissing     = "Missing"
	StatusUnknown     = "Unknown"
)

// Result is the verdict on one object.
type Result struct {
	// Ref is the object inspected.
	Ref argocd.Ref `json:"ref"`
	// Status is one of the Status* constants.
	Status string `json:"status"`
	// Message is the health message, worded as Argo CD words it.
	Message string `json:"message,omitempty"`
	// Cause is one line saying why the object is not healthy, e.g.
	// `pod web-7d9f-x2: container "app" CrashLoopBackOff, exit code 1 (3 restarts): panic: …`.
	// It is empty when the object is healthy or nothing explains it.
	Cause string `json:"cause,omitempty"`
	// Logs are the last lines of the crashing container named in Cause;
	// only filled by Diagnose with Options.LogLines > 0.
	Logs []string `json:"logs,omitempty"`
	// Note says what could not be looked at, e.g.
	// "not inspected (forbidden: cannot list deployments.apps in namespace shop)".
	Note string `json:"note,omitempty"`
}

// rank orders statuses worst first: Degraded, Missing, Progressing,
// Suspended, Unknown, Healthy.
func rank(status string) int {
	switch status {
	case StatusDegraded:
		return 0
	case StatusMissing:
		return 1
	case StatusProgressing:
		return 2
	case StatusSuspended:
		return 3
	case StatusUnknown:
		return 4
	case StatusHealthy:
		return 5
	}
	return 4
}

// unhealthy reports whether a status calls for a look at pods and events.
func unhealthy(status string) bool {
	return status == StatusProgressing || status == StatusDegraded || status == StatusUnknown
}

func (r *Result) addNote(note string) {
	if note == "" {
		return
	}
	if r.Note != "" {
		r.Note += "; "
	}
	r.Note += note
}
