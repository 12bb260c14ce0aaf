package gate_test

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const exitRollout = 5

func wantFailure(t *testing.T, g *gate, parts ...string) {
	t.Helper()
	code, msg := g.exit()
	if code != exitRollout {
		t.Fatalf("exit %d, want %d", code, exitRollout)
	}
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Errorf("termination message %q lacks %q", msg, p)
		}
	}
	if !strings.Contains(g.log(), `"msg":"rollout failed"`) {
		t.Error("the failure is not logged")
	}
}

func wantSuccess(t *testing.T, g *gate) {
	t.Helper()
	if code, msg := g.exit(); code != 0 || msg != "" {
		t.Fatalf("exit %d, termination message %q; want 0 and none", code, msg)
	}
	if !strings.Contains(g.log(), `"msg":"rollout healthy"`) {
		t.Error("the success is not logged")
	}
}

// TestCrashLoop: first crash, back-off, a restart that crashes again,
// back-off, second restart that crashes too: the gate fails once the
// container is down after GATE_RESTARTS=2 restarts, naming the pod, the
// exit code and the message.
func TestCrashLoop(t *testing.T) {
	t.Parallel()
	r := newRollout(t, setup{})
	g := startGate(t, r, nil)
	g.waitLog("0/1 new pods ready")

	r.podStatus(crashed(0, true))
	g.waitLog("CrashLoopBackOff, exit code 1: panic: DATABASE_URL not set")
	r.podStatus(crashed(1, false))
	g.waitLog("restarting, last exit code 1 (1 restart)")
	r.podStatus(crashed(1, true))
	g.waitLog("CrashLoopBackOff, exit code 1 (1 restart)")
	if !g.running() {
		t.Fatal("the gate gave up before the second restart")
	}
	// Running again after the second restart is another attempt, which may
	// succeed (a dependency applied in the same sync came up): not yet.
	r.podStatus(crashed(2, false))
	g.waitLog("restarting, last exit code 1 (2 restarts)")
	if !g.running() {
		t.Fatal("the gate failed a container that runs again after its second restart")
	}
	r.podStatus(crashed(2, true))
	wantFailure(t, g, "Deployment web: pod web-7d9f-x2: container", "exit code 1 (2 restarts): panic: DATABASE_URL not set")
}

// TestImagePull: ErrImagePull then ImagePullBackOff for longer than
// GATE_IMAGE_PULL_GRACE fails the rollout with the registry's answer.
func TestImagePull(t *testing.T) {
	t.Parallel()
	r := newRollout(t, setup{})
	g := startGate(t, r, map[string]string{"GATE_IMAGE_PULL_GRACE": "2s"})
	g.waitLog("0/1 new pods ready")
	r.podStatus(waitingIn("ErrImagePull", "rpc error: code = NotFound desc = ghcr.io/acme/web:v2: not found"))
	g.waitLog("ErrImagePull")
	r.podStatus(waitingIn("ImagePullBackOff", `Back-off pulling image "ghcr.io/acme/web:v2"`))
	r.warning("Failed", `Failed to pull image "ghcr.io/acme/web:v2": rpc error: code = NotFound desc = ghcr.io/acme/web:v2: not found`)
	wantFailure(t, g, "Deployment web: pod web-7d9f-x2: container", `ImagePullBackOff, image "ghcr.io/acme/web:v2": Failed to pull image`, "(for ")
}

// TestUnschedulable: a pod the scheduler cannot place is waited for during
// GATE_UNSCHEDULABLE_GRACE, then fails the rollout with the scheduler's words.
func TestUnschedulable(t *testing.T) {
	t.Parallel()
	r := newRollout(t, setup{})
	g := startGate(t, r, map[string]string{"GATE_UNSCHEDULABLE_GRACE": "3s"})
	r.podStatus(corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{
		Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, LastTransitionTime: metav1.Now(),
		Message: "0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.",
	}}})
	g.waitLog("unschedulable: 0/3 nodes are available")
	if !g.running() {
		t.Fatal("the gate failed within the grace period")
	}
	wantFailure(t, g, "Deployment web: pod web-7d9f-x2: unschedulable: 0/3 nodes are available: 3 Insufficient memory.", "(for ")
}

// TestSlowButHealthy: a pod that takes its time to pull, start and become
// ready is no failure; the gate exits 0 once the Deployment is available.
func TestSlowButHealthy(t *testing.T) {
	t.Parallel()
	r := newRollout(t, setup{})
	g := startGate(t, r, nil)
	g.waitLog("0/1 new pods ready")
	r.podStatus(running(false))
	r.warning("Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503")
	g.waitLog("not ready: Readiness probe failed")
	r.podStatus(running(true))
	g.waitLog("1/1 new pods ready")
	r.deployStatus(available)
	wantSuccess(t, g)
}

// TestTransientRestart: one crash, one restart, then Ready: healthy.
func TestTransientRestart(t *testing.T) {
	t.Parallel()
	r := newRollout(t, setup{})
	g := startGate(t, r, nil)
	r.podStatus(crashed(0, true))
	g.waitLog("CrashLoopBackOff")
	st := crashed(1, false)
	st.Conditions[1].Status, st.ContainerStatuses[0].Ready = corev1.ConditionTrue, true
	r.podStatus(st)
	g.waitLog("1/1 new pods ready")
	r.deployStatus(available)
	wantSuccess(t, g)
}

// TestLaterWaveIgnored: a Deployment of a later wave is not applied before
// the gate ends; waiting for it would deadlock the sync.
func TestLaterWaveIgnored(t *testing.T) {
	t.Parallel()
	r := newRollout(t, setup{lateWave: true})
	r.podStatus(running(true))
	r.deployStatus(available)
	g := startGate(t, r, nil)
	wantSuccess(t, g)
	if !strings.Contains(g.log(), `"waveFrom":"argocd.argoproj.io/sync-wave"`) {
		t.Error("the wave was not read from the Job's annotation")
	}
}

// TestUpdateLandsLater: the gate starts while the Application still shows
// the previous, finished operation and the Deployment its old, healthy
// generation; the old revision's pod crash-loops. It waits for Argo CD to
// record this sync, then for the controller to observe the new generation,
// then judges the new revision's pod only.
func TestUpdateLandsLater(t *testing.T) {
	t.Parallel()
	r := newRollout(t, setup{previousOp: true})
	r.podStatus(crashed(5, true)) // the old revision; must not count
	g := startGate(t, r, nil)
	g.waitLog("waiting for Argo CD to record the running sync operation")

	// Argo CD applies the new template and records the sync.
	d := r.deploy
	d.Spec.Template.Spec.Containers[0].Image = "ghcr.io/acme/web:v3"
	d, err := cluster.Client.AppsV1().Deployments(r.ns).Update(r.ctx, d, metav1.UpdateOptions{})
	must(t, err)
	r.deploy = d
	r.appStatus([]any{resource("apps", "Deployment", r.ns, "web", 0)}, operation("Running", "Running", true))
	g.waitLog("waiting for the controller to observe generation 2")

	// The controller observes it: a new ReplicaSet and pod.
	r.rs = r.replicaSet("web-5c6b", "2")
	r.pod = r.newPod("web-5c6b-k8", r.rs, running(false))
	r.deployStatus(func(st *appsv1.DeploymentStatus) { rolling(st); st.Replicas = 2 })
	g.waitLog("0/1 new pods ready")
	r.podStatus(running(true))
	r.deployStatus(available)
	wantSuccess(t, g)
}

// TestTimeout: a rollout that neither becomes healthy nor fails ends at
// GATE_TIMEOUT with what it still waits for.
func TestTimeout(t *testing.T) {
	t.Parallel()
	r := newRollout(t, setup{})
	r.podStatus(running(false))
	r.warning("Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503")
	g := startGate(t, r, map[string]string{"GATE_TIMEOUT": "3s"})
	wantFailure(t, g, "not healthy after 3s: Deployment web: 0/1 new pods ready; pod web-7d9f-x2: container",
		"not ready: Readiness probe failed: HTTP probe failed with statuscode: 503")
}

// TestForbidden: without list/watch on pods the gate cannot judge: exit 3,
// naming the permission.
func TestForbidden(t *testing.T) {
	t.Parallel()
	r := newRollout(t, setup{noPodRights: true})
	g := startGate(t, r, nil)
	code, _ := g.exit()
	if code != 3 || !strings.Contains(g.log(), "forbidden to list and watch pods in namespace "+r.ns+" (grant get, list, watch on pods)") {
		t.Fatalf("exit %d, want 3 naming the pods permission", code)
	}
}

// TestNewGenerationBeforeItsReplicaSet: the sync of a fix. Revision 1
// crash-loops; the Deployment controller records generation 2 at revision
// 2 (observedGeneration, annotation) before the gate's ReplicaSet watch
// delivers the new ReplicaSet. The old revision's crash loop must not fail
// the fix: the gate waits for the ReplicaSet of revision 2.
func TestNewGenerationBeforeItsReplicaSet(t *testing.T) {
	t.Parallel()
	r := newRollout(t, setup{})
	r.podStatus(crashed(5, true)) // revision 1, the broken one
	d := r.deploy
	d.Spec.Template.Spec.Containers[0].Image = "ghcr.io/acme/web:v3"
	d.Annotations = map[string]string{"deployment.kubernetes.io/revision": "2"}
	d, err := cluster.Client.AppsV1().Deployments(r.ns).Update(r.ctx, d, metav1.UpdateOptions{})
	must(t, err)
	r.deploy = d
	r.deployStatus(func(st *appsv1.DeploymentStatus) { rolling(st); st.Replicas = 2 })

	g := startGate(t, r, nil)
	g.waitLog("waiting for the ReplicaSet of revision 2")
	if !g.running() {
		t.Fatalf("the gate ended on the previous revision's crash loop:\n%s", g.log())
	}
	r.rs = r.replicaSet("web-5c6b", "2")
	r.pod = r.newPod("web-5c6b-k8", r.rs, running(false))
	g.waitLog("0/1 new pods ready")
	r.podStatus(running(true))
	r.deployStatus(available)
	wantSuccess(t, g)
}

// TestInitContainerFailedThenCompleted: an init container that waited for
// a database applied in the same sync failed twice, then completed; the
// pod runs and is ready. That is a healthy rollout, not a crash loop.
func TestInitContainerFailedThenCompleted(t *testing.T) {
	t.Parallel()
	r := newRollout(t, setup{})
	g := startGate(t, r, nil)
	g.waitLog("0/1 new pods ready")
	st := running(true)
	st.InitContainerStatuses = []corev1.ContainerStatus{{Name: "wait-db", Image: "busybox", Ready: true, RestartCount: 2,
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed"}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error",
			Message: "db:5432 connection refused"}}}}
	r.podStatus(st)
	g.waitLog("1/1 new pods ready")
	r.deployStatus(available)
	wantSuccess(t, g)
}

// TestJobDeadline: a gate Job whose activeDeadlineSeconds ends before
// GATE_TIMEOUT (10m by default) would be killed by the Job controller with
// no cause written. The gate reads its Job's deadline and ends its watch
// first, leaving time to mark and to write why.
func TestJobDeadline(t *testing.T) {
	t.Parallel()
	r := newRollout(t, setup{jobDeadline: 24})
	r.podStatus(running(false))
	g := startGate(t, r, nil)
	wantFailure(t, g, "(the gate Job's activeDeadlineSeconds ends then", "Deployment web: 0/1 new pods ready")
}
