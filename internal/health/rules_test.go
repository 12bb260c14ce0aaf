package health

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func ptr[T any](v T) *T { return &v }

func meta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: "shop", UID: types.UID("uid-" + name), Generation: 1}
}

type want struct{ status, message string }

func check(t *testing.T, got Result, w want) {
	t.Helper()
	if got.Status != w.status || got.Message != w.message {
		t.Errorf("got %s %q, want %s %q", got.Status, got.Message, w.status, w.message)
	}
}

func healthyDeployment() *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: meta("web"),
		Spec:       appsv1.DeploymentSpec{Replicas: ptr(int32(3))},
		Status: appsv1.DeploymentStatus{
			ObservedGeneration: 1, Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 3, AvailableReplicas: 3,
		},
	}
}

func TestDeploymentStatus(t *testing.T) {
	for _, tc := range []struct {
		name string
		mut  func(*appsv1.Deployment)
		want want
	}{
		{"healthy", func(*appsv1.Deployment) {}, want{StatusHealthy, ""}},
		{"paused", func(d *appsv1.Deployment) { d.Spec.Paused = true; d.Status.UpdatedReplicas = 0 },
			want{StatusSuspended, "Deployment is paused"}},
		{"observedGeneration behind", func(d *appsv1.Deployment) { d.Generation = 2 },
			want{StatusProgressing, "Waiting for rollout to finish: observed deployment generation less than desired generation"}},
		{"progress deadline exceeded", func(d *appsv1.Deployment) {
			d.Status.UpdatedReplicas = 1
			d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded"}}
		}, want{StatusDegraded, `Deployment "web" exceeded its progress deadline`}},
		{"deadline condition ignored while generation is behind", func(d *appsv1.Deployment) {
			d.Generation = 2
			d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Reason: "ProgressDeadlineExceeded"}}
		}, want{StatusProgressing, "Waiting for rollout to finish: observed deployment generation less than desired generation"}},
		{"maxSurge 1 maxUnavailable 0: first new pod surging", func(d *appsv1.Deployment) {
			d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxSurge: ptr(intstr.FromInt32(1)), MaxUnavailable: ptr(intstr.FromInt32(0))}
			d.Status.Replicas, d.Status.UpdatedReplicas, d.Status.AvailableReplicas = 4, 1, 3
		}, want{StatusProgressing, "Waiting for rollout to finish: 1 out of 3 new replicas have been updated..."}},
		{"surge: all updated, old pod still terminating", func(d *appsv1.Deployment) {
			d.Status.Replicas, d.Status.UpdatedReplicas, d.Status.AvailableReplicas = 4, 3, 3
		}, want{StatusProgressing, "Waiting for rollout to finish: 1 old replicas are pending termination..."}},
		{"maxUnavailable: updated but not yet available", func(d *appsv1.Deployment) {
			d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxUnavailable: ptr(intstr.FromString("50%"))}
			d.Status.AvailableReplicas = 2
		}, want{StatusProgressing, "Waiting for rollout to finish: 2 of 3 updated replicas are available..."}},
		{"scaled to zero", func(d *appsv1.Deployment) {
			d.Spec.Replicas = ptr(int32(0))
			d.Status = appsv1.DeploymentStatus{ObservedGeneration: 1}
		}, want{StatusHealthy, ""}},
		{"pending deletion", func(d *appsv1.Deployment) { d.DeletionTimestamp = &metav1.Time{} },
			want{StatusProgressing, "Pending deletion"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := healthyDeployment()
			tc.mut(d)
			check(t, AssessDeployment(d, nil, nil, nil), tc.want)
		})
	}
}

func TestStatefulSetStatus(t *testing.T) {
	base := func() *appsv1.StatefulSet {
		return &appsv1.StatefulSet{
			ObjectMeta: meta("db"),
			Spec: appsv1.StatefulSetSpec{Replicas: ptr(int32(3)), UpdateStrategy: appsv1.StatefulSetUpdateStrategy{
				Type: appsv1.RollingUpdateStatefulSetStrategyType,
			}},
			Status: appsv1.StatefulSetStatus{
				ObservedGeneration: 1, Replicas: 3, ReadyReplicas: 3, CurrentReplicas: 3, UpdatedReplicas: 3,
				CurrentRevision: "db-1", UpdateRevision: "db-1",
			},
		}
	}
	for _, tc := range []struct {
		name string
		mut  func(*appsv1.StatefulSet)
		want want
	}{
		{"healthy", func(*appsv1.StatefulSet) {}, want{StatusHealthy, "statefulset rolling update complete 3 pods at revision db-1..."}},
		{"never observed", func(s *appsv1.StatefulSet) { s.Status.ObservedGeneration = 0 },
			want{StatusProgressing, "Waiting for statefulset spec update to be observed..."}},
		{"generation behind", func(s *appsv1.StatefulSet) { s.Generation = 3 },
			want{StatusProgressing, "Waiting for statefulset spec update to be observed..."}},
		{"not ready", func(s *appsv1.StatefulSet) { s.Status.ReadyReplicas = 1 },
			want{StatusProgressing, "Waiting for 2 pods to be ready..."}},
		{"partition: rollout not reached", func(s *appsv1.StatefulSet) {
			s.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr(int32(1))}
			s.Status.UpdatedReplicas, s.Status.UpdateRevision = 1, "db-2"
		}, want{StatusProgressing, "Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated..."}},
		{"partition: done although revisions differ", func(s *appsv1.StatefulSet) {
			s.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr(int32(2))}
			s.Status.UpdatedReplicas, s.Status.UpdateRevision = 1, "db-2"
		}, want{StatusHealthy, "partitioned roll out complete: 1 new pods have been updated..."}},
		{"OnDelete: healthy with old revisions", func(s *appsv1.StatefulSet) {
			s.Spec.UpdateStrategy.Type = appsv1.OnDeleteStatefulSetStrategyType
			s.Status.UpdatedReplicas, s.Status.UpdateRevision = 0, "db-2"
		}, want{StatusHealthy, "statefulset has 3 ready pods"}},
		{"rolling update in progress", func(s *appsv1.StatefulSet) {
			s.Status.UpdatedReplicas, s.Status.UpdateRevision = 2, "db-2"
		}, want{StatusProgressing, "waiting for statefulset rolling update to complete 2 pods at revision db-2..."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := base()
			tc.mut(s)
			check(t, AssessStatefulSet(s, nil, nil), tc.want)
		})
	}
}

func TestDaemonSetStatus(t *testing.T) {
	base := func() *appsv1.DaemonSet {
		return &appsv1.DaemonSet{
			ObjectMeta: meta("agent"),
			Status: appsv1.DaemonSetStatus{
				ObservedGeneration: 1, DesiredNumberScheduled: 3, UpdatedNumberScheduled: 3, NumberAvailable: 3, NumberReady: 3,
			},
		}
	}
	for _, tc := range []struct {
		name string
		mut  func(*appsv1.DaemonSet)
		want want
	}{
		{"healthy", func(*appsv1.DaemonSet) {}, want{StatusHealthy, ""}},
		{"generation behind", func(d *appsv1.DaemonSet) { d.Generation = 2 },
			want{StatusProgressing, "Waiting for rollout to finish: observed daemon set generation less than desired generation"}},
		{"OnDelete: healthy although not updated", func(d *appsv1.DaemonSet) {
			d.Spec.UpdateStrategy.Type = appsv1.OnDeleteDaemonSetStrategyType
			d.Status.UpdatedNumberScheduled, d.Status.NumberAvailable = 1, 2
		}, want{StatusHealthy, "daemon set 1 out of 3 new pods have been updated"}},
		{"not updated", func(d *appsv1.DaemonSet) { d.Status.UpdatedNumberScheduled = 2 },
			want{StatusProgressing, `Waiting for daemon set "agent" rollout to finish: 2 out of 3 new pods have been updated...`}},
		{"not available", func(d *appsv1.DaemonSet) { d.Status.NumberAvailable = 1 },
			want{StatusProgressing, `Waiting for daemon set "agent" rollout to finish: 1 of 3 updated pods are available...`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := base()
			tc.mut(d)
			check(t, AssessDaemonSet(d, nil, nil), tc.want)
		})
	}
}

func TestReplicaSetStatus(t *testing.T) {
	base := func() *appsv1.ReplicaSet {
		return &appsv1.ReplicaSet{
			ObjectMeta: meta("web-1"),
			Spec:       appsv1.ReplicaSetSpec{Replicas: ptr(int32(2))},
			Status:     appsv1.ReplicaSetStatus{ObservedGeneration: 1, Replicas: 2, AvailableReplicas: 2},
		}
	}
	for _, tc := range []struct {
		name string
		mut  func(*appsv1.ReplicaSet)
		want want
	}{
		{"healthy", func(*appsv1.ReplicaSet) {}, want{StatusHealthy, ""}},
		{"generation behind", func(r *appsv1.ReplicaSet) { r.Generation = 2 },
			want{StatusProgressing, "Waiting for rollout to finish: observed replica set generation less than desired generation"}},
		{"replica failure", func(r *appsv1.ReplicaSet) {
			r.Status.Conditions = []appsv1.ReplicaSetCondition{{Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue, Reason: "FailedCreate", Message: "pods \"web-1-x\" is forbidden: exceeded quota"}}
		}, want{StatusDegraded, "pods \"web-1-x\" is forbidden: exceeded quota"}},
		{"replica failure cleared", func(r *appsv1.ReplicaSet) {
			r.Status.Conditions = []appsv1.ReplicaSetCondition{{Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionFalse}}
		}, want{StatusHealthy, ""}},
		{"not available", func(r *appsv1.ReplicaSet) { r.Status.AvailableReplicas = 1 },
			want{StatusProgressing, "Waiting for rollout to finish: 1 out of 2 new replicas are available..."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := base()
			tc.mut(r)
			check(t, AssessReplicaSet(r, nil, nil), tc.want)
		})
	}
}

func TestPodStatus(t *testing.T) {
	waiting := func(reason, msg string) corev1.ContainerStatus {
		return corev1.ContainerStatus{Name: "app", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}}
	}
	ready := []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	for _, tc := range []struct {
		name string
		pod  corev1.Pod
		want want
	}{
		{"pending", corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodPending}}, want{StatusProgressing, ""}},
		{"succeeded", corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodSucceeded}}, want{StatusHealthy, ""}},
		{"failed with pod message", corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodFailed, Reason: "Evicted", Message: "The node was low on resource: memory."}},
			want{StatusDegraded, "The node was low on resource: memory."}},
		{"failed with exit code", corev1.Pod{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever}, Status: corev1.PodStatus{Phase: corev1.PodFailed,
			ContainerStatuses: []corev1.ContainerStatus{{Name: "main", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 2}}}}}},
			want{StatusDegraded, `container "main" failed with exit code 2`}},
		{"failed OOMKilled", corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodFailed,
			ContainerStatuses: []corev1.ContainerStatus{{Name: "main", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled"}}}}}},
			want{StatusDegraded, "OOMKilled"}},
		{"running ready", corev1.Pod{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyAlways}, Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: ready}},
			want{StatusHealthy, ""}},
		{"running not ready after a crash", corev1.Pod{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyAlways}, Status: corev1.PodStatus{Phase: corev1.PodRunning,
			ContainerStatuses: []corev1.ContainerStatus{{Name: "app", LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1}}}}}},
			want{StatusDegraded, ""}},
		{"running not ready yet", corev1.Pod{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyAlways}, Status: corev1.PodStatus{Phase: corev1.PodRunning}},
			want{StatusProgressing, ""}},
		{"running hook pod", corev1.Pod{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever}, Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: ready}},
			want{StatusProgressing, ""}},
		{"CrashLoopBackOff", corev1.Pod{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyAlways}, Status: corev1.PodStatus{Phase: corev1.PodRunning,
			ContainerStatuses: []corev1.ContainerStatus{waiting("CrashLoopBackOff", "back-off 40s restarting failed container")}}},
			want{StatusDegraded, "back-off 40s restarting failed container"}},
		{"ImagePullBackOff", corev1.Pod{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyAlways}, Status: corev1.PodStatus{Phase: corev1.PodPending,
			ContainerStatuses: []corev1.ContainerStatus{waiting("ImagePullBackOff", `Back-off pulling image "x"`)}}},
			want{StatusDegraded, `Back-off pulling image "x"`}},
		{"ErrImagePull", corev1.Pod{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyAlways}, Status: corev1.PodStatus{Phase: corev1.PodPending,
			ContainerStatuses: []corev1.ContainerStatus{waiting("ErrImagePull", "not found")}}},
			want{StatusDegraded, "not found"}},
		{"CreateContainerConfigError", corev1.Pod{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyAlways}, Status: corev1.PodStatus{Phase: corev1.PodPending,
			ContainerStatuses: []corev1.ContainerStatus{waiting("CreateContainerConfigError", `configmap "x" not found`)}}},
			want{StatusDegraded, `configmap "x" not found`}},
		{"InvalidImageName", corev1.Pod{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyAlways}, Status: corev1.PodStatus{Phase: corev1.PodPending,
			ContainerStatuses: []corev1.ContainerStatus{waiting("InvalidImageName", "bad")}}},
			want{StatusDegraded, "bad"}},
		{"ContainerCreating is progress", corev1.Pod{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyAlways}, Status: corev1.PodStatus{Phase: corev1.PodPending,
			ContainerStatuses: []corev1.ContainerStatus{waiting("ContainerCreating", "")}}},
			want{StatusProgressing, ""}},
		{"hook pod pulling image is judged by phase", corev1.Pod{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever}, Status: corev1.PodStatus{Phase: corev1.PodPending,
			ContainerStatuses: []corev1.ContainerStatus{waiting("ImagePullBackOff", "x")}}},
			want{StatusProgressing, ""}},
		{"unknown phase", corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodUnknown}}, want{StatusUnknown, ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.pod.ObjectMeta = meta("web-1-a")
			check(t, AssessPod(&tc.pod, nil), tc.want)
		})
	}
}

func TestJobStatus(t *testing.T) {
	cond := func(typ batchv1.JobConditionType, status corev1.ConditionStatus, reason, msg string) []batchv1.JobCondition {
		return []batchv1.JobCondition{{Type: typ, Status: status, Reason: reason, Message: msg}}
	}
	for _, tc := range []struct {
		name string
		job  batchv1.Job
		want want
	}{
		{"running", batchv1.Job{Status: batchv1.JobStatus{Active: 1}}, want{StatusProgressing, ""}},
		{"complete", batchv1.Job{Status: batchv1.JobStatus{Conditions: cond(batchv1.JobComplete, corev1.ConditionTrue, "", "")}}, want{StatusHealthy, ""}},
		{"suspended by spec before the controller noticed", batchv1.Job{Spec: batchv1.JobSpec{Suspend: ptr(true)}}, want{StatusSuspended, "Job suspended"}},
		{"suspended condition", batchv1.Job{Spec: batchv1.JobSpec{Suspend: ptr(true)}, Status: batchv1.JobStatus{Conditions: cond(batchv1.JobSuspended, corev1.ConditionTrue, "JobSuspended", "Job suspended")}},
			want{StatusSuspended, "Job suspended"}},
		{"resumed", batchv1.Job{Spec: batchv1.JobSpec{Suspend: ptr(false)}, Status: batchv1.JobStatus{Conditions: cond(batchv1.JobSuspended, corev1.ConditionFalse, "JobResumed", "Job resumed")}},
			want{StatusProgressing, ""}},
		{"backoff limit", batchv1.Job{Status: batchv1.JobStatus{Conditions: cond(batchv1.JobFailed, corev1.ConditionTrue, "BackoffLimitExceeded", "Job has reached the specified backoff limit")}},
			want{StatusDegraded, "Job has reached the specified backoff limit"}},
		{"deadline", batchv1.Job{Status: batchv1.JobStatus{Conditions: cond(batchv1.JobFailed, corev1.ConditionTrue, "DeadlineExceeded", "Job was active longer than specified deadline")}},
			want{StatusDegraded, "Job was active longer than specified deadline"}},
		{"failed condition not true", batchv1.Job{Status: batchv1.JobStatus{Conditions: cond(batchv1.JobFailed, corev1.ConditionFalse, "", "")}}, want{StatusProgressing, ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.job.ObjectMeta = meta("migrate")
			check(t, AssessJob(&tc.job, nil, nil), tc.want)
		})
	}
}

func TestSimpleKinds(t *testing.T) {
	lb := corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: "10.0.0.1"}}}
	m := meta("x")
	for _, tc := range []struct {
		name string
		got  Result
		want want
	}{
		{"pvc bound", AssessPVC(&corev1.PersistentVolumeClaim{ObjectMeta: m, Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound}}, nil), want{StatusHealthy, ""}},
		{"pvc pending", AssessPVC(&corev1.PersistentVolumeClaim{ObjectMeta: m, Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending}}, nil), want{StatusProgressing, ""}},
		{"pvc lost", AssessPVC(&corev1.PersistentVolumeClaim{ObjectMeta: m, Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimLost}}, nil), want{StatusDegraded, ""}},
		{"pvc no phase", AssessPVC(&corev1.PersistentVolumeClaim{ObjectMeta: m}, nil), want{StatusUnknown, ""}},
		{"service ClusterIP", AssessService(&corev1.Service{ObjectMeta: m}, nil), want{StatusHealthy, ""}},
		{"service LoadBalancer pending", AssessService(&corev1.Service{ObjectMeta: m, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer}}, nil), want{StatusProgressing, ""}},
		{"service LoadBalancer assigned", AssessService(&corev1.Service{ObjectMeta: m, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer}, Status: corev1.ServiceStatus{LoadBalancer: lb}}, nil), want{StatusHealthy, ""}},
		{"ingress pending", AssessIngress(&networkingv1.Ingress{ObjectMeta: m}, nil), want{StatusProgressing, ""}},
		{"ingress assigned", AssessIngress(&networkingv1.Ingress{ObjectMeta: m, Status: networkingv1.IngressStatus{LoadBalancer: networkingv1.IngressLoadBalancerStatus{
			Ingress: []networkingv1.IngressLoadBalancerIngress{{Hostname: "lb.example.com"}}}}}, nil), want{StatusHealthy, ""}},
	} {
		t.Run(tc.name, func(t *testing.T) { check(t, tc.got, tc.want) })
	}
}

func TestHPAStatus(t *testing.T) {
	c := func(typ autoscalingv2.HorizontalPodAutoscalerConditionType, status corev1.ConditionStatus, msg string) autoscalingv2.HorizontalPodAutoscalerCondition {
		return autoscalingv2.HorizontalPodAutoscalerCondition{Type: typ, Status: status, Message: msg}
	}
	for _, tc := range []struct {
		name  string
		conds []autoscalingv2.HorizontalPodAutoscalerCondition
		want  want
	}{
		{"no conditions", nil, want{StatusProgressing, "Waiting to Autoscale"}},
		{"able to scale", []autoscalingv2.HorizontalPodAutoscalerCondition{
			c(autoscalingv2.AbleToScale, corev1.ConditionTrue, "recommended size matches current size"),
			c(autoscalingv2.ScalingActive, corev1.ConditionTrue, "valid metric"),
		}, want{StatusHealthy, "recommended size matches current size"}},
		{"scaling limited", []autoscalingv2.HorizontalPodAutoscalerCondition{
			c(autoscalingv2.ScalingLimited, corev1.ConditionTrue, "too many replicas"),
		}, want{StatusHealthy, "too many replicas"}},
		{"metrics missing", []autoscalingv2.HorizontalPodAutoscalerCondition{
			c(autoscalingv2.AbleToScale, corev1.ConditionTrue, "ok"),
			c(autoscalingv2.ScalingActive, corev1.ConditionFalse, "the HPA was unable to compute the replica count: failed to get cpu utilization"),
		}, want{StatusDegraded, "the HPA was unable to compute the replica count: failed to get cpu utilization"}},
		{"cannot scale", []autoscalingv2.HorizontalPodAutoscalerCondition{
			c(autoscalingv2.AbleToScale, corev1.ConditionFalse, "failed to get scale"),
		}, want{StatusDegraded, "failed to get scale"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: meta("web"), Status: autoscalingv2.HorizontalPodAutoscalerStatus{Conditions: tc.conds}}
			check(t, AssessHPA(h, nil), tc.want)
		})
	}
}

func TestRank(t *testing.T) {
	order := []string{StatusDegraded, StatusMissing, StatusProgressing, StatusSuspended, StatusUnknown, StatusHealthy}
	for i := 1; i < len(order); i++ {
		if rank(order[i-1]) >= rank(order[i]) {
			t.Errorf("%s should rank before %s", order[i-1], order[i])
		}
	}
}
