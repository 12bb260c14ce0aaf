//go:build unix

package multicluster_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
)

var applicationGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}

const (
	argoNamespace = "argocd"
	appNamespace  = "web" // in the destination cluster
	jobName       = "syncreport-syncfail"
	podName       = "syncreport-syncfail-x7k2p"
	// trackingID is what Argo CD writes on the hook Job it creates in the
	// destination cluster: <app>:<group>/<kind>:<namespace>/<name>.
	trackingID = "web:batch/Job:web/syncreport-syncfail"
)

// applications are in the Argo CD cluster: "web", deployed to a remote
// cluster, whose SyncFail hook is running, and "other", which the hook's
// remote identity may not read. The Application CRD has no status
// subresource, so apply sets status too.
const applications = `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: web
spec:
  project: payments
  source:
    repoURL: https://git.example.com/team/web.git
    path: deploy
    targetRevision: main
  destination:
    server: https://web-prod.example.com:6443
    namespace: web
status:
  sync:
    status: Synced
    revision: 9c0ffee1234567890abcdef1234567890abcdef1
  health:
    status: Degraded
    message: Deployment "web" exceeded its progress deadline
  operationState:
    phase: Running
    message: waiting for completion of hook batch/Job/syncreport-syncfail
    startedAt: "2026-11-20T10:00:00Z"
    operation:
      initiatedBy:
        username: bob
      sync:
        revision: 9c0ffee1234567890abcdef1234567890abcdef1
    syncResult:
      revision: 9c0ffee1234567890abcdef1234567890abcdef1
      resources:
      - {group: apps, version: v1, kind: Deployment, namespace: web, name: web, status: Synced, hookPhase: Failed, syncPhase: Sync, message: Deployment "web" exceeded its progress deadline}
      - {group: batch, version: v1, kind: Job, namespace: web, name: syncreport-syncfail, hookType: SyncFail, hookPhase: Running, syncPhase: SyncFail, message: job.batch/syncreport-syncfail created}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: other
spec:
  project: default
  source:
    repoURL: https://git.example.com/team/other.git
    path: deploy
  destination:
    server: https://kubernetes.default.svc
    namespace: other
`

// remoteRBAC lets syncreport-remote, in the Argo CD cluster, get the one
// Application "web" and nothing else: the identity a team would put in the
// Secret behind ARGOCD_KUBECONFIG_FILE.
const remoteRBAC = `
apiVersion: v1
kind: ServiceAccount
metadata:
  name: syncreport-remote
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: syncreport-remote-web
rules:
- apiGroups: [argoproj.io]
  resources: [applications]
  resourceNames: [web]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: syncreport-remote-web
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: syncreport-remote-web
subjects:
- kind: ServiceAccount
  name: syncreport-remote
`

// destRBAC lets the hook find its own Pod and Job in the destination
// cluster. It grants nothing of Argo CD's: there is none here.
const destRBAC = `
apiVersion: v1
kind: ServiceAccount
metadata:
  name: syncreport
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: syncreport
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [get]
- apiGroups: [batch]
  resources: [jobs]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: syncreport
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: syncreport
subjects:
- kind: ServiceAccount
  name: syncreport
`

// setupArgoCluster installs Argo CD's CRDs, the Applications and the remote
// RBAC in the Argo CD cluster, and returns a kubeconfig for syncreport-remote.
func setupArgoCluster(ctx context.Context, t *testing.T) string {
	t.Helper()
	c := argoCluster
	if err := c.InstallArgoCRDs(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateNamespace(ctx, argoNamespace, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Apply(ctx, []byte(applications+"\n---\n"+remoteRBAC), argoNamespace); err != nil {
		t.Fatal(err)
	}
	app, err := c.Dynamic.Resource(applicationGVR).Namespace(argoNamespace).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if phase, _, _ := unstructured.NestedString(app.Object, "status", "operationState", "phase"); phase != "Running" {
		t.Fatalf("status.operationState.phase = %q after apply, want Running: status was not stored", phase)
	}
	path, err := c.KubeconfigFor(ctx, argoNamespace, "syncreport-remote")
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// setupDestination creates, in the destination cluster, the restricted
// namespace, the hook's ServiceAccount and Role, and the hook Job with its
// Pod as Argo CD and the Job controller would, and returns a kubeconfig for
// the hook's ServiceAccount.
func setupDestination(ctx context.Context, t *testing.T) string {
	t.Helper()
	c := destCluster
	restricted := map[string]string{
		"pod-security.kubernetes.io/enforce": "restricted",
		"pod-security.kubernetes.io/warn":    "restricted",
	}
	if err := c.CreateNamespace(ctx, appNamespace, restricted); err != nil {
		t.Fatal(err)
	}
	if err := c.Apply(ctx, []byte(destRBAC), appNamespace); err != nil {
		t.Fatal(err)
	}
	spec := corev1.PodSpec{
		ServiceAccountName: "syncreport",
		RestartPolicy:      corev1.RestartPolicyNever,
		SecurityContext: &corev1.PodSecurityContext{
			RunAsNonRoot:   ptr.To(true),
			RunAsUser:      ptr.To[int64](65532),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		Containers: []corev1.Container{{
			Name:  "hook",
			Image: "ghcr.io/syncreport/syncreport:v0.1.0",
			Args:  []string{"report"},
			SecurityContext: &corev1.SecurityContext{
				AllowPrivilegeEscalation: ptr.To(false),
				ReadOnlyRootFilesystem:   ptr.To(true),
				Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			},
		}},
	}
	job, err := c.Client.BatchV1().Jobs(appNamespace).Create(ctx, &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name: jobName,
			Annotations: map[string]string{
				"argocd.argoproj.io/hook":        "SyncFail",
				"argocd.argoproj.io/tracking-id": trackingID,
			},
		},
		Spec: batchv1.JobSpec{
			BackoffLimit: ptr.To[int32](0),
			Template:     corev1.PodTemplateSpec{Spec: spec},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// No controller-manager runs: make the Job's Pod as the Job controller would.
	_, err = c.Client.CoreV1().Pods(appNamespace).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:   podName,
			Labels: map[string]string{"batch.kubernetes.io/job-name": jobName, "job-name": jobName},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "batch/v1", Kind: "Job", Name: job.Name, UID: job.UID,
				Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
			}},
		},
		Spec: spec,
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create the hook Pod in a restricted namespace: %v", err)
	}
	path, err := c.KubeconfigFor(ctx, appNamespace, "syncreport")
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRemoteApplication runs the hook in the destination cluster with its
// Application in another cluster: it reads the app through
// ARGOCD_KUBECONFIG_FILE, and only through it.
func TestRemoteApplication(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	remote := setupArgoCluster(ctx, t)
	dest := setupDestination(ctx, t)

	// The premise: there is no Application in the destination cluster, not
	// even its CRD, and the hook's identity there cannot read one.
	t.Run("destination cluster has no Application", func(t *testing.T) {
		_, err := destCluster.Dynamic.Resource(applicationGVR).Namespace(argoNamespace).Get(ctx, "web", metav1.GetOptions{})
		if !apierrors.IsNotFound(err) {
			t.Errorf("get application %s/web as the destination's admin: %v, want NotFound", argoNamespace, err)
		}
		if _, err := destCluster.Client.Discovery().ServerResourcesForGroupVersion(applicationGVR.GroupVersion().String()); !apierrors.IsNotFound(err) {
			t.Errorf("discovery of %s in the destination cluster: %v, want NotFound", applicationGVR.GroupVersion(), err)
		}
		// The authorizer answers before the missing resource is noticed.
		_, err = dynamicFor(t, dest).Resource(applicationGVR).Namespace(argoNamespace).Get(ctx, "web", metav1.GetOptions{})
		if !apierrors.IsNotFound(err) && !apierrors.IsForbidden(err) {
			t.Errorf("get application %s/web as the hook in the destination cluster: %v, want NotFound or Forbidden", argoNamespace, err)
		}
	})
	// The remote identity reaches exactly one Application.
	t.Run("remote identity reads only its Application", func(t *testing.T) {
		apps := dynamicFor(t, remote).Resource(applicationGVR).Namespace(argoNamespace)
		if _, err := apps.Get(ctx, "web", metav1.GetOptions{}); err != nil {
			t.Errorf("get web: %v", err)
		}
		if _, err := apps.Get(ctx, "other", metav1.GetOptions{}); !apierrors.IsForbidden(err) {
			t.Errorf("get other: %v, want Forbidden", err)
		}
		if _, err := apps.List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
			t.Errorf("list: %v, want Forbidden", err)
		}
	})

	secrets := []string{tokenOf(t, remote), tokenOf(t, dest)}
	base := map[string]string{
		"KUBECONFIG":             dest,
		"POD_NAME":               podName,
		"POD_NAMESPACE":          appNamespace,
		"ARGOCD_KUBECONFIG_FILE": remote,
		"NOTIFIER":               "stdout",
		"STDOUT_FORMAT":          "json",
		"HOOK_TIMEOUT":           "30s",
	}
	tests := []struct {
		name       string
		env        map[string]string // added to base; "" removes a variable
		wantCode   int
		wantStderr string // substring of stderr
		check      func(t *testing.T, stdout []byte)
	}{
		{
			name:     "application read through ARGOCD_KUBECONFIG_FILE",
			wantCode: 0,
			check: func(t *testing.T, stdout []byte) {
				var r struct {
					Verdict string `json:"verdict"`
					App     struct {
						Name, Namespace, Project string
					} `json:"app"`
					Hook        string `json:"hook"`
					Destination struct {
						Server, Namespace string
					} `json:"destination"`
				}
				if err := json.NewDecoder(bytes.NewReader(stdout)).Decode(&r); err != nil {
					t.Fatalf("stdout is not a JSON report: %v\n%s", err, stdout)
				}
				if r.Verdict != "failed" {
					t.Errorf("verdict %q, want failed", r.Verdict)
				}
				if r.App.Name != "web" || r.App.Namespace != argoNamespace || r.App.Project != "payments" {
					t.Errorf("app %+v, want web in %s, project payments", r.App, argoNamespace)
				}
				// The hook found its own Job in the destination cluster.
				if r.Hook != "SyncFail" {
					t.Errorf("hook %q, want SyncFail", r.Hook)
				}
				if r.Destination.Server != "https://web-prod.example.com:6443" {
					t.Errorf("destination %+v, want the remote cluster", r.Destination)
				}
			},
		},
		{
			// Without the remote kubeconfig the hook looks in its own
			// cluster, as before multi-cluster support, and fails there.
			name:       "without ARGOCD_KUBECONFIG_FILE",
			env:        map[string]string{"ARGOCD_KUBECONFIG_FILE": ""},
			wantCode:   3,
			wantStderr: `"system:serviceaccount:web:syncreport"`,
		},
		{
			// Refused by the Argo CD cluster, to the remote identity.
			name:       "application the remote role does not grant",
			env:        map[string]string{"ARGOCD_APP_NAME": "other"},
			wantCode:   3,
			wantStderr: `"system:serviceaccount:argocd:syncreport-remote"`,
		},
		{
			// Like a missing SLACK_TOKEN_FILE: a configuration error.
			name:       "remote kubeconfig file missing",
			env:        map[string]string{"ARGOCD_KUBECONFIG_FILE": filepath.Join(t.TempDir(), "missing")},
			wantCode:   2,
			wantStderr: "ARGOCD_KUBECONFIG_FILE",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			for k, v := range tt.env {
				env[k] = v
			}
			stdout, stderr, code := runHook(ctx, t, env)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstderr:\n%s\nstdout:\n%s", code, tt.wantCode, stderr, stdout)
			}
			if !strings.Contains(string(stderr), tt.wantStderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantStderr, stderr)
			}
			for _, s := range secrets {
				if bytes.Contains(stdout, []byte(s)) || bytes.Contains(stderr, []byte(s)) {
					t.Errorf("a ServiceAccount token appears in the hook's output")
				}
			}
			if tt.check != nil {
				tt.check(t, stdout)
			}
		})
	}
}

// runHook runs the hook binary with exactly env (empty values dropped), so
// neither the developer's kubeconfig nor an in-cluster config can be used.
func runHook(ctx context.Context, t *testing.T, env map[string]string) (stdout, stderr []byte, code int) {
	t.Helper()
	cmd := exec.CommandContext(ctx, hookBin, "report")
	cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		if v != "" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code = exit.ExitCode()
	default:
		t.Fatalf("run hook: %v", err)
	}
	return out.Bytes(), errb.Bytes(), code
}

func dynamicFor(t *testing.T, kubeconfig string) dynamic.Interface {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return dyn
}

// tokenOf returns the bearer token in a kubeconfig written by KubeconfigFor.
func tokenOf(t *testing.T, kubeconfig string) string {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BearerToken == "" {
		t.Fatalf("%s holds no token", kubeconfig)
	}
	return cfg.BearerToken
}
