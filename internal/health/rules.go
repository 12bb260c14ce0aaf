package health

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/syncreport/syncreport/internal/argocd"
)

// The status functions below mirror gitops-engine pkg/health, including its
// messages, so a report reads like the Argo CD UI. Each returns the status
// and message of the object alone; the Assess* functions add the cause.

func pendingDeletion(m *metav1.ObjectMeta) bool { return m.DeletionTimestamp != nil }

func deploymentStatus(d *appsv1.Deployment) (string, string) {
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
	if c := deploymentCondition(st, appsv1.DeploymentProgressing); c != nil && c.Reason == "ProgressDeadlineExceeded" {
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

func deploymentCondition(st appsv1.DeploymentStatus, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	for i := range st.Conditions {
		if st.Conditions[i].Type == t {
			return &st.Conditions[i]
		}
	}
	return nil
}

func statefulSetStatus(s *appsv1.StatefulSet) (string, string) {
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
	if us.Type == appsv1.RollingUpdateStatefulSetStrategyType && us.RollingUpdate != nil &&
		s.Spec.Replicas != nil && us.RollingUpdate.Partition != nil {
		want := *s.Spec.Replicas - *us.RollingUpdate.Partition
		if st.UpdatedReplicas < want {
			return StatusProgressing, fmt.Sprintf("Waiting for partitioned roll out to finish: %d out of %d new pods have been updated...", st.UpdatedReplicas, want)
		}
		return StatusHealthy, fmt.Sprintf("partitioned roll out complete: %d new pods have been updated...", st.UpdatedReplicas)
	}
	if us.Type == appsv1.OnDeleteStatefulSetStrategyType {
		return StatusHealthy, fmt.Sprintf("statefulset has %d ready pods", st.ReadyReplicas)
	}
	if st.UpdateRevision != st.CurrentRevision {
		return StatusProgressing, fmt.Sprintf("waiting for statefulset rolling update to complete %d pods at revision %s...", st.UpdatedReplicas, st.UpdateRevision)
	}
	return StatusHealthy, fmt.Sprintf("statefulset rolling update complete %d pods at revision %s...", st.CurrentReplicas, st.CurrentRevision)
}

func daemonSetStatus(ds *appsv1.DaemonSet) (string, string) {
	if pendingDeletion(&ds.ObjectMeta) {
		return StatusProgressing, "Pending deletion"
	}
	st := ds.Status
	if ds.Generation > st.ObservedGeneration {
		return StatusProgressing, "Waiting for rollout to finish: observed daemon set generation less than desired generation"
	}
	if ds.Spec.UpdateStrategy.Type == appsv1.OnDeleteDaemonSetStrategyType {
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

func replicaSetStatus(rs *appsv1.ReplicaSet) (string, string) {
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
func replicaFailure(rs *appsv1.ReplicaSet) *appsv1.ReplicaSetCondition {
	for i := range rs.Status.Conditions {
		c := &rs.Status.Conditions[i]
		if c.Type == appsv1.ReplicaSetReplicaFailure && c.Status == corev1.ConditionTrue {
			return c
		}
	}
	return nil
}

// podStatus follows gitops-engine: a waiting reason that looks like an
// error makes a restartPolicy=Always pod Degraded at once; pods that run to
// completion (hooks) are judged by phase only, so a hook is not failed
// while an image pull is merely retrying.
func podStatus(p *corev1.Pod) (string, string) {
	if pendingDeletion(&p.ObjectMeta) {
		return StatusProgressing, "Pending deletion"
	}
	if p.Spec.RestartPolicy == corev1.RestartPolicyAlways || p.Spec.RestartPolicy == "" {
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
	case corev1.PodPending:
		return StatusProgressing, p.Status.Message
	case corev1.PodSucceeded:
		return StatusHealthy, p.Status.Message
	case corev1.PodFailed:
		if p.Status.Message != "" {
			return StatusDegraded, p.Status.Message
		}
		for _, cs := range append(append([]corev1.ContainerStatus(nil), p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
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
	case corev1.PodRunning:
		switch p.Spec.RestartPolicy {
		case corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever:
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

func podReady(p *corev1.Pod) bool {
	c := podCondition(p, corev1.PodReady)
	return c != nil && c.Status == corev1.ConditionTrue
}

func podCondition(p *corev1.Pod, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == t {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

func jobStatus(j *batchv1.Job) (string, string) {
	if pendingDeletion(&j.ObjectMeta) {
		return StatusProgressing, "Pending deletion"
	}
	if c := jobFailed(j); c != nil {
		return StatusDegraded, c.Message
	}
	var suspended bool
	var msg string
	for _, c := range j.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			return StatusHealthy, c.Message
		case batchv1.JobSuspended:
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

func jobFailed(j *batchv1.Job) *batchv1.JobCondition {
	for i := range j.Status.Conditions {
		c := &j.Status.Conditions[i]
		if c.Type == batchv1.JobFailed && c.Status == corev1.ConditionTrue {
			return c
		}
	}
	return nil
}

func pvcStatus(pvc *corev1.PersistentVolumeClaim) (string, string) {
	if pendingDeletion(&pvc.ObjectMeta) {
		return StatusProgressing, "Pending deletion"
	}
	switch pvc.Status.Phase {
	case corev1.ClaimBound:
		return StatusHealthy, ""
	case corev1.ClaimPending:
		return StatusProgressing, ""
	case corev1.ClaimLost:
		return StatusDegraded, ""
	}
	return StatusUnknown, ""
}

func serviceStatus(s *corev1.Service) (string, string) {
	if pendingDeletion(&s.ObjectMeta) {
		return StatusProgressing, "Pending deletion"
	}
	if s.Spec.Type == corev1.ServiceTypeLoadBalancer && len(s.Status.LoadBalancer.Ingress) == 0 {
		return StatusProgressing, ""
	}
	return StatusHealthy, ""
}

func ingressStatus(i *networkingv1.Ingress) (string, string) {
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
func hpaStatus(h *autoscalingv2.HorizontalPodAutoscaler) (string, string) {
	if pendingDeletion(&h.ObjectMeta) {
		return StatusProgressing, "Pending deletion"
	}
	status, msg := StatusProgressing, "Waiting to Autoscale"
	for _, c := range h.Status.Conditions {
		switch {
		case (c.Type == autoscalingv2.AbleToScale || c.Type == autoscalingv2.ScalingActive) && c.Status == corev1.ConditionFalse:
			return StatusDegraded, c.Message
		case (c.Type == autoscalingv2.AbleToScale || c.Type == autoscalingv2.ScalingLimited) && c.Status == corev1.ConditionTrue:
			status, msg = StatusHealthy, c.Message
		}
	}
	return status, msg
}

func ref(group, kind string, m *metav1.ObjectMeta) argocd.Ref {
	return argocd.Ref{Group: group, Kind: kind, Namespace: m.Namespace, Name: m.Name}
}
