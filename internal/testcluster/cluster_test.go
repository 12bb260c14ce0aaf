//go:build unix

package testcluster_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/syncreport/syncreport/internal/testcluster"
)

// cluster is shared by the tests of this package, as the package doc shows.
var cluster *testcluster.Cluster

func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	began := time.Now()
	c, err := testcluster.Start(ctx)
	cancel()
	if errors.Is(err, testcluster.ErrToolsUnavailable) {
		fmt.Fprintln(os.Stderr, "SKIP cluster tests:", err)
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "testcluster started in %s at %s (dir %s)\n", time.Since(began).Round(time.Millisecond), c.Config.Host, c.Dir)
	cluster = c
	code := m.Run()
	c.Stop()
	os.Exit(code)
}

var applicationGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}

// newNamespace creates a namespace named after the test and suffix, so
// parallel tests sharing the cluster do not collide.
func newNamespace(t *testing.T, suffix string, labels map[string]string) string {
	t.Helper()
	name := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	if len(name) > 50 {
		name = name[:50]
	}
	name += "-" + suffix
	if err := cluster.CreateNamespace(t.Context(), name, labels); err != nil {
		t.Fatal(err)
	}
	return name
}

func TestPodSecurityAdmission(t *testing.T) {
	t.Parallel()
	restricted := newNamespace(t, "restricted", map[string]string{"pod-security.kubernetes.io/enforce": "restricted"})
	unlabelled := newNamespace(t, "unlabelled", nil)

	yes, no := true, false
	privileged := corev1.PodSpec{Containers: []corev1.Container{{
		Name:            "app",
		Image:           "registry.example/app:1",
		SecurityContext: &corev1.SecurityContext{Privileged: &yes},
	}}}
	compliant := corev1.PodSpec{
		SecurityContext: &corev1.PodSecurityContext{
			RunAsNonRoot:   &yes,
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		Containers: []corev1.Container{{
			Name:  "app",
			Image: "registry.example/app:1",
			SecurityContext: &corev1.SecurityContext{
				AllowPrivilegeEscalation: &no,
				Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			},
		}},
	}

	tests := []struct {
		name      string
		namespace string
		spec      corev1.PodSpec
		wantErr   string // substring of the rejection; empty: accepted
	}{
		{name: "privileged pod in restricted namespace", namespace: restricted, spec: privileged, wantErr: `violates PodSecurity "restricted:latest"`},
		{name: "compliant pod in restricted namespace", namespace: restricted, spec: compliant},
		// Proves the rejection above is PodSecurity's, not --allow-privileged's.
		{name: "privileged pod in unlabelled namespace", namespace: unlabelled, spec: privileged},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("pod-%d", i)}, Spec: tt.spec}
			_, err := cluster.Client.CoreV1().Pods(tt.namespace).Create(t.Context(), pod, metav1.CreateOptions{})
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("create pod: %v", err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("create pod: accepted, want rejection %q", tt.wantErr)
			case tt.wantErr != "" && (!apierrors.IsForbidden(err) || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("create pod: %v, want Forbidden with %q", err, tt.wantErr)
			}
		})
	}
}

const application = `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: web
spec:
  project: default
  source:
    repoURL: https://git.example/web.git
    path: deploy
    targetRevision: main
  destination:
    server: https://kubernetes.default.svc
    namespace: web
`

func TestArgoApplication(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	if err := cluster.InstallArgoCRDs(ctx); err != nil {
		t.Fatal(err)
	}
	ns := newNamespace(t, "apps", nil)
	if err := cluster.Apply(ctx, []byte(application), ns); err != nil {
		t.Fatal(err)
	}
	app, err := cluster.Dynamic.Resource(applicationGVR).Namespace(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, _, _ := unstructured.NestedString(app.Object, "spec", "destination", "namespace"); got != "web" {
		t.Errorf("spec.destination.namespace = %q, want web", got)
	}

	// Stage status as the Argo CD controller would write it.
	status := map[string]any{
		"health": map[string]any{"status": "Degraded", "message": "back-off restarting"},
		"sync":   map[string]any{"status": "Synced", "revision": "0123abc"},
	}
	if err := cluster.UpdateStatus(ctx, applicationGVR, ns, "web", status); err != nil {
		t.Fatal(err)
	}
	app, err = cluster.Dynamic.Resource(applicationGVR).Namespace(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, _, _ := unstructured.NestedString(app.Object, "status", "health", "status"); got != "Degraded" {
		t.Errorf("status.health.status = %q, want Degraded", got)
	}

	// Apply again is an update, not an AlreadyExists error.
	if err := cluster.Apply(ctx, []byte(strings.Replace(application, "main", "v2", 1)), ns); err != nil {
		t.Fatal(err)
	}
}

func TestServiceAccountRBAC(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	if err := cluster.InstallArgoCRDs(ctx); err != nil {
		t.Fatal(err)
	}
	ns := newNamespace(t, "rbac", nil)
	rbac := `
apiVersion: v1
kind: ServiceAccount
metadata:
  name: reader
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: application-reader
rules:
- apiGroups: [argoproj.io]
  resources: [applications]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: reader
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: application-reader
subjects:
- kind: ServiceAccount
  name: reader
`
	if err := cluster.Apply(ctx, []byte(application+"\n---\n"+rbac), ns); err != nil {
		t.Fatal(err)
	}
	path, err := cluster.KubeconfigFor(ctx, ns, "reader")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}

	review, err := client.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := review.Status.UserInfo.Username, "system:serviceaccount:"+ns+":reader"; got != want {
		t.Errorf("authenticated as %q, want %q", got, want)
	}
	if _, err := dyn.Resource(applicationGVR).Namespace(ns).Get(ctx, "web", metav1.GetOptions{}); err != nil {
		t.Errorf("get application as reader: %v", err)
	}
	if _, err := dyn.Resource(applicationGVR).Namespace(ns).List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("list applications as reader: %v, want Forbidden (the Role grants get only)", err)
	}
	if _, err := client.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("list secrets as reader: %v, want Forbidden", err)
	}
}

func TestServiceAccountTokenTTL(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t, "tokens", nil)
	tests := []struct {
		name    string
		ttl     time.Duration
		wantErr bool
	}{
		{name: "server default", ttl: 0},
		{name: "ten minutes", ttl: 10 * time.Minute},
		{name: "below the server's minimum", ttl: time.Minute, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token, err := cluster.ServiceAccountToken(t.Context(), ns, "default", tt.ttl)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && strings.Count(token, ".") != 2 {
				t.Errorf("token is not a JWT")
			}
		})
	}
}

func TestPodStatusSubresource(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	ns := newNamespace(t, "pods", nil)
	pods := cluster.Client.CoreV1().Pods(ns)
	pod, err := pods.Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// No kubelet: stage what it would report for a crashing container.
	pod.Status.Phase = corev1.PodRunning
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{
		Name:         "app",
		Image:        "registry.example/app:1",
		RestartCount: 5,
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
			Reason:  "CrashLoopBackOff",
			Message: "back-off 2m40s restarting failed container=app",
		}},
	}}
	if _, err := pods.UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := pods.Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Status.ContainerStatuses) != 1 || got.Status.ContainerStatuses[0].State.Waiting == nil ||
		got.Status.ContainerStatuses[0].State.Waiting.Reason != "CrashLoopBackOff" {
		t.Errorf("containerStatuses = %+v, want app waiting in CrashLoopBackOff", got.Status.ContainerStatuses)
	}

	// The generic helper writes through the same subresource.
	status := map[string]any{"phase": "Failed", "reason": "Evicted"}
	if err := cluster.UpdateStatus(ctx, schema.GroupVersionResource{Version: "v1", Resource: "pods"}, ns, "web", status); err != nil {
		t.Fatal(err)
	}
	if got, err = pods.Get(ctx, "web", metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	if got.Status.Phase != corev1.PodFailed || got.Status.Reason != "Evicted" {
		t.Errorf("status = %s/%s, want Failed/Evicted", got.Status.Phase, got.Status.Reason)
	}
}

func TestAdminKubeconfig(t *testing.T) {
	t.Parallel()
	cfg, err := clientcmd.BuildConfigFromFlags("", cluster.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	review, err := client.AuthenticationV1().SelfSubjectReviews().Create(t.Context(), &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if u := review.Status.UserInfo; u.Username != "admin" || !slices.Contains(u.Groups, "system:masters") {
		t.Errorf("admin kubeconfig authenticates as %q in %q, want admin in system:masters", u.Username, u.Groups)
	}
}
