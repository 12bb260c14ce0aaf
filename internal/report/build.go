package report

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/syncreport/syncreport/internal/argocd"
	"github.com/syncreport/syncreport/internal/recipients"
)

// Hook types as Argo CD writes them in syncResult.resources[].hookType.
const (
	HookPostSync = "PostSync"
	HookSyncFail = "SyncFail"
)

// Options carries what Build needs beyond the Application.
type Options struct {
	// Self is the hook's own Job when known: its syncResult entry tells
	// which hook this run is, and it is never reported as a failure.
	Self *argocd.Ref
	// Now is the time the report is made (durations of running operations);
	// zero when unknown, as for a saved document (`hook render`): a running
	// operation then has no duration.
	Now time.Time
	// ArgoCDURL is the UI base for the link; empty means no link.
	ArgoCDURL string
	// SelfImages are the hook's own images, left out of the report's
	// images: Argo CD lists hook images with the workloads', and
	// syncreport's own in every report would be noise.
	SelfImages []string
	// SelfHook is the own Job's argocd.argoproj.io/hook annotation when
	// this run is an Argo CD hook ("PostSync", "SyncFail"); empty for a Job
	// made by hand or from the CronJob. A hook knows its own sync is running,
	// so it waits for Argo CD to record it (see Pending).
	SelfHook string
}

// Build judges an Application and returns its report.
//
// The verdict cannot come from operationState.phase alone: while PostSync
// and SyncFail hooks run the phase is still "Running", so which hook is
// running (and what failed before it) is read from syncResult.resources.
func Build(app *argocd.Application, o Options) Report {
	r := Report{
		App: AppRef{
			Name:      app.Metadata.Name,
			Namespace: app.Metadata.Namespace,
			Project:   app.Spec.Project,
		},
		Destination: Destination(app.Spec.Destination),
		Health:      app.Status.Health.Status,
		Sync:        app.Status.Sync.Status,
		Images:      without(app.Status.Summary.Images, o.SelfImages),
		Failures:    []Failure{},
		Recipients:  []recipients.Recipient{},
		Revisions:   revisions(app),
		URL:         appURL(o.ArgoCDURL, app),

		SourceRevisions: app.SourceRevisions(),
	}
	if r.Revisions == nil {
		r.Revisions = []string{}
	}
	for _, s := range app.Spec.Sources {
		r.Sources = append(r.Sources, s.RepoURL)
	}
	// After a failed PreSync phase status.sync still describes the previous
	// revision: say which, or "Synced" reads as if the new one were.
	if op := app.Status.OperationState; op != nil && op.SyncResult != nil && r.Sync != "" {
		if prev, cur := app.Status.Sync.Revision, op.SyncResult.Revision; prev != "" && cur != "" && prev != cur {
			r.Sync += " to " + ShortRevisions([]string{prev})[0]
		}
	}
	r.Failures = failures(app, o.Self)

	op := app.Status.OperationState
	if op == nil {
		// Never synced (or the operation state was cleared): there is no
		// sync to judge, and a Missing or Healthy app says nothing about one.
		r.Verdict = Unknown
		r.Message = "no sync operation recorded; health is " + orNone(r.Health)
		r.Summary = r.App.Name + ": no sync operation recorded"
		return r
	}
	r.Phase = op.Phase
	r.Message = op.Message
	r.InitiatedBy = op.Operation.InitiatedBy.Username
	r.Automated = op.Operation.InitiatedBy.Automated
	for _, i := range op.Operation.Info {
		r.Info = append(r.Info, Info(i))
	}
	started := op.StartedAt
	if !started.IsZero() {
		r.StartedAt = &started
		end := o.Now
		if op.FinishedAt != nil {
			r.FinishedAt = op.FinishedAt
			end = *op.FinishedAt
		}
		if !end.IsZero() && end.After(started) {
			r.DurationSeconds = end.Sub(started).Round(time.Second).Seconds()
		}
	}
	r.Hook = hookType(op.SyncResult, o.Self, o.SelfHook)
	r.Verdict = verdict(op, r.Hook, r.Health, r.Failures)

	limit := retryLimit(app)
	r.Attempt = op.RetryCount + 1
	if limit >= 0 {
		r.MaxAttempts = limit + 1
	}
	r.WillRetry = r.Verdict == Failed && op.Phase != "Terminating" &&
		!strings.Contains(strings.ToLower(op.Message), "terminated") &&
		(limit < 0 || op.RetryCount < limit)
	if inBackoff(op) {
		// Argo CD has already counted the coming attempt: the one that
		// failed is retryCount, and the retry was granted.
		r.Attempt = max(op.RetryCount, 1)
		r.WillRetry = true
	}
	r.Summary = summary(&r)
	if r.Verdict == Failed && !staleForPostSync(app, o) {
		return r
	}
	// A success must not come before the sync's other hooks are done, nor
	// disagree with the health the hook can see; a hook whose own sync is
	// not recorded yet may be reading another operation.
	switch wait, reason := Pending(app, o); {
	case wait == WaitRecord, wait == WaitHooks && r.Verdict == Succeeded:
		r.Verdict, r.WillRetry = Progressing, false
		r.Message = reason
		r.Summary = r.App.Name + " synced; PostSync hooks still running"
		if wait == WaitRecord {
			r.Summary = r.App.Name + ": this hook's sync is not recorded yet"
		}
		return r
	}
	if r.Hook == HookPostSync && op.Phase == "Running" && r.Verdict != Succeeded {
		r.Message = "Argo CD started the PostSync hooks once the synced resources were Healthy, but the application's health is now " + orNone(r.Health)
		if r.Verdict == Progressing {
			r.Summary = r.App.Name + " synced; health still Progressing"
		}
	}
	if r.Verdict == Unknown && op.Phase != "" && r.Health != "Healthy" {
		r.Summary = r.App.Name + " synced; health is " + orNone(r.Health)
	}
	return r
}

// Wait is what a report still waits for before its verdict is final.
type Wait int

// The things a report waits for, in the order Pending checks them.
const (
	// Ready: nothing; the verdict is final.
	Ready Wait = iota
	// WaitRecord: a hook's own entry is not in syncResult yet, so the read
	// may be of another operation than the one that started the hook.
	WaitRecord
	// WaitHooks: other PostSync hooks of the sync are still running; one
	// that fails after a success was posted makes a failure follow it.
	WaitHooks
	// WaitHealth: during PostSync the app's health is not Healthy. Argo CD
	// starts PostSync hooks as soon as the sync engine sees the synced
	// resources Healthy and saves status.health a moment later, so a hook
	// reading at once can see the health from before the sync.
	WaitHealth
)

// Pending says what a report must wait for before its verdict is final,
// and why in words; Ready when nothing. The caller re-reads the Application
// while it gets a reason, within its bounds (WaitHealth deserves only a
// short settle: a Degraded app stays Degraded). Build turns a WaitRecord or
// WaitHooks left at the end into a progressing verdict, never a success.
//
// Only a hook run (Options.SelfHook) waits for its own entry. Without its
// own Job (Options.Self) a reader cannot tell itself from its siblings, so
// one running PostSync hook is taken for itself.
func Pending(app *argocd.Application, o Options) (Wait, string) {
	op := app.Status.OperationState
	if op == nil || inBackoff(op) {
		return Ready, ""
	}
	var self *argocd.ResourceResult
	if o.Self != nil && op.SyncResult != nil {
		for i, e := range op.SyncResult.Resources {
			if e.HookType != "" && isSelf(e.Ref(), o.Self) {
				self = &op.SyncResult.Resources[i]
				break
			}
		}
	}
	if o.SelfHook != "" && o.Self != nil && (self == nil || finishedHook(self.HookPhase)) {
		// A finished entry of this Job is the previous operation's: Argo CD
		// sees this run end only after it exits.
		return WaitRecord, "Argo CD has not recorded this hook (" + o.Self.String() + ") in the sync result yet"
	}
	if hookType(op.SyncResult, o.Self, o.SelfHook) != HookPostSync || op.Phase != "Running" || op.SyncResult == nil {
		return Ready, ""
	}
	var running []string
	for _, e := range op.SyncResult.Resources {
		if e.HookType == HookPostSync && !finishedHook(e.HookPhase) && (o.Self == nil || !isSelf(e.Ref(), o.Self)) {
			running = append(running, e.Ref().String())
		}
	}
	if o.Self == nil {
		if len(running) > 1 {
			return WaitHooks, fmt.Sprintf("%d PostSync hooks are still running (%s), one of them may be this report", len(running), strings.Join(running, ", "))
		}
		running = nil
	}
	switch len(running) {
	case 0:
	case 1:
		return WaitHooks, "PostSync hook " + running[0] + " is still running"
	default:
		return WaitHooks, fmt.Sprintf("PostSync hooks %s and %d more are still running", running[0], len(running)-1)
	}
	if h := app.Status.Health.Status; h != "Healthy" && h != "Suspended" {
		return WaitHealth, "the application's health is " + orNone(h) + ", not Healthy"
	}
	return Ready, ""
}

// staleForPostSync reports a PostSync hook reading an operation that is
// not its own: a PostSync hook runs only in a running operation, before
// any SyncFail hook, so a failed operation in which it has no running entry
// is an earlier one (a slow cache behind ARGOCD_SERVER, a read that raced
// the new operation), and "failed" would be another sync's verdict.
func staleForPostSync(app *argocd.Application, o Options) bool {
	if o.SelfHook != HookPostSync {
		return false
	}
	w, _ := Pending(app, o)
	return w == WaitRecord
}

// inBackoff reports the pause between two attempts of a retried sync: Argo
// CD sets the phase back to Running, keeps finishedAt of the failed attempt
// and has already counted the coming attempt in retryCount ("Retrying
// attempt #N at …").
func inBackoff(op *argocd.OperationState) bool {
	return op.Phase == "Running" && op.FinishedAt != nil
}

func finishedHook(phase string) bool {
	return phase == "Succeeded" || phase == "Failed" || phase == "Error"
}

func orNone(health string) string {
	if health == "" {
		return "not reported"
	}
	return health
}

// ShouldNotify applies RETRY_NOTIFY to a failed attempt of a retrying sync:
// SyncFail hooks run on every attempt, and six identical messages in seven
// minutes teach people to mute the channel.
func ShouldNotify(r Report, policy string) bool {
	if r.Verdict != Failed {
		return true
	}
	switch policy {
	case "all":
		return true
	case "final":
		return !r.WillRetry
	default: // first
		return r.Attempt == 1 || !r.WillRetry
	}
}

func verdict(op *argocd.OperationState, hook, health string, fs []Failure) Verdict {
	switch op.Phase {
	case "Failed", "Error", "Terminating":
		return Failed
	case "Running":
		if inBackoff(op) || hook == HookSyncFail || hasSyncFailHook(op.SyncResult) || hasSyncFailure(fs) {
			return Failed
		}
		if hook == HookPostSync {
			// Argo CD starts PostSync hooks only once every synced
			// resource is Healthy, but not every resource of the app is
			// synced (ApplyOutOfSyncOnly leaves an unchanged Degraded one
			// alone) and a pod can crash after it was ready: the success
			// must agree with the app's health.
			return fromHealth(health)
		}
		return Progressing
	case "Succeeded":
		return fromHealth(health)
	}
	return Unknown
}

// fromHealth judges a sync that got as far as its health by the app's
// health. A Succeeded sync that never waited for health (no PostSync hook)
// can still be Progressing or Degraded: sync success is not health. Unknown
// health (a comparison error) or none says nothing either way.
func fromHealth(health string) Verdict {
	switch health {
	case "Degraded", "Missing":
		return Degraded
	case "Progressing":
		return Progressing
	case "Healthy", "Suspended":
		return Succeeded
	}
	return Unknown
}

// hookType says which hook this run is: its own entry when known, else its
// own Job's hook annotation, else the running hook entries (SyncFail wins:
// it only exists when the sync failed).
func hookType(sr *argocd.SyncResult, self *argocd.Ref, selfHook string) string {
	if selfHook == HookPostSync || selfHook == HookSyncFail {
		if sr == nil {
			return selfHook
		}
	}
	if sr == nil {
		return ""
	}
	if self != nil {
		for _, e := range sr.Resources {
			if e.HookType != "" && isSelf(e.Ref(), self) {
				return e.HookType
			}
		}
	}
	if selfHook == HookPostSync || selfHook == HookSyncFail {
		return selfHook
	}
	found := ""
	for _, e := range sr.Resources {
		if e.HookPhase != "Running" {
			continue
		}
		switch e.HookType {
		case HookSyncFail:
			return HookSyncFail
		case HookPostSync:
			found = HookPostSync
		}
	}
	return found
}

func hasSyncFailHook(sr *argocd.SyncResult) bool {
	if sr == nil {
		return false
	}
	for _, e := range sr.Resources {
		if e.HookType == HookSyncFail {
			return true
		}
	}
	return false
}

// hasSyncFailure reports a failure that comes from the sync itself (a hook
// or an apply), as opposed to a persisted Degraded health or a condition.
func hasSyncFailure(fs []Failure) bool {
	for _, f := range fs {
		if f.Health == "" && f.Kind != "Application" {
			return true
		}
	}
	return false
}

// failures lists, in this order, failed sync entries (hookPhase Failed or
// Error, or status SyncFailed), resources whose persisted health is
// Degraded, and error conditions. Each keeps Argo CD's message.
func failures(app *argocd.Application, self *argocd.Ref) []Failure {
	fs := []Failure{}
	seen := map[argocd.Ref]bool{}
	if op := app.Status.OperationState; op != nil && op.SyncResult != nil {
		for _, e := range op.SyncResult.Resources {
			if self != nil && isSelf(e.Ref(), self) {
				continue
			}
			if e.HookPhase != "Failed" && e.HookPhase != "Error" && e.Status != "SyncFailed" {
				continue
			}
			seen[e.Ref()] = true
			fs = append(fs, Failure{
				Group: e.Group, Kind: e.Kind, Namespace: e.Namespace, Name: e.Name,
				HookType: e.HookType, Message: e.Message,
			})
		}
	}
	for _, s := range app.Status.Resources {
		if s.Health == nil || s.Health.Status != "Degraded" || seen[s.Ref()] {
			continue
		}
		seen[s.Ref()] = true
		fs = append(fs, Failure{
			Group: s.Group, Kind: s.Kind, Namespace: s.Namespace, Name: s.Name,
			Health: s.Health.Status, Message: s.Health.Message,
		})
	}
	for _, c := range app.Status.Conditions {
		if !strings.HasSuffix(c.Type, "Error") {
			continue
		}
		fs = append(fs, Failure{
			Group: "argoproj.io", Kind: "Application", Namespace: app.Metadata.Namespace,
			Name: app.Metadata.Name, Message: c.Type + ": " + c.Message,
		})
	}
	return fs
}

func isSelf(r argocd.Ref, self *argocd.Ref) bool {
	return r.Kind == self.Kind && r.Name == self.Name &&
		(r.Namespace == self.Namespace || r.Namespace == "")
}

// retryLimit is the effective retry limit of the operation: the retry block
// copied into the operation wins over the app's sync policy. Argo CD stores
// `limit: 0` as `retry: {}`; a negative limit retries forever.
func retryLimit(app *argocd.Application) int64 {
	var rs *argocd.RetryStrategy
	if op := app.Status.OperationState; op != nil && op.Operation.Retry != nil {
		rs = op.Operation.Retry
	} else if p := app.Spec.SyncPolicy; p != nil {
		rs = p.Retry
	}
	if rs == nil || rs.Limit == nil {
		return 0
	}
	return *rs.Limit
}

func revisions(app *argocd.Application) []string {
	if op := app.Status.OperationState; op != nil {
		if sr := op.SyncResult; sr != nil {
			if len(sr.Revisions) > 0 {
				return sr.Revisions
			}
			if sr.Revision != "" {
				return []string{sr.Revision}
			}
		}
		if s := op.Operation.Sync; s != nil {
			if len(s.Revisions) > 0 {
				return s.Revisions
			}
			if s.Revision != "" {
				return []string{s.Revision}
			}
		}
	}
	if len(app.Status.Sync.Revisions) > 0 {
		return app.Status.Sync.Revisions
	}
	if app.Status.Sync.Revision != "" {
		return []string{app.Status.Sync.Revision}
	}
	return nil
}

func appURL(base string, app *argocd.Application) string {
	if base == "" {
		return ""
	}
	return strings.TrimRight(base, "/") + "/applications/" +
		url.PathEscape(app.Metadata.Namespace) + "/" + url.PathEscape(app.Metadata.Name) +
		"?operation=true"
}

func summary(r *Report) string {
	name := r.App.Name
	switch r.Verdict {
	case Succeeded:
		return name + " synced and healthy"
	case Failed:
		s := name + " sync failed"
		if !r.WillRetry && r.Attempt > 1 {
			// The last word on a retrying sync, as its live message ends.
			return fmt.Sprintf("%s after %d attempts", s, r.Attempt)
		}
		if r.MaxAttempts != 1 {
			s += " (" + AttemptText(*r) + ")"
		}
		return s
	case Degraded:
		return name + " synced but is Degraded"
	case Progressing:
		return name + " rollout still in progress"
	}
	return name + ": outcome unknown"
}

// AttemptText says "attempt 2 of 6, Argo CD will retry" for retrying syncs.
func AttemptText(r Report) string {
	s := fmt.Sprintf("attempt %d", r.Attempt)
	if r.MaxAttempts > 0 {
		s += fmt.Sprintf(" of %d", r.MaxAttempts)
	}
	switch {
	case r.WillRetry:
		s += ", Argo CD will retry"
	case r.Verdict == Failed && r.MaxAttempts > 1 && r.Attempt < r.MaxAttempts:
		s += ", not retried" // terminated by a user or a sync timeout
	case r.Verdict == Failed && r.MaxAttempts > 1:
		s += ", no retries left"
	}
	return s
}

// without is list minus the entries in drop, in list's order.
func without(list, drop []string) []string {
	if len(drop) == 0 {
		return list
	}
	var out []string
	for _, s := range list {
		if !slices.Contains(drop, s) {
			out = append(out, s)
		}
	}
	return out
}
