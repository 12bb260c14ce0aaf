package health

import (
	"reflect"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// owner of the pods below: what they are filed under.
var ownerRS = meta("web-7d9f")

func TestKeepPod(t *testing.T) {
	notReady := func(p *Pod) {
		p.Status.Conditions = append(p.Status.Conditions, Condition{Type: podReadyCondition, Status: conditionFalse})
		p.Status.ContainerStatuses = []ContainerStatus{{Name: "app", State: ContainerState{Running: &ContainerStateRunning{}}}}
	}
	for _, tc := range []struct {
		name string
		pod  Pod
		want string // "whole", "quiet" or "dropped"
	}{
		{"crash loop: kept whole", pod("a", crashLoop(1, "Error", "panic", 3)), "whole"},
		{"image pull: kept whole", pod("b", waitingIn("ImagePullBackOff", "")), "whole"},
		{"unschedulable: kept whole", pod("c", func(p *Pod) {
			p.Status.Phase = podPending
			p.Status.Conditions = []Condition{{Type: podScheduled, Status: conditionFalse, Reason: podReasonUnschedulable, Message: "0/3 nodes"}}
		}), "whole"},
		{"ready: dropped", pod("d", func(p *Pod) {
			p.Status.Conditions = append(p.Status.Conditions, Condition{Type: podReadyCondition, Status: conditionTrue})
		}), "dropped"},
		{"succeeded: dropped", pod("e", func(p *Pod) { p.Status.Phase = podSucceeded }), "dropped"},
		{"running, not ready, nothing shown: quiet", pod("f", notReady), "quiet"},
		{"pending without status: quiet", pod("g", func(p *Pod) { p.Status = PodStatus{Phase: podPending} }), "quiet"},
		{"creating: quiet", pod("h", waitingIn("ContainerCreating", "")), "quiet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := &namespace{podsBy: map[types.UID][]Pod{}, quietBy: map[types.UID][]quietPod{}}
			ns.keepPod(ownerRS.UID, &tc.pod)
			got := "dropped"
			switch {
			case len(ns.podsBy[ownerRS.UID]) == 1 && len(ns.quietBy) == 0:
				got = "whole"
				if !reflect.DeepEqual(ns.podsBy[ownerRS.UID][0], tc.pod) {
					t.Errorf("kept %+v, want the pod as read", ns.podsBy[ownerRS.UID][0])
				}
			case len(ns.quietBy[ownerRS.UID]) == 1 && len(ns.podsBy) == 0:
				got = "quiet"
			case len(ns.podsBy) != 0 || len(ns.quietBy) != 0:
				got = "filed wrongly"
			}
			if got != tc.want {
				t.Errorf("%s, want %s", got, tc.want)
			}
		})
	}
}

// TestQuietPodSameIssue checks the promise of quietPod.pod: for a pod that
// shows nothing of its own, whatever the events, the rebuilt pod gets the
// issue the whole pod gets, is owned by the same owner and is on the same
// StatefulSet revision.
func TestQuietPodSameIssue(t *testing.T) {
	pods := map[string]Pod{
		"running, not ready": pod("p", func(p *Pod) {
			p.Labels = map[string]string{revisionHashLabel: "web-5f6"}
			p.Status.Conditions = append(p.Status.Conditions, Condition{Type: podReadyCondition, Status: conditionFalse, Reason: "ContainersNotReady"})
			p.Status.ContainerStatuses = []ContainerStatus{
				{Name: "sidecar", Ready: true, RestartCount: 1, State: ContainerState{Running: &ContainerStateRunning{}}},
				{Name: "app", RestartCount: 2, State: ContainerState{Running: &ContainerStateRunning{}},
					LastTerminationState: ContainerState{Terminated: &ContainerStateTerminated{ExitCode: 0, Reason: "Completed"}}},
			}
		}),
		"running, all containers ready, pod not ready": pod("p", func(p *Pod) {
			p.Status.ContainerStatuses = []ContainerStatus{{Name: "app", Ready: true, State: ContainerState{Running: &ContainerStateRunning{}}}}
		}),
		"pending, no status":           pod("p", func(p *Pod) { p.Status = PodStatus{Phase: podPending} }),
		"pending, scheduled, creating": pod("p", waitingIn("ContainerCreating", "")),
		"pending, not scheduled yet": pod("p", func(p *Pod) {
			p.Status = PodStatus{Phase: podPending, Conditions: []Condition{{Type: podScheduled, Status: conditionFalse, Reason: "SchedulerError"}}}
		}),
		"init container running": pod("p", func(p *Pod) {
			p.Status.Phase = podPending
			p.Status.InitContainerStatuses = []ContainerStatus{{Name: "migrate", State: ContainerState{Running: &ContainerStateRunning{}}}}
			p.Status.ContainerStatuses = []ContainerStatus{{Name: "app", State: ContainerState{Waiting: &ContainerStateWaiting{Reason: "PodInitializing"}}}}
		}),
		"failed without a reason": pod("p", func(p *Pod) {
			p.Spec.RestartPolicy = restartNever
			p.Status.Phase = podFailed
		}),
	}
	uid := "uid-p"
	events := map[string][]Event{
		"none":                             nil,
		"readiness probe, container named": {withCount(withFieldPath(event("Pod", "p", uid, "Warning", "Unhealthy", "Readiness probe failed: 503", t0), "spec.containers{app}"), 7)},
		"readiness probe, no container":    {event("Pod", "p", uid, "Warning", "Unhealthy", "Readiness probe failed: 503", t0)},
		"mount, no UID":                    {event("Pod", "p", "", "Warning", "FailedMount", `configmap "web" not found`, t0)},
		"old FailedScheduling":             {event("Pod", "p", uid, "Warning", "FailedScheduling", "0/1 nodes are available", t0)},
		"FailedScheduling, newest first": {
			event("Pod", "p", uid, "Warning", "FailedScheduling", "0/1 nodes are available", t0),
			event("Pod", "p", uid, "Warning", "BackOff", "Back-off pulling image", t0.Add(-time.Minute)),
		},
		"normal only":       {event("Pod", "p", uid, "Normal", "Pulled", "pulled", t0)},
		"another pod's UID": {event("Pod", "p", "uid-other", "Warning", "Unhealthy", "Readiness probe failed: old", t0)},
	}
	sts := &StatefulSet{ObjectMeta: ownerRS, Status: StatefulSetStatus{UpdateRevision: "web-5f6"}}
	named := 0
	for pn, p := range pods {
		p.OwnerReferences = nil
		ownedByRef("ReplicaSet", ownerRS)(&p)
		ns := &namespace{podsBy: map[types.UID][]Pod{}, quietBy: map[types.UID][]quietPod{}}
		ns.keepPod(ownerRS.UID, &p)
		if len(ns.quietBy[ownerRS.UID]) != 1 {
			t.Fatalf("%s: not a quiet pod", pn)
		}
		q := ns.quietBy[ownerRS.UID][0].pod(ownerRS.UID)
		if len(owned([]Pod{q}, "ReplicaSet", &ownerRS)) != 1 {
			t.Errorf("%s: rebuilt pod not owned by %s", pn, ownerRS.Name)
		}
		if a, b := len(StatefulSetPods(sts, []Pod{p})), len(StatefulSetPods(sts, []Pod{q})); a != b {
			t.Errorf("%s: on the update revision: whole %d, rebuilt %d", pn, a, b)
		}
		for en, evs := range events {
			whole, rebuilt := diagnosePod(&p, evs), diagnosePod(&q, evs)
			if !reflect.DeepEqual(whole, rebuilt) {
				t.Errorf("%s, events %s:\n whole   %+v\n rebuilt %+v", pn, en, whole, rebuilt)
			}
			if whole.severity > 0 {
				named++
			}
		}
	}
	if named < 10 {
		t.Errorf("only %d pod and event pairs name a cause: the comparison proves little", named)
	}
}

// FuzzQuietPodSameIssue varies the state of a pod and one event: whenever
// the pod is kept as a quietPod, the rebuilt pod gets the same issue.
func FuzzQuietPodSameIssue(f *testing.F) {
	f.Add("Running", "False", "True", "app", false, int32(2), "", false, "", "Warning", "Unhealthy", "Readiness probe failed: 503", "spec.containers{app}")
	f.Add("Pending", "", "True", "app", false, int32(0), "ContainerCreating", false, "uid-p", "Warning", "FailedMount", "no volume", "")
	f.Add("Pending", "", "False", "", false, int32(0), "", false, "", "Warning", "FailedScheduling", "0/1 nodes", "")
	f.Add("Running", "False", "True", "app", true, int32(5), "", true, "uid-p", "Warning", "Unhealthy", "Readiness probe failed", "")
	f.Fuzz(func(t *testing.T, phase, ready, scheduled, container string, containerReady bool, restarts int32,
		waiting string, running bool, evUID, evType, evReason, evMsg, evFieldPath string) {
		p := pod("p", func(p *Pod) {
			p.Status = PodStatus{Phase: phase}
			if ready != "" {
				p.Status.Conditions = append(p.Status.Conditions, Condition{Type: podReadyCondition, Status: ready})
			}
			if scheduled != "" {
				p.Status.Conditions = append(p.Status.Conditions, Condition{Type: podScheduled, Status: scheduled})
			}
			if container != "" {
				cs := ContainerStatus{Name: container, Ready: containerReady, RestartCount: restarts}
				if waiting != "" {
					cs.State.Waiting = &ContainerStateWaiting{Reason: waiting}
				}
				if running {
					cs.State.Running = &ContainerStateRunning{}
				}
				p.Status.ContainerStatuses = []ContainerStatus{cs, {Name: "sidecar", Ready: true}}
			}
		})
		ownedByRef("ReplicaSet", ownerRS)(&p)
		ns := &namespace{podsBy: map[types.UID][]Pod{}, quietBy: map[types.UID][]quietPod{}}
		ns.keepPod(ownerRS.UID, &p)
		if len(ns.quietBy[ownerRS.UID]) == 0 {
			return
		}
		q := ns.quietBy[ownerRS.UID][0].pod(ownerRS.UID)
		evs := []Event{withFieldPath(event("Pod", "p", evUID, evType, evReason, evMsg, t0), evFieldPath)}
		if whole, rebuilt := diagnosePod(&p, evs), diagnosePod(&q, evs); !reflect.DeepEqual(whole, rebuilt) {
			t.Errorf("whole %+v\nrebuilt %+v", whole, rebuilt)
		}
	})
}
