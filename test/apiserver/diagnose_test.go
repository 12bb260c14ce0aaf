package apiserver_test

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/syncreport/syncreport/internal/slacktest"
)

// crashLoop stages, without a kubelet, what a crash-looping rollout leaves:
// a Deployment past its progress deadline, its newest ReplicaSet, and a pod
// of that revision in CrashLoopBackOff — statuses written through the
// status subresource.
func crashLoop(t *testing.T, ns, name string) {
	ctx := context.Background()
	c := cluster.Client
	labels := map[string]string{"app": name}
	tmpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: restrictedPod("default")}
	tmpl.Spec.RestartPolicy = corev1.RestartPolicyAlways
	tmpl.Spec.Containers[0].Name = "app"
	d, err := c.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       appsv1.DeploymentSpec{Replicas: ptr.To[int32](2), Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tmpl},
	}, metav1.CreateOptions{})
	must(t, err)
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: 2, UpdatedReplicas: 2, UnavailableReplicas: 2,
		Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse,
			Reason: "ProgressDeadlineExceeded", Message: `ReplicaSet "` + name + `-7d9f" has timed out progressing.`}}}
	_, err = c.AppsV1().Deployments(ns).UpdateStatus(ctx, d, metav1.UpdateOptions{})
	must(t, err)
	rs, err := c.AppsV1().ReplicaSets(ns).Create(ctx, &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-7d9f", Labels: labels,
			Annotations:     map[string]string{"deployment.kubernetes.io/revision": "2"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: name, UID: d.UID, Controller: ptr.To(true)}}},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](2), Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tmpl},
	}, metav1.CreateOptions{})
	must(t, err)
	pod, err := c.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-7d9f-x2", Labels: labels,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: ptr.To(true)}}},
		Spec: tmpl.Spec,
	}, metav1.CreateOptions{})
	must(t, err)
	pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{
		Name: "app", Image: "ghcr.io/team/web:1.5.0", RestartCount: 3,
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 40s restarting failed container"}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: 1, Reason: "Error", Message: "panic: DATABASE_URL not set"}},
	}}}
	_, err = c.CoreV1().Pods(ns).UpdateStatus(ctx, pod, metav1.UpdateOptions{})
	must(t, err)
}

// TestDiagnosisNamesTheCause: the SyncFail report says why the Deployment
// failed, from the pods of its current revision.
func TestDiagnosisNamesTheCause(t *testing.T) {
	s := slacktest.Start(t)
	dest, kc := stage(t, scenario{fixture: "syncfail-degraded", app: "web-crash", appNS: "argocd", hookJob: "syncreport-syncfail", diagnose: true})
	crashLoop(t, dest, "web")
	r := runHook(t, dest, kc, slackEnv(s))
	onePost(t, r, s, "web-crash sync failed", "Deployment "+dest+"/web",
		`CrashLoopBackOff, exit code 1 (3 restarts): panic: DATABASE_URL not set`)
	if !strings.Contains(r.stderr, `"msg":"diagnosis"`) {
		t.Error("the diagnosis is not logged")
	}
}

// TestDiagnosisForbidden: without list rights the report still arrives,
// saying what could not be inspected.
func TestDiagnosisForbidden(t *testing.T) {
	s := slacktest.Start(t)
	dest, kc := stage(t, scenario{fixture: "syncfail-degraded", app: "web-blind", appNS: "argocd", hookJob: "syncreport-syncfail"})
	crashLoop(t, dest, "web")
	r := runHook(t, dest, kc, slackEnv(s))
	onePost(t, r, s, "web-blind sync failed", "not inspected (forbidden")
}

// TestCleanSyncNoDiagnosis: a healthy PostSync makes no diagnosis requests
// and carries no cause lines.
func TestCleanSyncNoDiagnosis(t *testing.T) {
	s := slacktest.Start(t)
	dest, kc := stage(t, scenario{fixture: "postsync-healthy", app: "web-clean", appNS: "argocd", hookJob: "syncreport-postsync", diagnose: true})
	r := runHook(t, dest, kc, slackEnv(s))
	p := onePost(t, r, s, "web-clean synced and healthy")
	if strings.Contains(blocks(p), "Failing resources") || strings.Contains(r.stderr, `"msg":"diagnosis"`) {
		t.Errorf("a clean sync got diagnosis noise")
	}
}
