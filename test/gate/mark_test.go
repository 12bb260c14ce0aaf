package gate_test

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/syncreport/syncreport/internal/health"
)

// rollingWithConditions is the status the Deployment controller writes
// mid-rollout: the new ReplicaSet progressing, the minimum not available.
func rollingWithConditions(st *appsv1.DeploymentStatus) {
	rolling(st)
	now := metav1.Now()
	st.Conditions = []appsv1.DeploymentCondition{
		{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionFalse, Reason: "MinimumReplicasUnavailable",
			Message: "Deployment does not have minimum availability.", LastUpdateTime: now, LastTransitionTime: now},
		{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "ReplicaSetUpdated",
			Message: `ReplicaSet "web-7d9f" is progressing.`, LastUpdateTime: now, LastTransitionTime: now},
	}
}

// liveDeployment reads Deployment web and judges it by Argo CD's rules.
func liveDeployment(t *testing.T, r *rollout) (*appsv1.Deployment, health.Result) {
	t.Helper()
	d, err := cluster.Client.AppsV1().Deployments(r.ns).Get(r.ctx, "web", metav1.GetOptions{})
	must(t, err)
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(d)
	must(t, err)
	var hd health.Deployment
	must(t, runtime.DefaultUnstructuredConverter.FromUnstructured(u, &hd))
	return d, health.AssessDeployment(&hd, nil, nil, nil)
}

// TestMarkDegraded: with GATE_MARK_DEGRADED=true a crash loop fails the
// gate and leaves on the Deployment the condition its controller writes at
// the progress deadline, the Available condition untouched, so that Argo CD
// judges it Degraded now rather than in 10 minutes.
func TestMarkDegraded(t *testing.T) {
	t.Parallel()
	r := newRollout(t, setup{markRights: true})
	r.deployStatus(rollingWithConditions)
	g := startGate(t, r, map[string]string{"GATE_MARK_DEGRADED": "true"})
	g.waitLog("0/1 new pods ready")
	if _, h := liveDeployment(t, r); h.Status != health.StatusProgressing {
		t.Fatalf("before the gate: %s, want %s", h.Status, health.StatusProgressing)
	}
	r.podStatus(crashed(2, true))
	wantFailure(t, g, "Deployment web: pod web-7d9f-x2: container", "(2 restarts)")

	d, h := liveDeployment(t, r)
	if h.Status != health.StatusDegraded {
		t.Errorf("after the gate: %s (%s), want %s", h.Status, h.Message, health.StatusDegraded)
	}
	var progressing, available *appsv1.DeploymentCondition
	for i, c := range d.Status.Conditions {
		switch c.Type {
		case appsv1.DeploymentProgressing:
			progressing = &d.Status.Conditions[i]
		case appsv1.DeploymentAvailable:
			available = &d.Status.Conditions[i]
		}
	}
	if len(d.Status.Conditions) != 2 || available == nil || available.Reason != "MinimumReplicasUnavailable" {
		t.Errorf("conditions %+v: the Available condition was not kept", d.Status.Conditions)
	}
	if progressing == nil || progressing.Status != corev1.ConditionFalse || progressing.Reason != "ProgressDeadlineExceeded" ||
		!strings.HasPrefix(progressing.Message, `syncreport gate: pod web-7d9f-x2: container "app" CrashLoopBackOff`) ||
		progressing.LastUpdateTime.IsZero() || progressing.LastTransitionTime.IsZero() {
		t.Errorf("Progressing condition %+v", progressing)
	}
	if d.Status.ObservedGeneration != d.Generation || d.Status.UpdatedReplicas != 1 {
		t.Errorf("status %+v: more than the conditions changed", d.Status)
	}
	if !strings.Contains(g.log(), "marked the Deployment Degraded") || !strings.Contains(g.log(), `"markedDegraded":1`) {
		t.Error("the mark is not logged")
	}
}

// TestMarkDegradedForbidden: without patch on deployments/status the gate
// still fails the hook (exit 5), and its log says the mark was not possible
// and what to grant; the Deployment is left as it was.
func TestMarkDegradedForbidden(t *testing.T) {
	t.Parallel()
	r := newRollout(t, setup{})
	r.deployStatus(rollingWithConditions)
	g := startGate(t, r, map[string]string{"GATE_MARK_DEGRADED": "true"})
	g.waitLog("0/1 new pods ready")
	r.podStatus(crashed(2, true))
	wantFailure(t, g, "Deployment web: pod web-7d9f-x2: container", "(2 restarts)")
	if !strings.Contains(g.log(), "cannot mark the Deployment Degraded") ||
		!strings.Contains(g.log(), "grant patch on deployments/status in namespace "+r.ns) {
		t.Error("the log does not say that the mark was not possible")
	}
	if _, h := liveDeployment(t, r); h.Status != health.StatusProgressing {
		t.Errorf("Deployment %s, want it left %s", h.Status, health.StatusProgressing)
	}
}
