package health

import (
	"fmt"
	"strings"

	"github.com/syncreport/syncreport/internal/argocd"
)

// The status functions below mirror gitops-engine pkg/health, including its
// messages, so a report reads like the Argo CD UI. Each returns the status
// and message of the object alone; the Assess* functions add the cause.

func pendingDeletion(m *ObjectMeta) bool { return m.DeletionTimestamp != nil }

func deploymentStatus(d *Deployment) (string, string) {
	if pendingDeletion(&d.ObjectMeta) {
		return StatusProgressing, "Pending deletion"
	}
	if d.Spec.Paused {
		return StatusSuspended, "Deployment is paused"
	}
	// kubectl rollout status semantics:
	// https://github.com/kubernetes/kubectl/blob/master/pkg/polymorphichelpers/rollout_status.go
	st := d.Status
	if d.Generation > st.ObservedGeneration {
		return StatusProgressing, "Waiting for rollout to finish: observed deployment generation less than desired generation"
	}
	if c := deploymentCondition(st, "Progressing"); c != nil && c.Reason == "ProgressDeadlineExceeded" {
		return StatusDegraded, fmt.Sprintf("Deployment %q exceeded its progress deadline", d.Name)
	}
	if d.Spec.Replicas != nil && st.UpdatedReplicas < *d.Spec.Replicas {
		return StatusProgressing, fmt.Sprintf("Waiting for rollout to finish: %d out of %d new replicas have been updated...", st.UpdatedReplicas, *d.Spec.Replicas)
	}
	if st.Replicas > st.UpdatedReplicas {
		return StatusProgressing, fmt.Sprintf("Waiting for rollout to finish: %d old replicas are pending termination...", st.Replicas-st.UpdatedReplicas)
	}
	if st.AvailableReplicas < st.UpdatedReplicas {
		return StatusProgressing, fmt.Sprintf("Waiting for rollout to finish: %d of %d updated replicas are available...", st.AvailableReplicas, st.UpdatedReplicas)
	}
	return StatusHealthy, ""
}

func deploymentCondition(st DeploymentStatus, t string) *Condition {
	for i := range st.Conditions {
		if st.Conditions[i].Type == t {
			return &st.Conditions[i]
		}
	}
	return nil
}

func statefulSetStatus(s *StatefulSet) (string, string) {
	if pendingDeletion(&s.ObjectMeta) {
		return StatusProgressing, "Pending deletion"
	}
	st := s.Status
	if st.ObservedGeneration == 0 || s.Generation > st.ObservedGeneration {
		return StatusProgressing, "Waiting for statefulset spec update to be observed..."
	}
	if s.Spec.Replicas != nil && st.ReadyReplicas < *s.Spec.Replicas {
		return StatusProgressing, fmt.Sprintf("Waiting for %d pods to be ready...", *s.Spec.Replicas-st.ReadyReplicas)
	}
	us := s.Spec.UpdateStrategy
	if us.Type == "RollingUpdate" && us.RollingUpdate != nil &&
		s.Spec.Replicas != nil && us.RollingUpdate.Partition != nil {
		want := *s.Spec.Replicas - *us.RollingUpdate.Partition
		if st.UpdatedReplicas < want {
			return StatusProgressing, fmt.Sprintf("Waiting for partitioned roll out to finish: %d out of %d new pods have been updated...", st.UpdatedReplicas, want)
		}
		return StatusHealthy, fmt.Sprintf("partitioned roll out complete: %d new pods have been updated...", st.UpdatedReplicas)
	}
	if us.Type == "OnDelete" {
		return StatusHealthy, fmt.Sprintf("statefulset has %d ready pods", st.ReadyReplicas)
	}
	if st.UpdateRevision != st.CurrentRevision {
		return StatusProgressing, fmt.Sprintf("waiting for statefulset rolling update to complete %d pods at revision %s...", st.UpdatedReplicas, st.UpdateRevision)
	}
	return StatusHealthy, fmt.Sprintf("statefulset rolling update complete %d pods at revision %s...", st.CurrentReplicas, st.CurrentRevision)
}

func daemonSetStatus(ds *DaemonSet) (string, string) {
	if pendingDeletion(&ds.ObjectMeta) {
		return StatusProgressing, "Pending deletion"
	}
	st := ds.Status
	if ds.Generation > st.ObservedGeneration {
		return StatusProgressing, "Waiting for rollout to finish: observed daemon set generation less than desired generation"
	}
	if ds.Spec.UpdateStrategy.Type == "OnDelete" {
		return StatusHealthy, fmt.Sprintf("daemon set %d out of %d new pods have been updated", st.UpdatedNumberScheduled, st.DesiredNumberScheduled)
	}
	if st.UpdatedNumberScheduled < st.DesiredNumberScheduled {
		return StatusProgressing, fmt.Sprintf("Waiting for daemon set %q rollout to finish: %d out of %d new pods have been updated...", ds.Name, st.UpdatedNumberScheduled, st.DesiredNumberScheduled)
	}
	if st.NumberAvailable < st.DesiredNumberScheduled {
		return StatusProgressing, fmt.Sprintf("Waiting for daemon set %q rollout to finish: %d of %d updated pods are available...", ds.Name, st.NumberAvailable, st.DesiredNumberScheduled)
	}
	return StatusHealthy, ""
}

func replicaSetStatus(rs *ReplicaSet) (string, string) {
	if pendingDeletion(&rs.ObjectMeta) {
		return StatusProgressing, "Pending deletion"
	}
	st := rs.Status
	if rs.Generation > st.ObservedGeneration {
		return StatusProgressing, "Waiting for rollout to finish: observed replica set generation less than desired generation"
	}
	if c := replicaFailure(rs); c != nil {
		return StatusDegraded, c.Message
	}
	if rs.Spec.Replicas != nil && st.AvailableReplicas < *rs.Spec.Replicas {
		return StatusProgressing, fmt.Sprintf("Waiting for rollout to finish: %d out of %d new replicas are available...", st.AvailableReplicas, *rs.Spec.Replicas)
	}
	return StatusHealthy, ""
}

// replicaFailure returns the ReplicaFailure condition when it is True: the
// controller could not create pods (quota, PodSecurity, admission webhooks).
func replicaFailure(rs *ReplicaSet) *Condition {
	for i := range rs.Status.Conditions {
		c := &rs.Status.Conditions[i]
		if c.Type == "ReplicaFailure" && c.Status == conditionTrue {
			return c
		}
	}
	return nil
}

// podStatus follows gitops-engine: a waiting reason that looks like an
// error makes a restartPolicy=Always pod Degraded at once; pods that run to
// completion (hooks) are judged by phase only, so a hook is not failed
// while an image pull is merely retrying.
func podStatus(p *Pod) (string, string) {
	if pendingDeletion(&p.ObjectMeta) {
		return StatusProgressing, "Pending deletion"
	}
	if p.Spec.RestartPolicy == restartAlways || p.Spec.RestartPolicy == "" {
		var msgs []string
		for _, cs := range p.Status.ContainerStatuses {
			if w := cs.State.Waiting; w != nil && errorWaitingReason(w.Reason) {
				msgs = append(msgs, w.Message)
			}
		}
		if len(msgs) > 0 {
			return StatusDegraded, strings.Join(msgs, ", ")
		}
	}
	switch p.Status.Phase {
	case podPending:
		return StatusProgressing, p.Status.Message
	case podSucceeded:
		return StatusHealthy, p.Status.Message
	case podFailed:
		if p.Status.Message != "" {
			return StatusDegraded, p.Status.Message
		}
		for _, cs := range append(append([]ContainerStatus(nil), p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
			if t := cs.State.Terminated; t != nil {
				switch {
				case t.Message != "":
					return StatusDegraded, t.Message
				case t.Reason == "OOMKilled":
					return StatusDegraded, t.Reason
				case t.ExitCode != 0:
					return StatusDegraded, fmt.Sprintf("container %q failed with exit code %d", cs.Name, t.ExitCode)
				}
			}
		}
		return StatusDegraded, ""
	case podRunning:
		switch p.Spec.RestartPolicy {
		case restartOnFailure, restartNever:
			// Pods with a finite life are usually hooks: running is progress.
			return StatusProgressing, p.Status.Message
		}
		if podReady(p) {
			return StatusHealthy, p.Status.Message
		}
		for _, cs := range p.Status.ContainerStatuses {
			if cs.LastTerminationState.Terminated != nil {
				return StatusDegraded, p.Status.Message
			}
		}
		return StatusProgressing, p.Status.Message
	}
	return StatusUnknown, p.Status.Message
}

// errorWaitingReason is gitops-engine's test for a waiting reason that means
// trouble (ErrImagePull, CreateContainerConfigError, CrashLoopBackOff, …),
// plus InvalidImageName, which the kubelet never retries.
func errorWaitingReason(reason string) bool {
	return strings.HasPrefix(reason, "Err") || strings.HasSuffix(reason, "Error") ||
		strings.HasSuffix(reason, "BackOff") || reason == "InvalidImageName"
}

func podReady(p *Pod) bool {
	c := podCondition(p, podReadyCondition)
	return c != nil && c.Status == conditionTrue
}

func podCondition(p *Pod, t string) *Condition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == t {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

func jobStatus(j *Job) (string, string) {
	if pendingDeletion(&j.ObjectMeta) {
		return StatusProgressing, "Pending deletion"
	}
	if c := jobFailed(j); c != nil {
		return StatusDegraded, c.Message
	}
	var suspended bool
	var msg string
	for _, c := range j.Status.Conditions {
		if c.Status != conditionTrue {
			continue
		}
		switch c.Type {
		case "Complete":
			return StatusHealthy, c.Message
		case "Suspended":
			suspended, msg = true, c.Message
		}
	}
	// spec.suspend counts before the controller has written the condition.
	if suspended || (j.Spec.Suspend != nil && *j.Spec.Suspend) {
		if msg == "" {
			msg = "Job suspended"
		}
		return StatusSuspended, msg
	}
	return StatusProgressing, ""
}

func jobFailed(j *Job) *Condition {
	for i := range j.Status.Conditions {
		c := &j.Status.Conditions[i]
		if c.Type == "Failed" && c.Status == conditionTrue {
			return c
		}
	}
	return nil
}

func pvcStatus(pvc *PersistentVolumeClaim) (string, string) {
	if pendingDeletion(&pvc.ObjectMeta) {
		return StatusProgressing, "Pending deletion"
	}
	switch pvc.Status.Phase {
	case "Bound":
		return StatusHealthy, ""
	case "Pending":
		return StatusProgressing, ""
	case "Lost":
		return StatusDegraded, ""
	}
	return StatusUnknown, ""
}

func serviceStatus(s *Service) (string, string) {
	if pendingDeletion(&s.ObjectMeta) {
		return StatusProgressing, "Pending deletion"
	}
	if s.Spec.Type == "LoadBalancer" && len(s.Status.LoadBalancer.Ingress) == 0 {
		return StatusProgressing, ""
	}
	return StatusHealthy, ""
}

func ingressStatus(i *Ingress) (string, string) {
	if pendingDeletion(&i.ObjectMeta) {
		return StatusProgressing, "Pending deletion"
	}
	if len(i.Status.LoadBalancer.Ingress) == 0 {
		return StatusProgressing, ""
	}
	return StatusHealthy, ""
}

// hpaStatus follows gitops-engine: AbleToScale or ScalingActive False is
// Degraded; AbleToScale or ScalingLimited True is Healthy; anything else is
// "Waiting to Autoscale".
func hpaStatus(h *HorizontalPodAutoscaler) (string, string) {
	if pendingDeletion(&h.ObjectMeta) {
		return StatusProgressing, "Pending deletion"
	}
	status, msg := StatusProgressing, "Waiting to Autoscale"
	for _, c := range h.Status.Conditions {
		switch {
		case (c.Type == "AbleToScale" || c.Type == "ScalingActive") && c.Status == conditionFalse:
			return StatusDegraded, c.Message
		case (c.Type == "AbleToScale" || c.Type == "ScalingLimited") && c.Status == conditionTrue:
			status, msg = StatusHealthy, c.Message
		}
	}
	return status, msg
}

func ref(group, kind string, m *ObjectMeta) argocd.Ref {
	return argocd.Ref{Group: group, Kind: kind, Namespace: m.Namespace, Name: m.Name}
}
