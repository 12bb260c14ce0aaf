package health

import (
	"sort"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The Assess* functions judge one object from its own status plus, for
// workloads, the pods and events around it. They are pure. Callers may pass
// every ReplicaSet, pod and event of the namespace: each function keeps the
// ones owned by (or involving) the object, matching owner references by UID
// (or by kind and name when the object has no UID, as in hand-built tests).

// AssessDeployment judges a Deployment. When it is Progressing or Degraded
// the cause is looked for in the pods of its current ReplicaSet (see
// CurrentReplicaSet), then in that
// ReplicaSet's failure to create pods, then in the Deployment's own Warning
// events.
func AssessDeployment(d *Deployment, rs []ReplicaSet, pods []Pod, events []Event) Result {
	r, _ := assessDeployment(d, rs, pods, events)
	return r
}

func assessDeployment(d *Deployment, rs []ReplicaSet, pods []Pod, events []Event) (Result, podIssue) {
	r := Result{Ref: ref("apps", "Deployment", &d.ObjectMeta)}
	r.Status, r.Message = deploymentStatus(d)
	if !unhealthy(r.Status) {
		return r, podIssue{}
	}
	if cur := CurrentReplicaSet(d, rs); cur != nil {
		is, n := worstPod(owned(pods, "ReplicaSet", &cur.ObjectMeta), events)
		if is.severity > 0 {
			r.Cause = withOthers(is, n)
			return r, is
		}
		if c := replicaFailure(cur); c != nil {
			r.Cause = "replicaset " + cur.Name + ": " + c.Reason + ": " + oneLine(c.Message)
		} else if w := latestWarning(eventsFor(events, "ReplicaSet", cur.Name, cur.UID)); w != "" {
			r.Cause = "replicaset " + cur.Name + ": " + w
		}
	}
	if r.Cause == "" {
		if c := deploymentCondition(d.Status, "ReplicaFailure"); c != nil && c.Status == conditionTrue {
			r.Cause = c.Reason + ": " + oneLine(c.Message)
		}
	}
	if r.Cause == "" {
		r.Cause = latestWarning(eventsFor(events, "Deployment", d.Name, d.UID))
	}
	return r, podIssue{}
}

// CurrentReplicaSet returns the ReplicaSet of d's current revision: among
// those d controls, the one whose deployment.kubernetes.io/revision
// annotation equals d's own. The Deployment controller writes both before
// it writes the observedGeneration of a new template, but a reader of two
// watches (or two LISTs) can see the new Deployment before its new
// ReplicaSet: then the previous revision's is not taken for it, and
// CurrentReplicaSet returns nil (wait). Only when d carries no revision
// (not yet synced by its controller, or built by hand) is the highest
// revision taken (the newest, on a tie). It returns nil if d controls none.
func CurrentReplicaSet(d *Deployment, rs []ReplicaSet) *ReplicaSet {
	var cur *ReplicaSet
	for i := range rs {
		r := &rs[i]
		if ownedBy(r.OwnerReferences, "Deployment", &d.ObjectMeta) && currentFor(d, r, cur) {
			cur = r
		}
	}
	return cur
}

// currentFor reports whether r, a ReplicaSet of d, is a better pick for d's
// current ReplicaSet than cur (nil when none yet); see CurrentReplicaSet.
func currentFor(d *Deployment, r, cur *ReplicaSet) bool {
	if want := d.Annotations[revisionAnnotation]; want != "" {
		return r.Annotations[revisionAnnotation] == want && (cur == nil || cur.CreationTimestamp.Before(&r.CreationTimestamp))
	}
	return cur == nil || laterRevision(r, cur)
}

// laterRevision reports whether r is of a later revision than cur: a higher
// deployment.kubernetes.io/revision annotation, or the same and created
// after it.
func laterRevision(r, cur *ReplicaSet) bool {
	rev, curRev := revision(r), revision(cur)
	return rev > curRev || (rev == curRev && cur.CreationTimestamp.Before(&r.CreationTimestamp))
}

func revision(r *ReplicaSet) int64 {
	rev, err := strconv.ParseInt(r.Annotations[revisionAnnotation], 10, 64)
	if err != nil {
		return 0
	}
	return rev
}

// AssessStatefulSet judges a StatefulSet; the cause is looked for in the
// pods of status.updateRevision (label controller-revision-hash), then in
// any pod it owns, then in its own Warning events (e.g. FailedCreate).
func AssessStatefulSet(s *StatefulSet, pods []Pod, events []Event) Result {
	r, _ := assessStatefulSet(s, pods, events)
	return r
}

func assessStatefulSet(s *StatefulSet, pods []Pod, events []Event) (Result, podIssue) {
	r := Result{Ref: ref("apps", "StatefulSet", &s.ObjectMeta)}
	r.Status, r.Message = statefulSetStatus(s)
	if !unhealthy(r.Status) {
		return r, podIssue{}
	}
	all := owned(pods, "StatefulSet", &s.ObjectMeta)
	for _, set := range [][]*Pod{StatefulSetPods(s, pods), all} {
		if is, n := worstPod(set, events); is.severity > 0 {
			r.Cause = withOthers(is, n)
			return r, is
		}
	}
	r.Cause = latestWarning(eventsFor(events, "StatefulSet", s.Name, s.UID))
	return r, podIssue{}
}

// AssessDaemonSet judges a DaemonSet; the cause is looked for in its pods,
// then in its own Warning events.
func AssessDaemonSet(ds *DaemonSet, pods []Pod, events []Event) Result {
	r, _ := assessDaemonSet(ds, pods, events)
	return r
}

func assessDaemonSet(ds *DaemonSet, pods []Pod, events []Event) (Result, podIssue) {
	r := Result{Ref: ref("apps", "DaemonSet", &ds.ObjectMeta)}
	r.Status, r.Message = daemonSetStatus(ds)
	return withPodCause(r, "DaemonSet", &ds.ObjectMeta, pods, events)
}

// AssessReplicaSet judges a ReplicaSet; the cause is looked for in its
// pods, then in its ReplicaFailure condition and its own Warning events.
func AssessReplicaSet(rs *ReplicaSet, pods []Pod, events []Event) Result {
	r, _ := assessReplicaSet(rs, pods, events)
	return r
}

func assessReplicaSet(rs *ReplicaSet, pods []Pod, events []Event) (Result, podIssue) {
	r := Result{Ref: ref("apps", "ReplicaSet", &rs.ObjectMeta)}
	r.Status, r.Message = replicaSetStatus(rs)
	r, is := withPodCause(r, "ReplicaSet", &rs.ObjectMeta, pods, events)
	if unhealthy(r.Status) && is.severity == 0 {
		if c := replicaFailure(rs); c != nil {
			r.Cause = c.Reason + ": " + oneLine(c.Message)
		}
	}
	return r, is
}

// AssessJob judges a Job. A failed Job's cause is its condition reason
// (BackoffLimitExceeded, DeadlineExceeded, …) and the most recent failed
// pod, with its exit code: "BackoffLimitExceeded: pod migrate-x7k: container
// "migrate" failed, exit code 2: …".
func AssessJob(j *Job, pods []Pod, events []Event) Result {
	r, _ := assessJob(j, pods, events)
	return r
}

func assessJob(j *Job, pods []Pod, events []Event) (Result, podIssue) {
	r := Result{Ref: ref("batch", "Job", &j.ObjectMeta)}
	r.Status, r.Message = jobStatus(j)
	r, is := withPodCause(r, "Job", &j.ObjectMeta, pods, events)
	if c := jobFailed(j); c != nil && c.Reason != "" {
		switch {
		case is.severity > 0:
			r.Cause = c.Reason + ": " + r.Cause
		case r.Cause != "":
			// The Job's own event (often the same reason) already says it.
		default:
			r.Cause = c.Reason
		}
	}
	return r, is
}

// AssessPod judges a Pod; its cause is PodCause.
func AssessPod(p *Pod, events []Event) Result {
	r, _ := assessPod(p, events)
	return r
}

func assessPod(p *Pod, events []Event) (Result, podIssue) {
	r := Result{Ref: ref("", "Pod", &p.ObjectMeta)}
	r.Status, r.Message = podStatus(p)
	if !unhealthy(r.Status) {
		return r, podIssue{}
	}
	is := diagnosePod(p, events)
	r.Cause = is.text
	return r, is
}

// AssessPVC judges a PersistentVolumeClaim. A Pending or Lost claim's cause
// is its latest event of any type, since WaitForFirstConsumer is Normal:
// "ProvisioningFailed: storageclass.storage.k8s.io "fast" not found".
func AssessPVC(pvc *PersistentVolumeClaim, events []Event) Result {
	r := Result{Ref: ref("", "PersistentVolumeClaim", &pvc.ObjectMeta)}
	r.Status, r.Message = pvcStatus(pvc)
	if unhealthy(r.Status) {
		if evs := eventsFor(events, "PersistentVolumeClaim", pvc.Name, pvc.UID); len(evs) > 0 {
			e := evs[0]
			r.Cause = e.Reason + ": " + oneLine(e.Message) + times(e.Count)
		}
	}
	return r
}

// AssessService judges a Service: a LoadBalancer without an ingress address
// is Progressing; its cause is its latest Warning event.
func AssessService(s *Service, events []Event) Result {
	r := Result{Ref: ref("", "Service", &s.ObjectMeta)}
	r.Status, r.Message = serviceStatus(s)
	return withOwnEvent(r, "Service", &s.ObjectMeta, events)
}

// AssessIngress judges an Ingress: without a load balancer address it is
// Progressing.
func AssessIngress(i *Ingress, events []Event) Result {
	r := Result{Ref: ref("networking.k8s.io", "Ingress", &i.ObjectMeta)}
	r.Status, r.Message = ingressStatus(i)
	return withOwnEvent(r, "Ingress", &i.ObjectMeta, events)
}

// AssessHPA judges an autoscaling/v2 HorizontalPodAutoscaler by its
// conditions, as gitops-engine does.
func AssessHPA(h *HorizontalPodAutoscaler, events []Event) Result {
	r := Result{Ref: ref("autoscaling", "HorizontalPodAutoscaler", &h.ObjectMeta)}
	r.Status, r.Message = hpaStatus(h)
	return withOwnEvent(r, "HorizontalPodAutoscaler", &h.ObjectMeta, events)
}

func withPodCause(r Result, kind string, m *ObjectMeta, pods []Pod, events []Event) (Result, podIssue) {
	if !unhealthy(r.Status) {
		return r, podIssue{}
	}
	is, n := worstPod(owned(pods, kind, m), events)
	if is.severity > 0 {
		r.Cause = withOthers(is, n)
		return r, is
	}
	r.Cause = latestWarning(eventsFor(events, kind, m.Name, m.UID))
	return r, podIssue{}
}

func withOwnEvent(r Result, kind string, m *ObjectMeta, events []Event) Result {
	if unhealthy(r.Status) {
		r.Cause = latestWarning(eventsFor(events, kind, m.Name, m.UID))
	}
	return r
}

// owned returns the pods with an owner reference to the object, by name.
func owned(pods []Pod, kind string, owner *ObjectMeta) []*Pod {
	var out []*Pod
	for i := range pods {
		if ownedBy(pods[i].OwnerReferences, kind, owner) {
			out = append(out, &pods[i])
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func ownedBy(refs []metav1.OwnerReference, kind string, owner *ObjectMeta) bool {
	for _, o := range refs {
		if owner.UID != "" {
			if o.UID == owner.UID {
				return true
			}
			continue
		}
		if o.Kind == kind && o.Name == owner.Name {
			return true
		}
	}
	return false
}
