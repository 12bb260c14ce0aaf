package gate_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"

	"github.com/syncreport/syncreport/internal/argocd"
)

const gateJob = "web-gate"

// runs numbers the rollouts of this process.
var runs atomic.Int64

// setup shapes a rollout.
type setup struct {
	// name names the namespace and the app; default from the test's name.
	name string
	// lateWave adds Deployment "late" in wave 1 to the app, never rolled out.
	lateWave bool
	// previousOp starts with the previous operation in the Application
	// (Succeeded, its gate entry Succeeded) and the Deployment at its old,
	// healthy generation: the gate starts before this sync is recorded.
	previousOp bool
	// noPodRights withholds list/watch on pods from the gate.
	noPodRights bool
	// markRights grants patch on deployments/status (GATE_MARK_DEGRADED).
	markRights bool
	// jobDeadline is the gate Job's activeDeadlineSeconds (0: none).
	jobDeadline int64
}

// rollout is one sync in progress: the Application, Deployment web with its
// current ReplicaSet and pod, the gate's Job and Pod, and a kubeconfig for
// the gate's ServiceAccount.
type rollout struct {
	t          testing.TB
	ctx        context.Context
	ns, app    string
	kubeconfig string
	deploy     *appsv1.Deployment
	rs         *appsv1.ReplicaSet
	pod        *corev1.Pod
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func newRollout(t testing.TB, s setup) *rollout {
	t.Helper()
	ctx := context.Background()
	c := cluster.Client
	name := s.name
	if name == "" {
		name = t.Name()
	}
	ns := "g-" + strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(name))
	if len(ns) > 50 {
		ns = ns[:50]
	}
	// Unique per run, so that -count=N works on the shared cluster.
	ns = strings.TrimRight(ns, "-") + fmt.Sprintf("-%d", runs.Add(1))
	r := &rollout{t: t, ctx: ctx, ns: ns, app: ns}
	must(t, cluster.CreateNamespace(ctx, ns, nil))

	labels := map[string]string{"app": "web"}
	tmpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
		Containers: []corev1.Container{{Name: "app", Image: "ghcr.io/acme/web:v2"}},
	}}
	d, err := c.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec:       appsv1.DeploymentSpec{Replicas: ptr.To[int32](1), Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tmpl},
	}, metav1.CreateOptions{})
	must(t, err)
	r.deploy = d
	if s.previousOp {
		r.deployStatus(available)
	} else {
		r.deployStatus(rolling)
	}
	r.rs = r.replicaSet("web-7d9f", "1")
	r.pod = r.newPod("web-7d9f-x2", r.rs, pending())

	// The Application as Argo CD shows it while the gate (a Sync hook of
	// wave 0) runs.
	resources := []any{resource("apps", "Deployment", ns, "web", 0)}
	if s.lateWave {
		resources = append(resources, resource("apps", "Deployment", ns, "late", 1))
	}
	op := operation("Running", "Running", true)
	if s.previousOp {
		op = operation("Succeeded", "Succeeded", true)
	}
	app := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
		"metadata": map[string]any{"name": r.app, "namespace": "argocd"},
		"spec": map[string]any{
			"project":     "default",
			"source":      map[string]any{"repoURL": "https://git.example.com/team/web.git", "path": "deploy", "targetRevision": "main"},
			"destination": map[string]any{"server": "https://kubernetes.default.svc", "namespace": ns},
		},
	}}
	_, err = cluster.Dynamic.Resource(argocd.ApplicationsGVR).Namespace("argocd").Create(ctx, app, metav1.CreateOptions{})
	must(t, err)
	r.appStatus(resources, op)

	// Least privilege: get its one Application; find its own Job; list and
	// watch the workload kinds, pods and events in the destination.
	sa := "gate"
	_, err = c.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa}}, metav1.CreateOptions{})
	must(t, err)
	grant := func(roleNS, name string, rules []rbacv1.PolicyRule) {
		_, err := c.RbacV1().Roles(roleNS).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}, metav1.CreateOptions{})
		must(t, err)
		_, err = c.RbacV1().RoleBindings(roleNS).Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: sa, Namespace: ns}},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name},
		}, metav1.CreateOptions{})
		must(t, err)
	}
	grant("argocd", "gate-"+ns, []rbacv1.PolicyRule{{
		APIGroups: []string{"argoproj.io"}, Resources: []string{"applications"}, Verbs: []string{"get"}, ResourceNames: []string{r.app},
	}})
	watch := []string{"get", "list", "watch"}
	podRule := rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods", "events"}, Verbs: watch}
	if s.noPodRights {
		podRule = rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get"}}
	}
	rules := []rbacv1.PolicyRule{
		podRule,
		{APIGroups: []string{"apps"}, Resources: []string{"deployments", "replicasets", "statefulsets", "daemonsets"}, Verbs: watch},
		{APIGroups: []string{"batch"}, Resources: []string{"jobs"}, Verbs: watch},
	}
	if s.markRights {
		rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{"apps"}, Resources: []string{"deployments/status"}, Verbs: []string{"patch"}})
	}
	grant(ns, "gate", rules)

	// The gate's Job as Argo CD creates it (tracking and wave on the Job) and its Pod.
	spec := corev1.PodSpec{ServiceAccountName: sa, RestartPolicy: corev1.RestartPolicyNever,
		Containers: []corev1.Container{{Name: "gate", Image: "ghcr.io/syncreport/syncreport:test", Args: []string{"gate"}}}}
	job, err := c.BatchV1().Jobs(ns).Create(ctx, &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: gateJob, Annotations: map[string]string{
			argocd.TrackingIDAnnotation:    r.app + ":batch/Job:" + ns + "/" + gateJob,
			"argocd.argoproj.io/hook":      "Sync",
			"argocd.argoproj.io/sync-wave": "0",
		}},
		Spec: batchv1.JobSpec{BackoffLimit: ptr.To[int32](0), Template: corev1.PodTemplateSpec{Spec: spec}},
	}, metav1.CreateOptions{})
	must(t, err)
	if s.jobDeadline > 0 {
		job.Spec.ActiveDeadlineSeconds = ptr.To(s.jobDeadline)
		job, err = c.BatchV1().Jobs(ns).Update(ctx, job, metav1.UpdateOptions{})
		must(t, err)
	}
	_, err = c.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: gateJob + "-q7x2p", OwnerReferences: []metav1.OwnerReference{{
			APIVersion: "batch/v1", Kind: "Job", Name: job.Name, UID: job.UID, Controller: ptr.To(true)}}},
		Spec: spec,
	}, metav1.CreateOptions{})
	must(t, err)

	r.kubeconfig, err = cluster.KubeconfigFor(ctx, ns, sa)
	must(t, err)
	return r
}

func resource(group, kind, ns, name string, wave int64) map[string]any {
	return map[string]any{"group": group, "version": "v1", "kind": kind, "namespace": ns, "name": name,
		"status": "Synced", "syncWave": wave, "health": map[string]any{"status": "Progressing"}}
}

// operation is status.operationState: phase, the gate's hookPhase, and
// whether Deployment web has its entry.
func operation(phase, gatePhase string, webApplied bool) map[string]any {
	var entries []any
	if webApplied {
		entries = append(entries, map[string]any{"group": "apps", "version": "v1", "kind": "Deployment", "name": "web",
			"status": "Synced", "hookPhase": "Running", "syncPhase": "Sync", "message": "deployment.apps/web configured"})
	}
	entries = append(entries, map[string]any{"group": "batch", "version": "v1", "kind": "Job", "name": gateJob,
		"hookType": "Sync", "hookPhase": gatePhase, "syncPhase": "Sync", "status": "Synced", "message": "job.batch/" + gateJob + " created"})
	return map[string]any{
		"phase": phase, "startedAt": time.Now().UTC().Format(time.RFC3339),
		"operation":  map[string]any{"sync": map[string]any{"revision": "9c0ffee"}, "initiatedBy": map[string]any{"username": "alice"}},
		"syncResult": map[string]any{"revision": "9c0ffee", "resources": entries},
	}
}

// appStatus writes the Application's status; entries without a namespace
// get the destination's.
func (r *rollout) appStatus(resources []any, op map[string]any) {
	r.t.Helper()
	if sr, ok := op["syncResult"].(map[string]any); ok {
		for _, e := range sr["resources"].([]any) {
			e.(map[string]any)["namespace"] = r.ns
		}
	}
	st := map[string]any{
		"sync":           map[string]any{"status": "Synced", "revision": "9c0ffee"},
		"health":         map[string]any{"status": "Progressing"},
		"resources":      resources,
		"operationState": op,
	}
	must(r.t, cluster.UpdateStatus(r.ctx, argocd.ApplicationsGVR, "argocd", r.app, st))
}

func (r *rollout) deployStatus(edit func(*appsv1.DeploymentStatus)) {
	r.t.Helper()
	d, err := cluster.Client.AppsV1().Deployments(r.ns).Get(r.ctx, "web", metav1.GetOptions{})
	must(r.t, err)
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation}
	edit(&d.Status)
	d, err = cluster.Client.AppsV1().Deployments(r.ns).UpdateStatus(r.ctx, d, metav1.UpdateOptions{})
	must(r.t, err)
	r.deploy = d
}

func rolling(st *appsv1.DeploymentStatus) {
	st.Replicas, st.UpdatedReplicas, st.UnavailableReplicas = 1, 1, 1
}

func available(st *appsv1.DeploymentStatus) {
	st.Replicas, st.UpdatedReplicas, st.ReadyReplicas, st.AvailableReplicas = 1, 1, 1, 1
	st.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable"}}
}

func (r *rollout) replicaSet(name, revision string) *appsv1.ReplicaSet {
	r.t.Helper()
	d := r.deploy
	rs, err := cluster.Client.AppsV1().ReplicaSets(r.ns).Create(r.ctx, &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: d.Spec.Template.Labels,
			Annotations:     map[string]string{"deployment.kubernetes.io/revision": revision},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: d.Name, UID: d.UID, Controller: ptr.To(true)}}},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](1), Selector: d.Spec.Selector, Template: d.Spec.Template},
	}, metav1.CreateOptions{})
	must(r.t, err)
	return rs
}

func (r *rollout) newPod(name string, rs *appsv1.ReplicaSet, st corev1.PodStatus) *corev1.Pod {
	r.t.Helper()
	p, err := cluster.Client.CoreV1().Pods(r.ns).Create(r.ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: rs.Spec.Template.Labels,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: ptr.To(true)}}},
		Spec: rs.Spec.Template.Spec,
	}, metav1.CreateOptions{})
	must(r.t, err)
	p.Status = st
	p, err = cluster.Client.CoreV1().Pods(r.ns).UpdateStatus(r.ctx, p, metav1.UpdateOptions{})
	must(r.t, err)
	return p
}

// podStatus writes the pod's status, as the kubelet would.
func (r *rollout) podStatus(st corev1.PodStatus) {
	r.t.Helper()
	r.pod.Status = st
	p, err := cluster.Client.CoreV1().Pods(r.ns).UpdateStatus(r.ctx, r.pod, metav1.UpdateOptions{})
	must(r.t, err)
	r.pod = p
}

// warning records a Warning event about the pod, as the kubelet would.
func (r *rollout) warning(reason, msg string) {
	r.t.Helper()
	now := metav1.Now()
	_, err := cluster.Client.CoreV1().Events(r.ns).Create(r.ctx, &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{GenerateName: r.pod.Name + "."},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: r.ns, Name: r.pod.Name, UID: r.pod.UID,
			FieldPath: "spec.containers{app}"},
		Type: corev1.EventTypeWarning, Reason: reason, Message: msg, Count: 1,
		FirstTimestamp: now, LastTimestamp: now, Source: corev1.EventSource{Component: "kubelet"},
	}, metav1.CreateOptions{})
	must(r.t, err)
}

func scheduled() []corev1.PodCondition {
	return []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}}
}

func pending() corev1.PodStatus {
	return corev1.PodStatus{Phase: corev1.PodPending, Conditions: scheduled(), ContainerStatuses: []corev1.ContainerStatus{{
		Name: "app", Image: "ghcr.io/acme/web:v2", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}}}}
}

func running(ready bool) corev1.PodStatus {
	rs := corev1.ConditionFalse
	if ready {
		rs = corev1.ConditionTrue
	}
	st := corev1.PodStatus{Phase: corev1.PodRunning, Conditions: append(scheduled(), corev1.PodCondition{Type: corev1.PodReady, Status: rs})}
	st.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", Image: "ghcr.io/acme/web:v2", Ready: ready,
		State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}}}}
	return st
}

// crashed is the pod after its container crashed: in back-off (waiting)
// or restarted (running, not ready), with restarts restarts so far.
func crashed(restarts int32, backOff bool) corev1.PodStatus {
	st := running(false)
	cs := &st.ContainerStatuses[0]
	cs.RestartCount = restarts
	cs.LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		ExitCode: 1, Reason: "Error", Message: "panic: DATABASE_URL not set", FinishedAt: metav1.Now()}}
	if backOff {
		cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff",
			Message: "back-off 10s restarting failed container=app pod=web-7d9f-x2"}}
	}
	return st
}

func waitingIn(reason, msg string) corev1.PodStatus {
	st := pending()
	st.ContainerStatuses[0].State.Waiting = &corev1.ContainerStateWaiting{Reason: reason, Message: msg}
	return st
}

// gate is one run of the built `hook gate`.
type gate struct {
	t       testing.TB
	cmd     *exec.Cmd
	termLog string
	mu      sync.Mutex
	stderr  bytes.Buffer
	done    chan struct{}
	code    int
}

type lockedWriter struct{ g *gate }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.g.mu.Lock()
	defer w.g.mu.Unlock()
	return w.g.stderr.Write(p)
}

// startGate runs the binary as its pod would: downward-API variables, the
// ServiceAccount's identity, LOG_LEVEL=debug so that tests can wait for
// what it has judged.
func startGate(t testing.TB, r *rollout, env map[string]string) *gate {
	t.Helper()
	g := &gate{t: t, termLog: filepath.Join(t.TempDir(), "termination-log"), done: make(chan struct{})}
	g.cmd = exec.Command(hookBin, "gate")
	g.cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
		"KUBECONFIG=" + r.kubeconfig,
		"POD_NAME=" + gateJob + "-q7x2p", "POD_NAMESPACE=" + r.ns,
		"GATE_TERMINATION_LOG=" + g.termLog, "LOG_LEVEL=debug",
	}
	for k, v := range env {
		g.cmd.Env = append(g.cmd.Env, k+"="+v)
	}
	g.cmd.Stderr = lockedWriter{g}
	must(t, g.cmd.Start())
	go func() {
		err := g.cmd.Wait()
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			g.code = ee.ExitCode()
		case err != nil:
			g.code = -1
		}
		close(g.done)
	}()
	t.Cleanup(func() {
		select {
		case <-g.done:
		default:
			g.cmd.Process.Kill()
			<-g.done
		}
	})
	return g
}

func (g *gate) log() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.stderr.String()
}

// waitLog waits until the gate's log holds s: it has judged that state.
// It fails the test if the gate exits first.
func (g *gate) waitLog(s string) {
	g.t.Helper()
	deadline := time.After(60 * time.Second)
	for !strings.Contains(g.log(), s) {
		select {
		case <-g.done:
			if strings.Contains(g.log(), s) {
				return
			}
			g.t.Fatalf("gate exited (%d) before logging %q:\n%s", g.code, s, g.log())
		case <-deadline:
			g.t.Fatalf("gate never logged %q:\n%s", s, g.log())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// exit waits for the gate to end and returns its exit code and termination message.
func (g *gate) exit() (int, string) {
	g.t.Helper()
	select {
	case <-g.done:
	case <-time.After(2 * time.Minute):
		g.t.Fatalf("gate did not exit:\n%s", g.log())
	}
	b, _ := os.ReadFile(g.termLog)
	g.t.Logf("exit %d, termination message %q\n%s", g.code, b, g.log())
	return g.code, strings.TrimSpace(string(b))
}

// running reports whether the gate has not exited yet.
func (g *gate) running() bool {
	select {
	case <-g.done:
		return false
	default:
		return true
	}
}
