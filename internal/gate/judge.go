package gate

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/syncreport/syncreport/internal/argocd"
	"github.com/syncreport/syncreport/internal/health"
)

// outcome is the judge's answer at one instant.
type outcome int

const (
	waiting outcome = iota
	healthy
	failed
)

// verdict is one evaluation of the rollout.
type verdict struct {
	outcome outcome
	// cause is the one line of a failure.
	cause string
	// lines has one entry per watched workload that is not healthy:
	// what it waits for, or why it failed.
	lines []string
	// watched lists the workloads judged.
	watched []argocd.Ref
	// need lists, per namespace, the kinds to watch.
	need map[string][]*kind
	// next is when a grace period ends: evaluate again then, even if
	// nothing changes. Zero when no grace period is running.
	next time.Time
	// broken lists the failed Deployments whose pods failed them: those
	// Options.MarkDegraded may mark (see mark.go).
	broken []brokenDeployment
}

// brokenDeployment is a Deployment the judge found definitively broken by
// the pods of its current revision, at the generation it judged.
type brokenDeployment struct {
	ref        argocd.Ref
	generation int64
	cause      string
}

// judge decides, from the Application and the live objects, whether the
// rollout of this sync is healthy, definitively broken or still going. It
// is pure apart from its memory of when each problem was first seen.
type judge struct {
	th   Thresholds
	wave int64
	self *argocd.Ref
	// ready is set once the Application shows the current operation (see
	// operation); from then on its end is news.
	ready bool
	// seen is when each pod problem was first observed, by key
	// "<pod uid>/<container>/<class>".
	seen map[string]time.Time
}

func newJudge(th Thresholds, wave int64, self *argocd.Ref) *judge {
	return &judge{th: th, wave: wave, self: self, seen: map[string]time.Time{}}
}

// Operation phases, as Argo CD spells them.
const (
	phaseRunning     = "Running"
	phaseTerminating = "Terminating"
	phaseFailed      = "Failed"
	phaseError       = "Error"
	phaseSucceeded   = "Succeeded"
)

// operation checks that app shows the sync this gate belongs to. A gate
// Job can start before Argo CD has saved the operation that created it,
// and a read can then show the previous operation, whose syncResult lists
// every workload as applied. So the gate waits until the operation is
// Running and, when it knows its own Job, until the Job's hook entry is
// there and not finished (a finished one is the previous run's). Between
// two attempts of a retried sync the phase is Running too, with the failed
// attempt's finishedAt: that is the end of an attempt, never the start of
// this one.
func (j *judge) operation(app *argocd.Application) (v verdict, ok bool) {
	op := app.Status.OperationState
	if !j.ready {
		switch {
		case op == nil || op.Phase != phaseRunning || op.FinishedAt != nil:
			return verdict{lines: []string{"waiting for Argo CD to record the running sync operation"}}, false
		case j.self != nil:
			e := j.selfEntry(op)
			if e == nil || finishedHook(e.HookPhase) {
				return verdict{lines: []string{"waiting for Argo CD to record this hook (" + j.self.String() + ") in the sync result"}}, false
			}
		}
		j.ready = true
	}
	if op == nil {
		return verdict{lines: []string{"the sync operation is gone from the Application"}}, false
	}
	if op.Phase == phaseRunning && op.FinishedAt != nil {
		cause := "the sync attempt failed, Argo CD will retry"
		if op.Message != "" {
			cause += ": " + oneLine(op.Message)
		}
		return verdict{outcome: failed, cause: cause, lines: []string{cause}}, false
	}
	switch op.Phase {
	case phaseFailed, phaseError, phaseTerminating:
		cause := "the sync operation ended (" + op.Phase + ")"
		if op.Phase == phaseTerminating {
			cause = "the sync operation is being terminated"
		}
		if op.Message != "" {
			cause += ": " + oneLine(op.Message)
		}
		return verdict{outcome: failed, cause: cause, lines: []string{cause}}, false
	case phaseSucceeded:
		return verdict{outcome: healthy, lines: []string{"the sync operation succeeded"}}, false
	}
	return verdict{}, true
}

func finishedHook(phase string) bool {
	return phase == phaseSucceeded || phase == phaseFailed || phase == phaseError
}

func (j *judge) selfEntry(op *argocd.OperationState) *argocd.ResourceResult {
	if op == nil || op.SyncResult == nil || j.self == nil {
		return nil
	}
	for i := range op.SyncResult.Resources {
		e := &op.SyncResult.Resources[i]
		if e.HookType != "" && e.Kind == j.self.Kind && e.Name == j.self.Name && e.Namespace == j.self.Namespace {
			return e
		}
	}
	return nil
}

// target is one workload the gate judges.
type target struct {
	ref   argocd.Ref
	kind  *kind
	wave  int64
	entry *argocd.ResourceResult // this operation's apply of it; nil until recorded
}

// targets lists the workloads of the gate's wave or earlier: non-hook
// entries of status.resources with syncWave ≤ wave, plus non-hook entries
// of this operation's syncResult (applied in this operation, so of an
// earlier or the current wave: later waves wait for the gate).
func (j *judge) targets(app *argocd.Application) []target {
	var out []target
	idx := map[argocd.Ref]int{}
	later := map[argocd.Ref]bool{}
	for _, r := range app.Status.Resources {
		k := kindOf(r.Group, r.Kind)
		if r.Hook || k == nil || r.Namespace == "" {
			continue
		}
		ref := argocd.Ref{Group: k.group, Kind: k.name, Namespace: r.Namespace, Name: r.Name}
		if r.SyncWave > j.wave {
			later[ref] = true
			continue
		}
		if _, dup := idx[ref]; !dup {
			idx[ref] = len(out)
			out = append(out, target{ref: ref, kind: k, wave: r.SyncWave})
		}
	}
	if op := app.Status.OperationState; op != nil && op.SyncResult != nil {
		for i := range op.SyncResult.Resources {
			e := &op.SyncResult.Resources[i]
			k := kindOf(e.Group, e.Kind)
			if e.HookType != "" || k == nil || e.Namespace == "" || e.Status == "Pruned" || e.Status == "PruneSkipped" {
				continue
			}
			ref := argocd.Ref{Group: k.group, Kind: k.name, Namespace: e.Namespace, Name: e.Name}
			if later[ref] {
				continue
			}
			if i, ok := idx[ref]; ok {
				out[i].entry = e
				continue
			}
			idx[ref] = len(out)
			out = append(out, target{ref: ref, kind: k, entry: e})
		}
	}
	sort.SliceStable(out, func(a, b int) bool {
		if out[a].wave != out[b].wave {
			return out[a].wave < out[b].wave
		}
		return out[a].ref.String() < out[b].ref.String()
	})
	return out
}

// evaluate judges the rollout at now. The caller holds st.mu.
func (j *judge) evaluate(now time.Time, app *argocd.Application, st *store) verdict {
	ts := j.targets(app)
	// Watch from the start, so the lists are in when the operation is.
	need := map[string][]*kind{}
	for _, t := range ts {
		for _, k := range t.kind.needs() {
			need[t.ref.Namespace] = appendKind(need[t.ref.Namespace], k)
		}
	}
	if v, ok := j.operation(app); !ok {
		v.need = need
		return v
	}
	v := verdict{need: need}
	active := map[string]bool{}
	dest := app.Spec.Destination.Namespace
	for _, t := range ts {
		if t.entry == nil && j.self != nil {
			// Not applied by this operation although this hook already
			// is: unchanged under ApplyOutOfSyncOnly. Argo CD does not
			// wait for it either.
			continue
		}
		v.watched = append(v.watched, t.ref)
		w := j.workload(now, t, st, active)
		w.label = label(t.ref, dest)
		switch w.outcome {
		case healthy:
			continue
		case failed:
			if v.outcome != failed {
				v.outcome, v.cause = failed, w.label+": "+w.text
			}
			if w.markable {
				v.broken = append(v.broken, brokenDeployment{ref: t.ref, generation: w.generation, cause: w.text})
			}
		}
		v.lines = append(v.lines, w.label+": "+w.text)
		if !w.next.IsZero() && (v.next.IsZero() || w.next.Before(v.next)) {
			v.next = w.next
		}
	}
	for k := range j.seen {
		if !active[k] {
			delete(j.seen, k)
		}
	}
	if v.outcome == waiting && len(v.lines) == 0 {
		v.outcome = healthy
	}
	return v
}

func appendKind(ks []*kind, k *kind) []*kind {
	for _, x := range ks {
		if x == k {
			return ks
		}
	}
	return append(ks, k)
}

func label(r argocd.Ref, dest string) string {
	if r.Namespace == dest || dest == "" {
		return r.Kind + " " + r.Name
	}
	return r.Kind + " " + r.Namespace + "/" + r.Name
}

// judged is the verdict on one workload.
type judged struct {
	outcome outcome
	label   string
	text    string
	next    time.Time
	// markable is set on a Deployment failed by its pods (not already
	// Degraded, not a failed apply), with the generation judged.
	markable   bool
	generation int64
}

func wait(format string, a ...any) judged {
	return judged{outcome: waiting, text: fmt.Sprintf(format, a...)}
}

// workload judges one target: applied in this operation, observed by its
// controller, then by its own health and the pods of its current revision.
func (j *judge) workload(now time.Time, t target, st *store, active map[string]bool) judged {
	ns, name := t.ref.Namespace, t.ref.Name
	if t.entry == nil {
		return wait("not yet applied by this sync")
	}
	if t.entry.Status == "SyncFailed" {
		return judged{outcome: failed, text: "apply failed: " + oneLine(t.entry.Message)}
	}
	for _, k := range t.kind.needs() {
		if !st.isSynced(ns, k) {
			return wait("not read yet (%s)", k.resource())
		}
	}
	sp := st.spaces[ns]
	events := sp.eventList()
	var (
		r        health.Result
		pods     []*health.Pod
		desired  int32
		restarts = true // crash loops count; Job pods retry by design
		meta     *health.ObjectMeta
		observed = true
		current  *health.ReplicaSet // a Deployment's, once seen
	)
	switch t.kind {
	case kDeployment:
		d := sp.deployments[name]
		if d == nil {
			return wait("not found")
		}
		meta, observed = &d.ObjectMeta, d.Status.ObservedGeneration >= d.Generation
		if observed {
			rs := sp.replicaSetsOf(d.UID)
			uids := make([]types.UID, 0, len(rs))
			for _, x := range rs {
				uids = append(uids, x.UID)
			}
			all := sp.podsOf(uids...)
			r = health.AssessDeployment(d, rs, all, events)
			current = health.CurrentReplicaSet(d, rs)
			pods = health.DeploymentPods(d, rs, all)
			desired = replicas(d.Spec.Replicas)
		}
	case kStatefulSet:
		s := sp.statefulSets[name]
		if s == nil {
			return wait("not found")
		}
		meta, observed = &s.ObjectMeta, s.Status.ObservedGeneration >= s.Generation
		if observed {
			all := sp.podsOf(s.UID)
			r = health.AssessStatefulSet(s, all, events)
			pods = health.StatefulSetPods(s, all)
			desired = replicas(s.Spec.Replicas)
		}
	case kDaemonSet:
		ds := sp.daemonSets[name]
		if ds == nil {
			return wait("not found")
		}
		meta, observed = &ds.ObjectMeta, ds.Status.ObservedGeneration >= ds.Generation
		if observed {
			all := sp.podsOf(ds.UID)
			r = health.AssessDaemonSet(ds, all, events)
			pods = health.DaemonSetPods(ds, all)
			desired = ds.Status.DesiredNumberScheduled
		}
	case kReplicaSet:
		rs := sp.replicaSets[name]
		if rs == nil {
			return wait("not found")
		}
		meta, observed = &rs.ObjectMeta, rs.Status.ObservedGeneration >= rs.Generation
		if observed {
			all := sp.podsOf(rs.UID)
			r = health.AssessReplicaSet(rs, all, events)
			pods = health.OwnedPods("ReplicaSet", &rs.ObjectMeta, all)
			desired = replicas(rs.Spec.Replicas)
		}
	case kJob:
		job := sp.jobs[name]
		if job == nil {
			return wait("not found")
		}
		meta, restarts = &job.ObjectMeta, false
		all := sp.podsOf(job.UID)
		r = health.AssessJob(job, all, events)
		pods = health.OwnedPods("Job", &job.ObjectMeta, all)
	case kPod:
		p := sp.pods[name]
		if p == nil {
			return wait("not found")
		}
		meta = &p.ObjectMeta
		r = health.AssessPod(p, events)
		pods = []*health.Pod{p}
	}
	if !observed {
		return wait("waiting for the controller to observe generation %d", meta.Generation)
	}
	switch r.Status {
	case health.StatusHealthy:
		return judged{outcome: healthy}
	case health.StatusDegraded:
		if t.kind == kDeployment || t.kind == kJob || (t.kind == kPod && pods[0].Status.Phase == "Failed") {
			// ProgressDeadlineExceeded; a failed Job; a pod that ran to failure.
			return judged{outcome: failed, text: joinCause(r.Message, r.Cause)}
		}
	}
	if t.kind == kDeployment && current == nil {
		// The new ReplicaSet is on another watch than the Deployment:
		// until it arrives, the pods of the previous revision must not be
		// judged for this one (see health.CurrentReplicaSet).
		return wait("waiting for the ReplicaSet of revision %s", revisionOf(meta))
	}
	f := j.pods(now, pods, events, restarts, active)
	if f.outcome == failed {
		f.markable, f.generation = t.kind == kDeployment, meta.Generation
		return f
	}
	w := j.progress(t.kind, r, pods, desired)
	w.next = f.next
	return w
}

// progress says what a workload still waits for:
// "2/3 new pods ready; pod web-7d9f-x2: container "app" not ready: …".
func (j *judge) progress(k *kind, r health.Result, pods []*health.Pod, desired int32) judged {
	var parts []string
	switch k {
	case kDeployment, kStatefulSet, kDaemonSet, kReplicaSet:
		ready := 0
		for _, p := range pods {
			if health.Facts(p).Ready {
				ready++
			}
		}
		parts = append(parts, fmt.Sprintf("%d/%d new pods ready", ready, desired))
	}
	switch {
	case r.Cause != "":
		parts = append(parts, r.Cause)
	case r.Message != "":
		parts = append(parts, r.Message)
	case len(parts) == 0:
		parts = append(parts, strings.ToLower(r.Status))
	}
	return judged{outcome: waiting, text: strings.Join(parts, "; ")}
}

// pods applies the definitive-failure rules to the pods of the current
// revision: a crash loop at GATE_RESTARTS restarts, an image that cannot be
// pulled or a container that cannot be created for longer than its grace,
// a pod unschedulable for longer than its grace.
func (j *judge) pods(now time.Time, pods []*health.Pod, events []health.Event, restarts bool, active map[string]bool) judged {
	var out judged
	grace := func(p *health.Pod, key string, since time.Time, d time.Duration) bool {
		active[key] = true
		first, ok := j.seen[key]
		if !ok {
			first = now
			j.seen[key] = now
		}
		if !since.IsZero() && since.Before(first) {
			first = since
		}
		end := first.Add(d)
		if !now.Before(end) {
			out = judged{outcome: failed, text: cause(p, events) + fmt.Sprintf(" (for %s)", now.Sub(first).Truncate(time.Second))}
			return true
		}
		if out.next.IsZero() || end.Before(out.next) {
			out.next = end
		}
		return false
	}
	for _, p := range pods {
		f := health.Facts(p)
		if f.Deleting {
			continue
		}
		for _, c := range f.Containers {
			key := string(f.UID) + "/" + c.Name + "/"
			switch {
			case restarts && c.Crashing && c.Restarts >= int32(j.th.Restarts):
				// health.Facts says which kubelet states are a crash: not
				// a completed init container, nor one ready again.
				return judged{outcome: failed, text: cause(p, events)}
			case c.Waiting == "InvalidImageName":
				// The kubelet never retries it.
				return judged{outcome: failed, text: cause(p, events)}
			case health.IsImageReason(c.Waiting):
				if grace(p, key+"image", time.Time{}, j.th.ImagePullGrace) {
					return out
				}
			case c.Waiting == "CreateContainerConfigError" || c.Waiting == "CreateContainerError":
				if grace(p, key+"config", time.Time{}, j.th.ConfigErrorGrace) {
					return out
				}
			}
		}
		if f.Unschedulable {
			if grace(p, string(f.UID)+"/unschedulable", f.UnschedulableSince, j.th.UnschedulableGrace) {
				return out
			}
		}
	}
	return out
}

// cause names what is wrong with p, in health's words.
func cause(p *health.Pod, events []health.Event) string {
	if c := health.PodCause(p, events); c != "" {
		return c
	}
	return "pod " + p.Name + " is failing"
}

func joinCause(msg, cause string) string {
	switch {
	case msg == "":
		return cause
	case cause == "":
		return oneLine(msg)
	case strings.Contains(cause, oneLine(msg)):
		return cause
	}
	return oneLine(msg) + ": " + cause
}

// revisionOf is the deployment.kubernetes.io/revision a Deployment is at,
// or "(unknown)".
func revisionOf(m *health.ObjectMeta) string {
	if r := m.Annotations["deployment.kubernetes.io/revision"]; r != "" {
		return r
	}
	return "(unknown)"
}

func replicas(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

// oneLine folds whitespace, so a message from the API stays one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
