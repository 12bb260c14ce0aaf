package health

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// pod builds a running, scheduled pod with one container "app", changed by mut.
func pod(name string, mut func(*Pod)) Pod {
	p := Pod{
		ObjectMeta: meta(name),
		Spec: PodSpec{
			RestartPolicy: restartAlways,
			Containers:    []Container{{Name: "app", Image: "ghcr.io/acme/web:v2"}},
		},
		Status: PodStatus{
			Phase:      podRunning,
			Conditions: []Condition{{Type: podScheduled, Status: conditionTrue}},
		},
	}
	if mut != nil {
		mut(&p)
	}
	return p
}

func ownedByRef(kind string, m ObjectMeta) func(*Pod) {
	return func(p *Pod) {
		p.OwnerReferences = append(p.OwnerReferences, metav1.OwnerReference{Kind: kind, Name: m.Name, UID: m.UID, Controller: ptr(true)})
	}
}

func crashLoop(exit int32, reason, msg string, restarts int32) func(*Pod) {
	return func(p *Pod) {
		p.Status.ContainerStatuses = []ContainerStatus{{
			Name: "app", RestartCount: restarts, Image: p.Spec.Containers[0].Image,
			State: ContainerState{Waiting: &ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 40s restarting failed container=app"}},
			LastTerminationState: ContainerState{Terminated: &ContainerStateTerminated{
				ExitCode: exit, Reason: reason, Message: msg, FinishedAt: metav1.NewTime(t0),
			}},
		}}
	}
}

func waitingIn(reason, msg string) func(*Pod) {
	return func(p *Pod) {
		p.Status.Phase = podPending
		p.Status.ContainerStatuses = []ContainerStatus{{
			Name: "app", Image: p.Spec.Containers[0].Image,
			State: ContainerState{Waiting: &ContainerStateWaiting{Reason: reason, Message: msg}},
		}}
	}
}

func event(kind, name, uid, typ, reason, msg string, at time.Time) Event {
	return Event{
		ObjectMeta:     ObjectMeta{Name: name + "." + reason, Namespace: "shop"},
		InvolvedObject: ObjectReference{Kind: kind, Name: name, Namespace: "shop", UID: types.UID(uid)},
		Type:           typ, Reason: reason, Message: msg,
		LastTimestamp: metav1.NewTime(at), Count: 1,
	}
}

func chain(fs ...func(*Pod)) func(*Pod) {
	return func(p *Pod) {
		for _, f := range fs {
			f(p)
		}
	}
}

func TestPodCause(t *testing.T) {
	const pn = "web-7d9f-x2"
	uid := "uid-" + pn
	for _, tc := range []struct {
		name   string
		pod    Pod
		events []Event
		want   string
	}{
		{"healthy", pod(pn, func(p *Pod) {
			p.Status.Conditions = append(p.Status.Conditions, Condition{Type: podReadyCondition, Status: conditionTrue})
		}), nil, ""},
		{"crash loop with termination message", pod(pn, crashLoop(1, "Error", "panic: DATABASE_URL not set\n", 3)), nil,
			`pod web-7d9f-x2: container "app" CrashLoopBackOff, exit code 1 (3 restarts): panic: DATABASE_URL not set`},
		{"crash loop, log tail as message picks the error line", pod(pn, crashLoop(2, "Error",
			"starting server\nloading config\nFATAL: could not connect to db:5432\n  at main.go:12\n", 1)), nil,
			`pod web-7d9f-x2: container "app" CrashLoopBackOff, exit code 2 (1 restart): FATAL: could not connect to db:5432`},
		{"crash loop, no message, liveness probe killed it", pod(pn, crashLoop(137, "Error", "", 5)),
			[]Event{
				withFieldPath(event("Pod", pn, uid, "Warning", "Unhealthy", "Liveness probe failed: Get \"http://10.0.0.5:8080/healthz\": context deadline exceeded", t0), "spec.containers{app}"),
			},
			`pod web-7d9f-x2: container "app" CrashLoopBackOff, exit code 137 (5 restarts): Liveness probe failed: Get "http://10.0.0.5:8080/healthz": context deadline exceeded`},
		{"crash loop with an unusual reason", pod(pn, crashLoop(128, "StartError", "exec: \"/app\": permission denied", 2)), nil,
			`pod web-7d9f-x2: container "app" CrashLoopBackOff, exit code 128 (StartError, 2 restarts): exec: "/app": permission denied`},
		{"OOMKilled with a limit", pod(pn, chain(func(p *Pod) {
			p.Spec.Containers[0].Resources.Limits = map[string]resource.Quantity{"memory": resource.MustParse("128Mi")}
		}, crashLoop(137, "OOMKilled", "", 4))), nil,
			`pod web-7d9f-x2: container "app" OOMKilled, exit code 137, memory limit 128Mi (4 restarts)`},
		{"OOMKilled without a limit", pod(pn, crashLoop(137, "OOMKilled", "", 1)), nil,
			`pod web-7d9f-x2: container "app" OOMKilled, exit code 137, no memory limit (1 restart)`},
		{"ImagePullBackOff explained by the Failed event", pod(pn, waitingIn("ImagePullBackOff", `Back-off pulling image "ghcr.io/acme/web:v2"`)),
			[]Event{
				event("Pod", pn, uid, "Warning", "Failed", `Failed to pull image "ghcr.io/acme/web:v2": rpc error: code = NotFound desc = ghcr.io/acme/web:v2: not found`, t0),
				event("Pod", pn, uid, "Warning", "Failed", `Error: ImagePullBackOff`, t0.Add(-time.Minute)),
			},
			`pod web-7d9f-x2: container "app" ImagePullBackOff, image "ghcr.io/acme/web:v2": Failed to pull image "ghcr.io/acme/web:v2": rpc error: code = NotFound desc = ghcr.io/acme/web:v2: not found`},
		{"ErrImagePull without events", pod(pn, waitingIn("ErrImagePull", "failed to resolve reference: 401 Unauthorized")), nil,
			`pod web-7d9f-x2: container "app" ErrImagePull, image "ghcr.io/acme/web:v2": failed to resolve reference: 401 Unauthorized`},
		{"InvalidImageName", pod(pn, waitingIn("InvalidImageName", `Failed to apply default image tag "Web:latest": invalid reference format`)), nil,
			`pod web-7d9f-x2: container "app" InvalidImageName, image "ghcr.io/acme/web:v2": Failed to apply default image tag "Web:latest": invalid reference format`},
		{"missing ConfigMap key", pod(pn, waitingIn("CreateContainerConfigError", "couldn't find key DB_URL in ConfigMap shop/web-config")), nil,
			`pod web-7d9f-x2: container "app" CreateContainerConfigError: missing key DB_URL in ConfigMap shop/web-config`},
		{"missing Secret key", pod(pn, waitingIn("CreateContainerConfigError", "couldn't find key password in Secret shop/db")), nil,
			`pod web-7d9f-x2: container "app" CreateContainerConfigError: missing key password in Secret shop/db`},
		{"missing Secret", pod(pn, waitingIn("CreateContainerConfigError", `secret "db" not found`)), nil,
			`pod web-7d9f-x2: container "app" CreateContainerConfigError: missing Secret shop/db`},
		{"other config error", pod(pn, waitingIn("CreateContainerConfigError", "container has runAsNonRoot and image will run as root")), nil,
			`pod web-7d9f-x2: container "app" CreateContainerConfigError: container has runAsNonRoot and image will run as root`},
		{"RunContainerError", pod(pn, waitingIn("RunContainerError", "failed to create shim task: OCI runtime create failed")), nil,
			`pod web-7d9f-x2: container "app" RunContainerError: failed to create shim task: OCI runtime create failed`},
		{"unschedulable", pod(pn, func(p *Pod) {
			p.Status.Phase = podPending
			p.Status.Conditions = []Condition{{Type: podScheduled, Status: conditionFalse, Reason: "Unschedulable",
				Message: "0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."}}
		}), nil,
			`pod web-7d9f-x2: unschedulable: 0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.`},
		{"readiness never reached", pod(pn, func(p *Pod) {
			p.Status.ContainerStatuses = []ContainerStatus{{Name: "app", State: ContainerState{Running: &ContainerStateRunning{}}}}
		}), []Event{
			withCount(withFieldPath(event("Pod", pn, uid, "Warning", "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", t0), "spec.containers{app}"), 12),
			event("Pod", pn, uid, "Normal", "Started", "Started container app", t0.Add(-time.Hour)),
		}, `pod web-7d9f-x2: container "app" not ready: Readiness probe failed: HTTP probe failed with statuscode: 503 (12 times)`},
		{"not ready, no evidence yet", pod(pn, func(p *Pod) {
			p.Status.ContainerStatuses = []ContainerStatus{{Name: "app", State: ContainerState{Running: &ContainerStateRunning{}}}}
		}), nil, ""},
		{"events of another pod with the same name are ignored", pod(pn, func(p *Pod) {
			p.Status.ContainerStatuses = []ContainerStatus{{Name: "app", State: ContainerState{Running: &ContainerStateRunning{}}}}
		}), []Event{event("Pod", pn, "other-uid", "Warning", "Unhealthy", "Readiness probe failed: old", t0)}, ""},
		{"restarting between back-offs", pod(pn, func(p *Pod) {
			p.Status.ContainerStatuses = []ContainerStatus{{Name: "app", RestartCount: 2,
				State:                ContainerState{Running: &ContainerStateRunning{}},
				LastTerminationState: ContainerState{Terminated: &ContainerStateTerminated{ExitCode: 1, Message: "boom"}}}}
		}), nil, `pod web-7d9f-x2: container "app" restarting, last exit code 1 (2 restarts): boom`},
		{"job pod failed", pod(pn, func(p *Pod) {
			p.Spec.RestartPolicy = restartNever
			p.Status.Phase = podFailed
			p.Status.ContainerStatuses = []ContainerStatus{{Name: "app",
				State: ContainerState{Terminated: &ContainerStateTerminated{ExitCode: 2, Reason: "Error", Message: `ERROR: relation "users" does not exist`}}}}
		}), nil, `pod web-7d9f-x2: container "app" failed, exit code 2: ERROR: relation "users" does not exist`},
		{"init container crash loop", pod(pn, func(p *Pod) {
			p.Status.Phase = podPending
			p.Status.InitContainerStatuses = []ContainerStatus{{Name: "migrate", RestartCount: 4,
				State:                ContainerState{Waiting: &ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
				LastTerminationState: ContainerState{Terminated: &ContainerStateTerminated{ExitCode: 3, Message: "migration 42 failed"}}}}
			p.Status.ContainerStatuses = []ContainerStatus{{Name: "app", State: ContainerState{Waiting: &ContainerStateWaiting{Reason: "PodInitializing"}}}}
		}), nil, `pod web-7d9f-x2: init container "migrate" CrashLoopBackOff, exit code 3 (4 restarts): migration 42 failed`},
		{"evicted", pod(pn, func(p *Pod) {
			p.Status.Phase, p.Status.Reason, p.Status.Message = podFailed, "Evicted", "The node was low on resource: ephemeral-storage."
		}), nil, `pod web-7d9f-x2: Evicted: The node was low on resource: ephemeral-storage.`},
		{"volume will not mount", pod(pn, waitingIn("ContainerCreating", "")), []Event{
			event("Pod", pn, uid, "Warning", "FailedMount", `MountVolume.SetUp failed for volume "config" : configmap "web-config" not found`, t0),
		}, `pod web-7d9f-x2: FailedMount: MountVolume.SetUp failed for volume "config" : configmap "web-config" not found`},
		{"old FailedScheduling of a scheduled pod is not a cause", pod(pn, waitingIn("ContainerCreating", "")), []Event{
			event("Pod", pn, uid, "Warning", "FailedScheduling", "0/1 nodes are available", t0),
		}, ""},
		{"succeeded", pod(pn, func(p *Pod) { p.Status.Phase = podSucceeded }), nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := PodCause(&tc.pod, tc.events); got != tc.want {
				t.Errorf("PodCause:\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func withFieldPath(e Event, fp string) Event { e.InvolvedObject.FieldPath = fp; return e }
func withCount(e Event, n int32) Event       { e.Count = n; return e }

func rs(name string, d *Deployment, revision string, created time.Time) ReplicaSet {
	m := meta(name)
	m.Annotations = map[string]string{"deployment.kubernetes.io/revision": revision}
	m.CreationTimestamp = metav1.NewTime(created)
	m.OwnerReferences = []metav1.OwnerReference{{Kind: "Deployment", Name: d.Name, UID: d.UID, Controller: ptr(true)}}
	return ReplicaSet{ObjectMeta: m}
}

func TestAssessDeploymentCause(t *testing.T) {
	d := healthyDeployment()
	d.Status.UpdatedReplicas, d.Status.AvailableReplicas = 1, 2 // mid-rollout
	old := rs("web-6b5c", d, "9", t0.Add(-time.Hour))
	cur := rs("web-7d9f", d, "10", t0)
	otherDeploy := healthyDeployment()
	otherDeploy.Name, otherDeploy.UID = "api", "uid-api"
	foreign := rs("api-1111", otherDeploy, "50", t0)

	crash := crashLoop(1, "Error", "panic: DATABASE_URL not set", 3)
	pods := []Pod{
		pod("web-6b5c-aa", chain(ownedByRef("ReplicaSet", old.ObjectMeta), waitingIn("ImagePullBackOff", "old revision"))),
		pod("api-1111-zz", chain(ownedByRef("ReplicaSet", foreign.ObjectMeta), waitingIn("ErrImagePull", "someone else's"))),
		pod("web-7d9f-x2", chain(ownedByRef("ReplicaSet", cur.ObjectMeta), crash)),
		pod("web-7d9f-b7", chain(ownedByRef("ReplicaSet", cur.ObjectMeta), crashLoop(1, "Error", "panic: DATABASE_URL not set", 2))),
		pod("web-7d9f-c1", chain(ownedByRef("ReplicaSet", cur.ObjectMeta), waitingIn("ContainerCreating", ""))),
	}
	all := []ReplicaSet{foreign, cur, old}

	t.Run("names the worst pod of the current ReplicaSet", func(t *testing.T) {
		r := AssessDeployment(d, all, pods, nil)
		want := `pod web-7d9f-x2: container "app" CrashLoopBackOff, exit code 1 (3 restarts): panic: DATABASE_URL not set (+1 more pod)`
		if r.Status != StatusProgressing || r.Cause != want {
			t.Errorf("got %s %q\nwant cause %q", r.Status, r.Cause, want)
		}
	})
	t.Run("current ReplicaSet by revision number, not string order", func(t *testing.T) {
		nine := rs("web-9", d, "9", t0)
		ten := rs("web-10", d, "10", t0.Add(-time.Hour))
		if got := CurrentReplicaSet(d, []ReplicaSet{ten, nine, foreign}); got == nil || got.Name != "web-10" {
			t.Errorf("CurrentReplicaSet = %v, want web-10", got)
		}
	})
	t.Run("healthy deployment has no cause", func(t *testing.T) {
		if r := AssessDeployment(healthyDeployment(), all, pods, nil); r.Status != StatusHealthy || r.Cause != "" {
			t.Errorf("got %s %q", r.Status, r.Cause)
		}
	})
	t.Run("ReplicaSet cannot create pods", func(t *testing.T) {
		failing := rs("web-7d9f", d, "10", t0)
		failing.Status.Conditions = []Condition{{Type: "ReplicaFailure", Status: conditionTrue, Reason: "FailedCreate",
			Message: `pods "web-7d9f-q" is forbidden: exceeded quota: compute, requested: limits.memory=1Gi`}}
		r := AssessDeployment(d, []ReplicaSet{old, failing}, nil, nil)
		want := `replicaset web-7d9f: FailedCreate: pods "web-7d9f-q" is forbidden: exceeded quota: compute, requested: limits.memory=1Gi`
		if r.Cause != want {
			t.Errorf("cause %q, want %q", r.Cause, want)
		}
	})
	t.Run("ReplicaSet FailedCreate event", func(t *testing.T) {
		evs := []Event{event("ReplicaSet", cur.Name, string(cur.UID), "Warning", "FailedCreate", `Error creating: pods "web-7d9f-q" is forbidden: violates PodSecurity "restricted:latest"`, t0)}
		r := AssessDeployment(d, []ReplicaSet{cur}, nil, evs)
		want := `replicaset web-7d9f: FailedCreate: Error creating: pods "web-7d9f-q" is forbidden: violates PodSecurity "restricted:latest"`
		if r.Cause != want {
			t.Errorf("cause %q, want %q", r.Cause, want)
		}
	})
	t.Run("no pods and no events: own warning", func(t *testing.T) {
		evs := []Event{event("Deployment", d.Name, string(d.UID), "Warning", "SomethingOdd", "odd", t0)}
		if r := AssessDeployment(d, nil, nil, evs); r.Cause != "SomethingOdd: odd" {
			t.Errorf("cause %q", r.Cause)
		}
	})
}

func TestAssessStatefulSetCause(t *testing.T) {
	s := &StatefulSet{
		ObjectMeta: meta("db"),
		Spec:       StatefulSetSpec{Replicas: ptr(int32(3))},
		Status: StatefulSetStatus{ObservedGeneration: 1, ReadyReplicas: 2, UpdatedReplicas: 1,
			CurrentRevision: "db-5f", UpdateRevision: "db-6a"},
	}
	rev := func(h string) func(*Pod) {
		return func(p *Pod) { p.Labels = map[string]string{"controller-revision-hash": h} }
	}
	pods := []Pod{
		pod("db-0", chain(ownedByRef("StatefulSet", s.ObjectMeta), rev("db-5f"), crashLoop(1, "", "old revision crash", 9))),
		pod("db-2", chain(ownedByRef("StatefulSet", s.ObjectMeta), rev("db-6a"), waitingIn("CreateContainerConfigError", "couldn't find key PG_PASSWORD in Secret shop/db"))),
	}
	r := AssessStatefulSet(s, pods, nil)
	want := `pod db-2: container "app" CreateContainerConfigError: missing key PG_PASSWORD in Secret shop/db`
	if r.Status != StatusProgressing || r.Cause != want {
		t.Errorf("got %s %q, want cause %q", r.Status, r.Cause, want)
	}
}

func TestAssessDaemonSetCause(t *testing.T) {
	ds := &DaemonSet{ObjectMeta: meta("agent"), Status: DaemonSetStatus{ObservedGeneration: 1, DesiredNumberScheduled: 2, UpdatedNumberScheduled: 2, NumberAvailable: 1}}
	pods := []Pod{pod("agent-x", chain(ownedByRef("DaemonSet", ds.ObjectMeta), crashLoop(137, "OOMKilled", "", 2)))}
	r := AssessDaemonSet(ds, pods, nil)
	if want := `pod agent-x: container "app" OOMKilled, exit code 137, no memory limit (2 restarts)`; r.Cause != want {
		t.Errorf("cause %q, want %q", r.Cause, want)
	}
}

func TestAssessJobCause(t *testing.T) {
	j := &Job{ObjectMeta: meta("migrate"), Status: JobStatus{Failed: 2, Conditions: []Condition{{
		Type: "Failed", Status: conditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit"}}}}
	failed := func(code int32, msg string, at time.Time) func(*Pod) {
		return func(p *Pod) {
			p.Spec.RestartPolicy = restartNever
			p.Status.Phase = podFailed
			p.Status.ContainerStatuses = []ContainerStatus{{Name: "app", State: ContainerState{Terminated: &ContainerStateTerminated{
				ExitCode: code, Reason: "Error", Message: msg, FinishedAt: metav1.NewTime(at)}}}}
		}
	}
	pods := []Pod{
		pod("migrate-a", chain(ownedByRef("Job", j.ObjectMeta), failed(1, "first try", t0))),
		pod("migrate-b", chain(ownedByRef("Job", j.ObjectMeta), failed(2, `relation "users" does not exist`, t0.Add(time.Minute)))),
	}
	t.Run("most recent failed pod", func(t *testing.T) {
		r := AssessJob(j, pods, nil)
		want := `BackoffLimitExceeded: pod migrate-b: container "app" failed, exit code 2: relation "users" does not exist (+1 more pod)`
		if r.Status != StatusDegraded || r.Cause != want {
			t.Errorf("got %s %q\nwant %q", r.Status, r.Cause, want)
		}
	})
	t.Run("pods gone", func(t *testing.T) {
		dl := *j
		dl.Status.Conditions = append([]Condition(nil), j.Status.Conditions...)
		dl.Status.Conditions[0].Reason, dl.Status.Conditions[0].Message = "DeadlineExceeded", "Job was active longer than specified deadline"
		if r := AssessJob(&dl, nil, nil); r.Cause != "DeadlineExceeded" {
			t.Errorf("cause %q", r.Cause)
		}
	})
}

func TestAssessPVCCause(t *testing.T) {
	pvc := &PersistentVolumeClaim{ObjectMeta: meta("data"), Status: PersistentVolumeClaimStatus{Phase: "Pending"}}
	evs := []Event{
		event("PersistentVolumeClaim", "data", "uid-data", "Warning", "ProvisioningFailed", `storageclass.storage.k8s.io "fast" not found`, t0),
		event("PersistentVolumeClaim", "data", "uid-data", "Normal", "WaitForFirstConsumer", "waiting for first consumer to be created before binding", t0.Add(-time.Minute)),
	}
	if r := AssessPVC(pvc, evs); r.Cause != `ProvisioningFailed: storageclass.storage.k8s.io "fast" not found` {
		t.Errorf("cause %q", r.Cause)
	}
	if r := AssessPVC(pvc, evs[1:]); r.Cause != "WaitForFirstConsumer: waiting for first consumer to be created before binding" {
		t.Errorf("cause %q", r.Cause)
	}
}

func TestOneLine(t *testing.T) {
	long := strings.Repeat("x", 1000)
	if got := oneLine(long); len([]rune(got)) != maxLine || !strings.HasSuffix(got, "…") {
		t.Errorf("oneLine(long) has %d runes", len([]rune(got)))
	}
	if got := oneLine("a\n  b\tc"); got != "a b c" {
		t.Errorf("oneLine = %q", got)
	}
}

func FuzzPodCause(f *testing.F) {
	f.Add("CrashLoopBackOff", "back-off", "panic: x\ngoroutine 1", int32(1), "Readiness probe failed")
	f.Add("CreateContainerConfigError", "couldn't find key A in ConfigMap ns/cm", "", int32(0), "")
	f.Add("ImagePullBackOff", "", "", int32(0), "Failed to pull image \"x\"\n")
	f.Fuzz(func(t *testing.T, reason, waitMsg, termMsg string, code int32, evMsg string) {
		p := pod("p", func(p *Pod) {
			p.Status.ContainerStatuses = []ContainerStatus{{Name: "app", RestartCount: 1,
				State:                ContainerState{Waiting: &ContainerStateWaiting{Reason: reason, Message: waitMsg}},
				LastTerminationState: ContainerState{Terminated: &ContainerStateTerminated{ExitCode: code, Message: termMsg}}}}
		})
		evs := []Event{event("Pod", "p", "uid-p", "Warning", "Failed", evMsg, t0)}
		got := PodCause(&p, evs)
		if strings.ContainsAny(got, "\n\r") {
			t.Errorf("cause spans lines: %q", got)
		}
		if got != "" && !strings.HasPrefix(got, "pod p: ") {
			t.Errorf("cause %q lacks the pod prefix", got)
		}
	})
}
