package health

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func ptr[T any](v T) *T { return &v }

func meta(name string) ObjectMeta {
	return ObjectMeta{Name: name, Namespace: "shop", UID: types.UID("uid-" + name), Generation: 1}
}

type want struct{ status, message string }

func check(t *testing.T, got Result, w want) {
	t.Helper()
	if got.Status != w.status || got.Message != w.message {
		t.Errorf("got %s %q, want %s %q", got.Status, got.Message, w.status, w.message)
	}
}

func healthyDeployment() *Deployment {
	return &Deployment{
		ObjectMeta: meta("web"),
		Spec:       DeploymentSpec{Replicas: ptr(int32(3))},
		Status: DeploymentStatus{
			ObservedGeneration: 1, Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 3, AvailableReplicas: 3,
		},
	}
}

func TestDeploymentStatus(t *testing.T) {
	for _, tc := range []struct {
		name string
		mut  func(*Deployment)
		want want
	}{
		{"healthy", func(*Deployment) {}, want{StatusHealthy, ""}},
		{"paused", func(d *Deployment) { d.Spec.Paused = true; d.Status.UpdatedReplicas = 0 },
			want{StatusSuspended, "Deployment is paused"}},
		{"observedGeneration behind", func(d *Deployment) { d.Generation = 2 },
			want{StatusProgressing, "Waiting for rollout to finish: observed deployment generation less than desired generation"}},
		{"progress deadline exceeded", func(d *Deployment) {
			d.Status.UpdatedReplicas = 1
			d.Status.Conditions = []Condition{{Type: "Progressing", Status: conditionFalse, Reason: "ProgressDeadlineExceeded"}}
		}, want{StatusDegraded, `Deployment "web" exceeded its progress deadline`}},
		{"deadline condition ignored while generation is behind", func(d *Deployment) {
			d.Generation = 2
			d.Status.Conditions = []Condition{{Type: "Progressing", Reason: "ProgressDeadlineExceeded"}}
		}, want{StatusProgressing, "Waiting for rollout to finish: observed deployment generation less than desired generation"}},
		{"maxSurge 1 maxUnavailable 0: first new pod surging", func(d *Deployment) {
			// The strategy is not read: the status counts carry its effect.
			d.Status.Replicas, d.Status.UpdatedReplicas, d.Status.AvailableReplicas = 4, 1, 3
		}, want{StatusProgressing, "Waiting for rollout to finish: 1 out of 3 new replicas have been updated..."}},
		{"surge: all updated, old pod still terminating", func(d *Deployment) {
			d.Status.Replicas, d.Status.UpdatedReplicas, d.Status.AvailableReplicas = 4, 3, 3
		}, want{StatusProgressing, "Waiting for rollout to finish: 1 old replicas are pending termination..."}},
		{"maxUnavailable: updated but not yet available", func(d *Deployment) {
			d.Status.AvailableReplicas = 2
		}, want{StatusProgressing, "Waiting for rollout to finish: 2 of 3 updated replicas are available..."}},
		{"scaled to zero", func(d *Deployment) {
			d.Spec.Replicas = ptr(int32(0))
			d.Status = DeploymentStatus{ObservedGeneration: 1}
		}, want{StatusHealthy, ""}},
		{"pending deletion", func(d *Deployment) { d.DeletionTimestamp = &metav1.Time{} },
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
	base := func() *StatefulSet {
		return &StatefulSet{
			ObjectMeta: meta("db"),
			Spec: StatefulSetSpec{Replicas: ptr(int32(3)), UpdateStrategy: StatefulSetUpdateStrategy{
				Type: "RollingUpdate",
			}},
			Status: StatefulSetStatus{
				ObservedGeneration: 1, Replicas: 3, ReadyReplicas: 3, CurrentReplicas: 3, UpdatedReplicas: 3,
				CurrentRevision: "db-1", UpdateRevision: "db-1",
			},
		}
	}
	for _, tc := range []struct {
		name string
		mut  func(*StatefulSet)
		want want
	}{
		{"healthy", func(*StatefulSet) {}, want{StatusHealthy, "statefulset rolling update complete 3 pods at revision db-1..."}},
		{"never observed", func(s *StatefulSet) { s.Status.ObservedGeneration = 0 },
			want{StatusProgressing, "Waiting for statefulset spec update to be observed..."}},
		{"generation behind", func(s *StatefulSet) { s.Generation = 3 },
			want{StatusProgressing, "Waiting for statefulset spec update to be observed..."}},
		{"not ready", func(s *StatefulSet) { s.Status.ReadyReplicas = 1 },
			want{StatusProgressing, "Waiting for 2 pods to be ready..."}},
		{"partition: rollout not reached", func(s *StatefulSet) {
			s.Spec.UpdateStrategy.RollingUpdate = &RollingUpdateStatefulSetStrategy{Partition: ptr(int32(1))}
			s.Status.UpdatedReplicas, s.Status.UpdateRevision = 1, "db-2"
		}, want{StatusProgressing, "Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated..."}},
		{"partition: done although revisions differ", func(s *StatefulSet) {
			s.Spec.UpdateStrategy.RollingUpdate = &RollingUpdateStatefulSetStrategy{Partition: ptr(int32(2))}
			s.Status.UpdatedReplicas, s.Status.UpdateRevision = 1, "db-2"
		}, want{StatusHealthy, "partitioned roll out complete: 1 new pods have been updated..."}},
		{"OnDelete: healthy with old revisions", func(s *StatefulSet) {
			s.Spec.UpdateStrategy.Type = "OnDelete"
			s.Status.UpdatedReplicas, s.Status.UpdateRevision = 0, "db-2"
		}, want{StatusHealthy, "statefulset has 3 ready pods"}},
		{"rolling update in progress", func(s *StatefulSet) {
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
	base := func() *DaemonSet {
		return &DaemonSet{
			ObjectMeta: meta("agent"),
			Status: DaemonSetStatus{
				ObservedGeneration: 1, DesiredNumberScheduled: 3, UpdatedNumberScheduled: 3, NumberAvailable: 3, NumberReady: 3,
			},
		}
	}
	for _, tc := range []struct {
		name string
		mut  func(*DaemonSet)
		want want
	}{
		{"healthy", func(*DaemonSet) {}, want{StatusHealthy, ""}},
		{"generation behind", func(d *DaemonSet) { d.Generation = 2 },
			want{StatusProgressing, "Waiting for rollout to finish: observed daemon set generation less than desired generation"}},
		{"OnDelete: healthy although not updated", func(d *DaemonSet) {
			d.Spec.UpdateStrategy.Type = "OnDelete"
			d.Status.UpdatedNumberScheduled, d.Status.NumberAvailable = 1, 2
		}, want{StatusHealthy, "daemon set 1 out of 3 new pods have been updated"}},
		{"not updated", func(d *DaemonSet) { d.Status.UpdatedNumberScheduled = 2 },
			want{StatusProgressing, `Waiting for daemon set "agent" rollout to finish: 2 out of 3 new pods have been updated...`}},
		{"not available", func(d *DaemonSet) { d.Status.NumberAvailable = 1 },
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
	base := func() *ReplicaSet {
		return &ReplicaSet{
			ObjectMeta: meta("web-1"),
			Spec:       ReplicaSetSpec{Replicas: ptr(int32(2))},
			Status:     ReplicaSetStatus{ObservedGeneration: 1, Replicas: 2, AvailableReplicas: 2},
		}
	}
	for _, tc := range []struct {
		name string
		mut  func(*ReplicaSet)
		want want
	}{
		{"healthy", func(*ReplicaSet) {}, want{StatusHealthy, ""}},
		{"generation behind", func(r *ReplicaSet) { r.Generation = 2 },
			want{StatusProgressing, "Waiting for rollout to finish: observed replica set generation less than desired generation"}},
		{"replica failure", func(r *ReplicaSet) {
			r.Status.Conditions = []Condition{{Type: "ReplicaFailure", Status: conditionTrue, Reason: "FailedCreate", Message: "pods \"web-1-x\" is forbidden: exceeded quota"}}
		}, want{StatusDegraded, "pods \"web-1-x\" is forbidden: exceeded quota"}},
		{"replica failure cleared", func(r *ReplicaSet) {
			r.Status.Conditions = []Condition{{Type: "ReplicaFailure", Status: conditionFalse}}
		}, want{StatusHealthy, ""}},
		{"not available", func(r *ReplicaSet) { r.Status.AvailableReplicas = 1 },
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
	waiting := func(reason, msg string) ContainerStatus {
		return ContainerStatus{Name: "app", State: ContainerState{Waiting: &ContainerStateWaiting{Reason: reason, Message: msg}}}
	}
	ready := []Condition{{Type: podReadyCondition, Status: conditionTrue}}
	for _, tc := range []struct {
		name string
		pod  Pod
		want want
	}{
		{"pending", Pod{Status: PodStatus{Phase: podPending}}, want{StatusProgressing, ""}},
		{"succeeded", Pod{Status: PodStatus{Phase: podSucceeded}}, want{StatusHealthy, ""}},
		{"failed with pod message", Pod{Status: PodStatus{Phase: podFailed, Reason: "Evicted", Message: "The node was low on resource: memory."}},
			want{StatusDegraded, "The node was low on resource: memory."}},
		{"failed with exit code", Pod{Spec: PodSpec{RestartPolicy: restartNever}, Status: PodStatus{Phase: podFailed,
			ContainerStatuses: []ContainerStatus{{Name: "main", State: ContainerState{Terminated: &ContainerStateTerminated{ExitCode: 2}}}}}},
			want{StatusDegraded, `container "main" failed with exit code 2`}},
		{"failed OOMKilled", Pod{Status: PodStatus{Phase: podFailed,
			ContainerStatuses: []ContainerStatus{{Name: "main", State: ContainerState{Terminated: &ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled"}}}}}},
			want{StatusDegraded, "OOMKilled"}},
		{"running ready", Pod{Spec: PodSpec{RestartPolicy: restartAlways}, Status: PodStatus{Phase: podRunning, Conditions: ready}},
			want{StatusHealthy, ""}},
		{"running not ready after a crash", Pod{Spec: PodSpec{RestartPolicy: restartAlways}, Status: PodStatus{Phase: podRunning,
			ContainerStatuses: []ContainerStatus{{Name: "app", LastTerminationState: ContainerState{Terminated: &ContainerStateTerminated{ExitCode: 1}}}}}},
			want{StatusDegraded, ""}},
		{"running not ready yet", Pod{Spec: PodSpec{RestartPolicy: restartAlways}, Status: PodStatus{Phase: podRunning}},
			want{StatusProgressing, ""}},
		{"running hook pod", Pod{Spec: PodSpec{RestartPolicy: restartNever}, Status: PodStatus{Phase: podRunning, Conditions: ready}},
			want{StatusProgressing, ""}},
		{"CrashLoopBackOff", Pod{Spec: PodSpec{RestartPolicy: restartAlways}, Status: PodStatus{Phase: podRunning,
			ContainerStatuses: []ContainerStatus{waiting("CrashLoopBackOff", "back-off 40s restarting failed container")}}},
			want{StatusDegraded, "back-off 40s restarting failed container"}},
		{"ImagePullBackOff", Pod{Spec: PodSpec{RestartPolicy: restartAlways}, Status: PodStatus{Phase: podPending,
			ContainerStatuses: []ContainerStatus{waiting("ImagePullBackOff", `Back-off pulling image "x"`)}}},
			want{StatusDegraded, `Back-off pulling image "x"`}},
		{"ErrImagePull", Pod{Spec: PodSpec{RestartPolicy: restartAlways}, Status: PodStatus{Phase: podPending,
			ContainerStatuses: []ContainerStatus{waiting("ErrImagePull", "not found")}}},
			want{StatusDegraded, "not found"}},
		{"CreateContainerConfigError", Pod{Spec: PodSpec{RestartPolicy: restartAlways}, Status: PodStatus{Phase: podPending,
			ContainerStatuses: []ContainerStatus{waiting("CreateContainerConfigError", `configmap "x" not found`)}}},
			want{StatusDegraded, `configmap "x" not found`}},
		{"InvalidImageName", Pod{Spec: PodSpec{RestartPolicy: restartAlways}, Status: PodStatus{Phase: podPending,
			ContainerStatuses: []ContainerStatus{waiting("InvalidImageName", "bad")}}},
			want{StatusDegraded, "bad"}},
		{"ContainerCreating is progress", Pod{Spec: PodSpec{RestartPolicy: restartAlways}, Status: PodStatus{Phase: podPending,
			ContainerStatuses: []ContainerStatus{waiting("ContainerCreating", "")}}},
			want{StatusProgressing, ""}},
		{"hook pod pulling image is judged by phase", Pod{Spec: PodSpec{RestartPolicy: restartNever}, Status: PodStatus{Phase: podPending,
			ContainerStatuses: []ContainerStatus{waiting("ImagePullBackOff", "x")}}},
			want{StatusProgressing, ""}},
		{"unknown phase", Pod{Status: PodStatus{Phase: "Unknown"}}, want{StatusUnknown, ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.pod.ObjectMeta = meta("web-1-a")
			check(t, AssessPod(&tc.pod, nil), tc.want)
		})
	}
}

func TestJobStatus(t *testing.T) {
	cond := func(typ string, status string, reason, msg string) []Condition {
		return []Condition{{Type: typ, Status: status, Reason: reason, Message: msg}}
	}
	for _, tc := range []struct {
		name string
		job  Job
		want want
	}{
		{"running", Job{Status: JobStatus{Active: 1}}, want{StatusProgressing, ""}},
		{"complete", Job{Status: JobStatus{Conditions: cond("Complete", conditionTrue, "", "")}}, want{StatusHealthy, ""}},
		{"suspended by spec before the controller noticed", Job{Spec: JobSpec{Suspend: ptr(true)}}, want{StatusSuspended, "Job suspended"}},
		{"suspended condition", Job{Spec: JobSpec{Suspend: ptr(true)}, Status: JobStatus{Conditions: cond("Suspended", conditionTrue, "JobSuspended", "Job suspended")}},
			want{StatusSuspended, "Job suspended"}},
		{"resumed", Job{Spec: JobSpec{Suspend: ptr(false)}, Status: JobStatus{Conditions: cond("Suspended", conditionFalse, "JobResumed", "Job resumed")}},
			want{StatusProgressing, ""}},
		{"backoff limit", Job{Status: JobStatus{Conditions: cond("Failed", conditionTrue, "BackoffLimitExceeded", "Job has reached the specified backoff limit")}},
			want{StatusDegraded, "Job has reached the specified backoff limit"}},
		{"deadline", Job{Status: JobStatus{Conditions: cond("Failed", conditionTrue, "DeadlineExceeded", "Job was active longer than specified deadline")}},
			want{StatusDegraded, "Job was active longer than specified deadline"}},
		{"failed condition not true", Job{Status: JobStatus{Conditions: cond("Failed", conditionFalse, "", "")}}, want{StatusProgressing, ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.job.ObjectMeta = meta("migrate")
			check(t, AssessJob(&tc.job, nil, nil), tc.want)
		})
	}
}

func TestSimpleKinds(t *testing.T) {
	lb := LoadBalancerStatus{Ingress: []LoadBalancerIngress{{IP: "10.0.0.1"}}}
	m := meta("x")
	for _, tc := range []struct {
		name string
		got  Result
		want want
	}{
		{"pvc bound", AssessPVC(&PersistentVolumeClaim{ObjectMeta: m, Status: PersistentVolumeClaimStatus{Phase: "Bound"}}, nil), want{StatusHealthy, ""}},
		{"pvc pending", AssessPVC(&PersistentVolumeClaim{ObjectMeta: m, Status: PersistentVolumeClaimStatus{Phase: "Pending"}}, nil), want{StatusProgressing, ""}},
		{"pvc lost", AssessPVC(&PersistentVolumeClaim{ObjectMeta: m, Status: PersistentVolumeClaimStatus{Phase: "Lost"}}, nil), want{StatusDegraded, ""}},
		{"pvc no phase", AssessPVC(&PersistentVolumeClaim{ObjectMeta: m}, nil), want{StatusUnknown, ""}},
		{"service ClusterIP", AssessService(&Service{ObjectMeta: m}, nil), want{StatusHealthy, ""}},
		{"service LoadBalancer pending", AssessService(&Service{ObjectMeta: m, Spec: ServiceSpec{Type: "LoadBalancer"}}, nil), want{StatusProgressing, ""}},
		{"service LoadBalancer assigned", AssessService(&Service{ObjectMeta: m, Spec: ServiceSpec{Type: "LoadBalancer"}, Status: ServiceStatus{LoadBalancer: lb}}, nil), want{StatusHealthy, ""}},
		{"ingress pending", AssessIngress(&Ingress{ObjectMeta: m}, nil), want{StatusProgressing, ""}},
		{"ingress assigned", AssessIngress(&Ingress{ObjectMeta: m, Status: IngressStatus{LoadBalancer: LoadBalancerStatus{
			Ingress: []LoadBalancerIngress{{Hostname: "lb.example.com"}}}}}, nil), want{StatusHealthy, ""}},
	} {
		t.Run(tc.name, func(t *testing.T) { check(t, tc.got, tc.want) })
	}
}

func TestHPAStatus(t *testing.T) {
	c := func(typ string, status string, msg string) Condition {
		return Condition{Type: typ, Status: status, Message: msg}
	}
	for _, tc := range []struct {
		name  string
		conds []Condition
		want  want
	}{
		{"no conditions", nil, want{StatusProgressing, "Waiting to Autoscale"}},
		{"able to scale", []Condition{
			c("AbleToScale", conditionTrue, "recommended size matches current size"),
			c("ScalingActive", conditionTrue, "valid metric"),
		}, want{StatusHealthy, "recommended size matches current size"}},
		{"scaling limited", []Condition{
			c("ScalingLimited", conditionTrue, "too many replicas"),
		}, want{StatusHealthy, "too many replicas"}},
		{"metrics missing", []Condition{
			c("AbleToScale", conditionTrue, "ok"),
			c("ScalingActive", conditionFalse, "the HPA was unable to compute the replica count: failed to get cpu utilization"),
		}, want{StatusDegraded, "the HPA was unable to compute the replica count: failed to get cpu utilization"}},
		{"cannot scale", []Condition{
			c("AbleToScale", conditionFalse, "failed to get scale"),
		}, want{StatusDegraded, "failed to get scale"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &HorizontalPodAutoscaler{ObjectMeta: meta("web"), Status: HorizontalPodAutoscalerStatus{Conditions: tc.conds}}
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
