package health

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// The functions below pick the pods of a workload's current revision and
// state the facts about one pod that a rollout gate needs to time a
// failure: the rules in assess.go and cause.go name a cause, these say
// since when and how often.

// DeploymentPods returns the pods of d's current ReplicaSet (see
// CurrentReplicaSet), sorted by name; nil when d controls no ReplicaSet.
func DeploymentPods(d *Deployment, rs []ReplicaSet, pods []Pod) []*Pod {
	cur := CurrentReplicaSet(d, rs)
	if cur == nil {
		return nil
	}
	return owned(pods, "ReplicaSet", &cur.ObjectMeta)
}

// StatefulSetPods returns the pods of s's status.updateRevision (label
// controller-revision-hash), or every pod s owns when it reports no
// update revision yet.
func StatefulSetPods(s *StatefulSet, pods []Pod) []*Pod {
	all := owned(pods, "StatefulSet", &s.ObjectMeta)
	if s.Status.UpdateRevision == "" {
		return all
	}
	var out []*Pod
	for _, p := range all {
		if p.Labels[revisionHashLabel] == s.Status.UpdateRevision {
			out = append(out, p)
		}
	}
	return out
}

// DaemonSetPods returns the pods of ds's current template: their
// pod-template-generation label matches the DaemonSet's
// deprecated.daemonset.template.generation annotation. Without the
// annotation every pod ds owns counts.
func DaemonSetPods(ds *DaemonSet, pods []Pod) []*Pod {
	all := owned(pods, "DaemonSet", &ds.ObjectMeta)
	gen := ds.Annotations[templateGenerationAnnotation]
	if gen == "" {
		return all
	}
	var out []*Pod
	for _, p := range all {
		if g, ok := p.Labels[templateGenerationLabel]; !ok || g == gen {
			out = append(out, p)
		}
	}
	return out
}

// OwnedPods returns the pods with an owner reference to the object of
// kind with metadata m (by UID, or by kind and name when m has no UID).
func OwnedPods(kind string, m *ObjectMeta, pods []Pod) []*Pod {
	return owned(pods, kind, m)
}

// The labels and annotations the rules read; Diagnose keeps no others.
const (
	revisionHashLabel            = "controller-revision-hash"
	templateGenerationLabel      = "pod-template-generation"
	revisionAnnotation           = "deployment.kubernetes.io/revision"
	templateGenerationAnnotation = "deprecated.daemonset.template.generation"
)

// PodFacts is what a pod shows about its progress, for judging how long a
// problem has lasted and how often a container crashed.
type PodFacts struct {
	Name  string
	UID   types.UID
	Phase string
	// Ready is the pod's Ready condition.
	Ready bool
	// Deleting is set once the pod has a deletion timestamp: a rollout
	// replacing it is not its failure.
	Deleting bool
	// Unschedulable is set while the PodScheduled condition is False with
	// reason Unschedulable; UnschedulableSince is that condition's
	// lastTransitionTime (zero when not written).
	Unschedulable      bool
	UnschedulableSince time.Time
	// Containers lists init containers first, then the app containers.
	Containers []ContainerFacts
}

// ContainerFacts is one container's state as the kubelet reports it.
type ContainerFacts struct {
	Name string
	Init bool
	// Sidecar is set on an init container with restartPolicy Always: it
	// keeps running beside the app containers and is judged like them.
	Sidecar bool
	// Ready and Running describe the current instance.
	Ready, Running bool
	// Waiting is the waiting reason (CrashLoopBackOff, ImagePullBackOff, …).
	Waiting string
	// Restarts is the kubelet's restartCount.
	Restarts int32
	// Crashing is set when the container is down because an instance of it
	// failed (see crashing); Restarts then says how often.
	Crashing bool
	// LastReason and LastExitCode describe the latest termination
	// (Error, OOMKilled, Completed, …).
	LastReason   string
	LastExitCode int32
}

// Facts states what p shows; see PodFacts.
func Facts(p *Pod) PodFacts {
	f := PodFacts{
		Name: p.Name, UID: p.UID, Phase: p.Status.Phase,
		Ready: podReady(p), Deleting: pendingDeletion(&p.ObjectMeta),
	}
	if c := podCondition(p, podScheduled); c != nil && c.Status == conditionFalse && c.Reason == podReasonUnschedulable {
		f.Unschedulable, f.UnschedulableSince = true, c.LastTransitionTime.Time
	}
	for i, statuses := range [][]ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
		for j := range statuses {
			cs := &statuses[j]
			init := i == 0
			c := ContainerFacts{Name: cs.Name, Init: init, Sidecar: init && isSidecar(p, cs.Name),
				Ready: cs.Ready, Running: cs.State.Running != nil, Restarts: cs.RestartCount}
			if w := cs.State.Waiting; w != nil {
				c.Waiting = w.Reason
			}
			c.Crashing = crashing(cs)
			t := cs.State.Terminated
			if t == nil {
				t = cs.LastTerminationState.Terminated
			}
			if t != nil {
				c.LastReason, c.LastExitCode = t.Reason, t.ExitCode
			}
			f.Containers = append(f.Containers, c)
		}
	}
	return f
}

// crashing reports whether cs is down because an instance of it failed.
// A plain init container (it runs to completion, one after
// the other) is crashing only while it waits in CrashLoopBackOff or has
// just failed: running is another attempt, and exit 0 ("Completed") is
// done, whatever failures came before (an init container that waits for
// a database applied in the same sync fails a few times by design). An
// app container or a sidecar is crashing in CrashLoopBackOff (even after
// exit 0: it is meant to keep running) or when its current instance
// failed. Running is never crashing, ready or not, whatever failed before:
// an app that crashed while a dependency applied in the same sync came up
// runs again and waits for its readiness probe, and taking that for a
// crash would fail a healthy rollout; a real crash loop shows again in its
// back-off within seconds. Exit 0 alone is never a failure: a container
// that keeps exiting 0 shows CrashLoopBackOff.
func crashing(cs *ContainerStatus) bool {
	switch w, t := cs.State.Waiting, cs.State.Terminated; {
	case w != nil:
		return w.Reason == "CrashLoopBackOff"
	case t != nil:
		return t.ExitCode != 0
	}
	return false
}

// isSidecar reports whether the init container name of p has
// restartPolicy Always (a native sidecar, Kubernetes 1.28+).
func isSidecar(p *Pod, name string) bool {
	for _, c := range p.Spec.InitContainers {
		if c.Name == name {
			return c.RestartPolicy == restartAlways
		}
	}
	return false
}

// IsImageReason reports whether a waiting reason means the image cannot be
// pulled (ErrImagePull, ImagePullBackOff, InvalidImageName, …).
func IsImageReason(reason string) bool { return isImageReason(reason) }

// SlimPod returns what a reader that follows a rollout need keep of p:
// p itself when it shows a problem of its own or is neither ready nor
// finished (the cause may be named from it, as Diagnose keeps such pods),
// else a small record: identity, owners, revision labels, phase and the
// Ready and PodScheduled conditions. Such a pod has no container that
// Facts would call crashing or waiting (PodCause names none), so the
// record drops the container statuses: on a shared namespace of thousands
// of pods they would be most of what is kept.
func SlimPod(p *Pod) *Pod {
	if diagnosePod(p, nil).severity > 0 || (p.Status.Phase != podSucceeded && !podReady(p)) {
		return p
	}
	s := &Pod{ObjectMeta: ObjectMeta{Name: p.Name, Namespace: p.Namespace, UID: p.UID,
		Labels: p.Labels, DeletionTimestamp: p.DeletionTimestamp}}
	s.OwnerReferences = make([]metav1.OwnerReference, len(p.OwnerReferences))
	for i, o := range p.OwnerReferences {
		s.OwnerReferences[i] = metav1.OwnerReference{Kind: o.Kind, Name: o.Name, UID: o.UID}
	}
	s.Spec.RestartPolicy = p.Spec.RestartPolicy
	s.Status.Phase = p.Status.Phase
	for _, c := range p.Status.Conditions {
		if c.Type == podReadyCondition || c.Type == podScheduled {
			s.Status.Conditions = append(s.Status.Conditions, Condition{Type: c.Type, Status: c.Status})
		}
	}
	return s
}
