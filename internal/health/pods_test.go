package health

import (
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
	if !c.Init || c.Name != "migrate" || c.Waiting != "CrashLoopBackOff" || c.Restarts != 2 || !c.Crashed || c.LastReason != "OOMKilled" || c.LastExitCode != 137 {
		t.Errorf("init container facts %+v", c)
	}
	if c := f.Containers[1]; c.Init || c.Crashed || c.Running || c.Waiting != "PodInitializing" {
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
