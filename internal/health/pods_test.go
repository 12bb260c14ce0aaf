package health

import (
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestFacts(t *testing.T) {
	since := metav1.NewTime(t0)
	p := pod("web-1", func(p *Pod) {
		p.Status.Phase = podPending
		p.Status.Conditions = []Condition{{Type: podScheduled, Status: conditionFalse, Reason: "Unschedulable", LastTransitionTime: since}}
		p.Status.InitContainerStatuses = []ContainerStatus{{Name: "migrate", RestartCount: 2,
			State:                ContainerState{Waiting: &ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
			LastTerminationState: ContainerState{Terminated: &ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled"}}}}
		p.Status.ContainerStatuses = []ContainerStatus{{Name: "app", State: ContainerState{Waiting: &ContainerStateWaiting{Reason: "PodInitializing"}}}}
	})
	f := Facts(&p)
	if !f.Unschedulable || !f.UnschedulableSince.Equal(t0) || f.Ready || f.Deleting || len(f.Containers) != 2 {
		t.Fatalf("facts %+v", f)
	}
	c := f.Containers[0]
	if !c.Init || c.Name != "migrate" || c.Waiting != "CrashLoopBackOff" || c.Restarts != 2 || !c.Crashing || c.LastReason != "OOMKilled" || c.LastExitCode != 137 {
		t.Errorf("init container facts %+v", c)
	}
	if c := f.Containers[1]; c.Init || c.Crashing || c.Running || c.Waiting != "PodInitializing" {
		t.Errorf("app container facts %+v", c)
	}
}

func TestRolloutPods(t *testing.T) {
	ds := &DaemonSet{ObjectMeta: meta("agent")}
	ds.Annotations = map[string]string{"deprecated.daemonset.template.generation": "3"}
	gen := func(g string) func(*Pod) {
		return func(p *Pod) { p.Labels = map[string]string{"pod-template-generation": g} }
	}
	pods := []Pod{
		pod("agent-old", chain(ownedByRef("DaemonSet", ds.ObjectMeta), gen("2"))),
		pod("agent-new", chain(ownedByRef("DaemonSet", ds.ObjectMeta), gen("3"))),
		pod("other", gen("3")),
	}
	if got := DaemonSetPods(ds, pods); len(got) != 1 || got[0].Name != "agent-new" {
		t.Errorf("DaemonSetPods = %v", names(got))
	}
	ds.Annotations = nil
	if got := DaemonSetPods(ds, pods); len(got) != 2 {
		t.Errorf("without the annotation: %v", names(got))
	}

	d := healthyDeployment()
	old, cur := rs("web-1", d, "1", t0.Add(-time.Hour)), rs("web-2", d, "2", t0)
	pods = []Pod{pod("web-1-a", ownedByRef("ReplicaSet", old.ObjectMeta)), pod("web-2-a", ownedByRef("ReplicaSet", cur.ObjectMeta))}
	if got := DeploymentPods(d, []ReplicaSet{old, cur}, pods); len(got) != 1 || got[0].Name != "web-2-a" {
		t.Errorf("DeploymentPods = %v", names(got))
	}
	if got := DeploymentPods(d, nil, pods); got != nil {
		t.Errorf("DeploymentPods without ReplicaSets = %v", names(got))
	}
}

func names(ps []*Pod) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

// TestCrashing walks the kubelet's container states: only a container that
// is down because an instance of it failed is crashing. A false "crashing"
// fails a healthy rollout in the gate, so the states that are progress or
// done are listed as carefully as the failures.
func TestCrashing(t *testing.T) {
	term := func(code int32, reason string) *ContainerStateTerminated {
		return &ContainerStateTerminated{ExitCode: code, Reason: reason}
	}
	running := ContainerState{Running: &ContainerStateRunning{}}
	waiting := func(r string) ContainerState { return ContainerState{Waiting: &ContainerStateWaiting{Reason: r}} }
	failedBefore := ContainerState{Terminated: term(1, "Error")}
	const (
		app = iota
		initC
		sidecar
	)
	for _, tc := range []struct {
		name   string
		role   int
		policy string // the pod's restartPolicy; "" is Always
		cs     ContainerStatus
		want   bool
	}{
		{"init completed after two failures", initC, "", ContainerStatus{RestartCount: 2, State: ContainerState{Terminated: term(0, "Completed")}, LastTerminationState: failedBefore}, false},
		{"init completed, ready as the kubelet reports it", initC, "", ContainerStatus{Ready: true, RestartCount: 2, State: ContainerState{Terminated: term(0, "Completed")}}, false},
		{"init running its third attempt", initC, "", ContainerStatus{RestartCount: 2, State: running, LastTerminationState: failedBefore}, false},
		{"init waiting to start", initC, "", ContainerStatus{State: waiting("PodInitializing")}, false},
		{"init in CrashLoopBackOff", initC, "", ContainerStatus{RestartCount: 2, State: waiting("CrashLoopBackOff"), LastTerminationState: failedBefore}, true},
		{"init just failed, before its back-off", initC, "", ContainerStatus{RestartCount: 2, State: failedBefore}, true},
		{"init OOMKilled", initC, "", ContainerStatus{RestartCount: 2, State: ContainerState{Terminated: term(137, "OOMKilled")}}, true},
		{"sidecar running and ready after restarts", sidecar, "", ContainerStatus{Ready: true, RestartCount: 5, State: running, LastTerminationState: failedBefore}, false},
		{"sidecar running, not ready, after a failure", sidecar, "", ContainerStatus{RestartCount: 2, State: running, LastTerminationState: failedBefore}, false},
		{"sidecar in CrashLoopBackOff", sidecar, "", ContainerStatus{RestartCount: 2, State: waiting("CrashLoopBackOff")}, true},
		{"app running and ready after restarts", app, "", ContainerStatus{Ready: true, RestartCount: 7, State: running, LastTerminationState: failedBefore}, false},
		{"app running, not ready, after a failure", app, "", ContainerStatus{RestartCount: 2, State: running, LastTerminationState: failedBefore}, false},
		{"app running, not ready, after an exit 0", app, "", ContainerStatus{RestartCount: 2, State: running, LastTerminationState: ContainerState{Terminated: term(0, "Completed")}}, false},
		{"app exiting 0 in CrashLoopBackOff", app, "", ContainerStatus{RestartCount: 2, State: waiting("CrashLoopBackOff"), LastTerminationState: ContainerState{Terminated: term(0, "Completed")}}, true},
		{"app terminated with exit 0", app, "", ContainerStatus{RestartCount: 2, State: ContainerState{Terminated: term(0, "Completed")}}, false},
		{"app terminated with exit 1", app, "", ContainerStatus{RestartCount: 2, State: failedBefore}, true},
		{"app creating", app, "", ContainerStatus{State: waiting("ContainerCreating")}, false},
		{"app of a run-to-completion pod, completed", app, restartOnFailure, ContainerStatus{RestartCount: 2, State: ContainerState{Terminated: term(0, "Completed")}, LastTerminationState: failedBefore}, false},
		{"app of a run-to-completion pod, running after failures", app, restartOnFailure, ContainerStatus{RestartCount: 2, State: running, LastTerminationState: failedBefore}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := pod("web-1", func(p *Pod) {
				p.Spec.RestartPolicy = tc.policy
				tc.cs.Name = "c"
				switch tc.role {
				case app:
					p.Spec.Containers = []Container{{Name: "c"}}
					p.Status.ContainerStatuses = []ContainerStatus{tc.cs}
				default:
					c := Container{Name: "c"}
					if tc.role == sidecar {
						c.RestartPolicy = restartAlways
					}
					p.Spec.InitContainers = []Container{c}
					p.Status.InitContainerStatuses = []ContainerStatus{tc.cs}
				}
			})
			f := Facts(&p)
			if got := f.Containers[0].Crashing; got != tc.want {
				t.Errorf("Crashing = %v, want %v (facts %+v)", got, tc.want, f.Containers[0])
			}
			if c := f.Containers[0]; c.Sidecar != (tc.role == sidecar) || c.Init != (tc.role != app) {
				t.Errorf("init %v sidecar %v, want role %d", c.Init, c.Sidecar, tc.role)
			}
			// The report names no cause for a container that is done or
			// fine: the same rule as the gate's.
			if !tc.want && tc.cs.State.Running == nil && tc.cs.State.Waiting == nil {
				if c := PodCause(&p, nil); c != "" {
					t.Errorf("PodCause = %q, want none", c)
				}
			}
		})
	}
}

// TestCurrentReplicaSet: the current ReplicaSet is the one at the
// Deployment's own revision; when that one is not seen yet there is none,
// never the previous revision's.
func TestCurrentReplicaSet(t *testing.T) {
	d := healthyDeployment()
	r1, r2, r3 := rs("web-1", d, "1", t0.Add(-2*time.Hour)), rs("web-2", d, "2", t0.Add(-time.Hour)), rs("web-3", d, "3", t0)
	for _, tc := range []struct {
		name, revision string
		sets           []ReplicaSet
		want           string
	}{
		{"at its revision", "3", []ReplicaSet{r1, r2, r3}, "web-3"},
		{"new ReplicaSet not seen yet", "3", []ReplicaSet{r1, r2}, ""},
		{"rolled back: the old ReplicaSet renumbered", "2", []ReplicaSet{r1, r2, r3}, "web-2"},
		{"no revision on the Deployment: the highest", "", []ReplicaSet{r1, r3, r2}, "web-3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := *d
			d.Annotations = nil
			if tc.revision != "" {
				d.Annotations = map[string]string{"deployment.kubernetes.io/revision": tc.revision}
			}
			got := ""
			if cur := CurrentReplicaSet(&d, tc.sets); cur != nil {
				got = cur.Name
			}
			if got != tc.want {
				t.Errorf("CurrentReplicaSet = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestSlimPod: the small record of a ready or finished pod reads as the
// pod does for what a rollout reader asks (ready, deleting, a container
// crashing or waiting, a cause); a pod with a problem is kept whole.
func TestSlimPod(t *testing.T) {
	ready := pod("web-1", func(p *Pod) {
		p.Labels = map[string]string{"controller-revision-hash": "abc"}
		p.OwnerReferences = []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "web", UID: "uid-rs", Controller: ptr(true)}}
		p.Spec.InitContainers = []Container{{Name: "proxy", RestartPolicy: restartAlways, Image: "envoy"}, {Name: "wait-db", Image: "busybox"}}
		p.Status.Conditions = append(p.Status.Conditions, Condition{Type: podReadyCondition, Status: conditionTrue, Message: "long"})
		p.Status.InitContainerStatuses = []ContainerStatus{
			{Name: "proxy", Ready: true, RestartCount: 1, State: ContainerState{Running: &ContainerStateRunning{}}},
			{Name: "wait-db", Ready: true, RestartCount: 2, State: ContainerState{Terminated: &ContainerStateTerminated{Reason: "Completed", Message: "db up"}},
				LastTerminationState: ContainerState{Terminated: &ContainerStateTerminated{ExitCode: 1, Reason: "Error", Message: "no db"}}},
		}
		p.Status.ContainerStatuses = []ContainerStatus{{Name: "app", Ready: true, Image: "web", RestartCount: 4, State: ContainerState{Running: &ContainerStateRunning{}},
			LastTerminationState: ContainerState{Terminated: &ContainerStateTerminated{ExitCode: 1, Reason: "Error"}}}}
	})
	s := SlimPod(&ready)
	if s == &ready || s.Spec.Containers != nil || s.Status.ContainerStatuses != nil {
		t.Fatalf("a ready pod is not slimmed: %+v", s)
	}
	judged := func(p *Pod) string {
		f := Facts(p)
		out := fmt.Sprintf("ready=%v deleting=%v unschedulable=%v", f.Ready, f.Deleting, f.Unschedulable)
		for _, c := range f.Containers {
			if c.Crashing || c.Waiting != "" {
				out += " container " + c.Name + " down"
			}
		}
		return out + " cause=" + PodCause(p, nil)
	}
	if got, want := judged(s), judged(&ready); got != want {
		t.Errorf("record reads %q, the pod %q", got, want)
	}
	if s.Labels["controller-revision-hash"] != "abc" || len(s.OwnerReferences) != 1 || s.OwnerReferences[0].UID != "uid-rs" {
		t.Errorf("record %+v", s)
	}
	broken := pod("web-2", crashLoop(1, "Error", "panic", 3))
	if SlimPod(&broken) != &broken {
		t.Errorf("a crash-looping pod must be kept whole")
	}
	notReady := pod("web-3", nil)
	if SlimPod(&notReady) != &notReady {
		t.Errorf("a pod that is not ready must be kept whole")
	}
}
