package ship_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/syncreport/syncreport/internal/testcluster"
	"github.com/syncreport/syncreport/test/ship"
)

// restricted are the labels of a namespace that enforces the `restricted`
// Pod Security Standard and warns about (and audits) any violation,
// including in the Pod templates of Jobs and CronJobs, which enforce alone
// does not look at.
var restricted = map[string]string{
	"pod-security.kubernetes.io/enforce": "restricted",
	"pod-security.kubernetes.io/warn":    "restricted",
	"pod-security.kubernetes.io/audit":   "restricted",
}

var applicationGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}

// ensureNamespaces creates every namespace objs name, and namespace, as
// restricted, unless it exists.
func ensureNamespaces(ctx context.Context, t *testing.T, c *testcluster.Cluster, objs []*unstructured.Unstructured, namespace string) {
	t.Helper()
	names := map[string]bool{namespace: true}
	for _, o := range objs {
		if ns := o.GetNamespace(); ns != "" {
			names[ns] = true
		}
	}
	for ns := range names {
		_, err := c.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			err = c.CreateNamespace(ctx, ns, restricted)
		}
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
}

// TestDryRunRestricted sends every rendering to a real API server with
// server-side dry-run, into namespaces that enforce `restricted`: no error
// (schema, validation, admission) and no warning (PodSecurity, unknown or
// deprecated fields) is allowed.
func TestDryRunRestricted(t *testing.T) {
	renderings := renderAll(t)
	c := needCluster(t)
	ctx := testContext(t)
	for _, r := range renderings {
		t.Run(r.name, func(t *testing.T) {
			ensureNamespaces(ctx, t, c, r.objs, appNamespace)
			warnings, err := ship.DryRun(ctx, c.Config, c.Mapper, r.objs, appNamespace)
			if err != nil {
				t.Error(err)
			}
			for _, w := range warnings {
				t.Errorf("warning: %s", w)
			}
		})
	}

	// The check above is only as good as the warnings reaching it.
	t.Run("a violation is seen", func(t *testing.T) {
		job := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "batch/v1",
			"kind":       "Job",
			"metadata":   map[string]any{"name": "loose"},
			"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
				"restartPolicy": "Never",
				"containers":    []any{map[string]any{"name": "c", "image": "example.com/c:1"}},
			}}},
		}}
		ensureNamespaces(ctx, t, c, nil, appNamespace)
		warnings, err := ship.DryRun(ctx, c.Config, c.Mapper, []*unstructured.Unstructured{job}, appNamespace)
		if err != nil {
			t.Fatal(err)
		}
		if len(warnings) == 0 || !strings.Contains(warnings[0].Text, `violate PodSecurity "restricted`) {
			t.Errorf("warnings %v, want a PodSecurity restricted violation", warnings)
		}
	})
}

// TestExampleApplications validates the example Application and AppProject
// against Argo CD's CRDs; an unknown field is a warning, and fails.
func TestExampleApplications(t *testing.T) {
	c := needCluster(t)
	ctx := testContext(t)
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "examples", "applications", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples/applications/*.yaml (%v)", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			objs, err := ship.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			ensureNamespaces(ctx, t, c, objs, "argocd")
			warnings, err := ship.DryRun(ctx, c.Config, c.Mapper, objs, "argocd")
			if err != nil {
				t.Error(err)
			}
			for _, w := range warnings {
				t.Errorf("warning: %s", w)
			}
		})
	}
}

// access is one question for the API server's authorizer.
type access struct {
	verb, group, resource, subresource, namespace, name string
	allowed                                             bool
}

func (a access) String() string {
	r := a.resource
	if a.group != "" {
		r += "." + a.group
	}
	if a.subresource != "" {
		r += "/" + a.subresource
	}
	if a.name != "" {
		r += " " + a.name
	}
	ns := a.namespace
	if ns == "" {
		ns = "(all namespaces)"
	}
	return fmt.Sprintf("%s %s in %s", a.verb, r, ns)
}

// TestRBAC creates each rendering's ServiceAccount and RBAC for real and asks
// the authorizer what the ServiceAccount may do: read its Application, find
// its own Pod and Job, watch what the gate watches; no Secrets, nothing
// elsewhere, and no writes but patch on deployments/status where the gate
// marks broken Deployments (GATE_MARK_DEGRADED). A real
// request with the ServiceAccount's token then reads the Application. The
// remote destination variants may not read any Application.
func TestRBAC(t *testing.T) {
	tl := needTools(t)
	c := needCluster(t)
	ctx := testContext(t)
	root := repoRoot(t)
	for _, tc := range []struct {
		name string
		// render returns the manifests for app namespace ns.
		render       func(ns string) ([]byte, error)
		sa           string
		argoNS       string // where the Application and its Role are
		appName      func(ns string) string
		onlyNamedApp bool // resourceNames restricts the Application Role
		logs         bool // pods/log granted
		remote       bool // a remote destination variant: no Application access at all
		markDegraded bool // patch on deployments/status granted
	}{
		{
			name:    "hooks",
			render:  func(ns string) ([]byte, error) { return tl.RenderHooks(ctx, root, t.TempDir(), ns) },
			sa:      "syncreport",
			argoNS:  "argocd",
			appName: func(ns string) string { return ns },
		},
		{
			name:         "chart-default",
			render:       func(ns string) ([]byte, error) { return tl.RenderChart(ctx, root, ns, ns) },
			sa:           "rbac-chart-default-syncreport",
			argoNS:       "argocd",
			appName:      func(ns string) string { return ns },
			onlyNamedApp: true,
		},
		{
			name: "chart-custom",
			render: func(ns string) ([]byte, error) {
				return tl.RenderChart(ctx, root, ns, ns, "-f", filepath.Join("testdata", "values-custom.yaml"))
			},
			sa:           "shop-reporter",
			argoNS:       "teams",
			appName:      func(string) string { return "shop-prod" },
			onlyNamedApp: true,
			logs:         true,
			markDegraded: true,
		},
		{
			name: "hooks-gate-mark-degraded",
			render: func(ns string) ([]byte, error) {
				return tl.RenderHooksWith(ctx, root, t.TempDir(), ship.HooksOptions{Namespace: ns, Components: []string{"gate", "gate-mark-degraded"}})
			},
			sa:           "syncreport",
			argoNS:       "argocd",
			appName:      func(ns string) string { return ns },
			markDegraded: true,
		},
		{
			name: "chart-gate",
			render: func(ns string) ([]byte, error) {
				return tl.RenderChart(ctx, root, ns, ns, "--set", "hooks.gate.enabled=true")
			},
			sa:           "rbac-chart-gate-syncreport",
			argoNS:       "argocd",
			appName:      func(ns string) string { return ns },
			onlyNamedApp: true,
		},
		{
			name: "hooks-remote",
			render: func(ns string) ([]byte, error) {
				return tl.RenderHooksWith(ctx, root, t.TempDir(), ship.HooksOptions{Namespace: ns, Components: []string{"remote-kubeconfig"}})
			},
			sa:      "syncreport",
			argoNS:  "argocd",
			appName: func(ns string) string { return ns },
			remote:  true,
		},
		{
			name: "chart-remote",
			render: func(ns string) ([]byte, error) {
				return tl.RenderChart(ctx, root, ns, ns, "--set", "argocd.remote.mode=api",
					"--set", "argocd.remote.server=argocd.example.com", "--set", "argocd.remote.tokenSecret.name=argocd-api")
			},
			sa:      "rbac-chart-remote-syncreport",
			argoNS:  "argocd",
			appName: func(ns string) string { return ns },
			remote:  true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := "rbac-" + tc.name
			b, err := tc.render(ns)
			if err != nil {
				t.Fatal(err)
			}
			objs, err := ship.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			ensureNamespaces(ctx, t, c, objs, ns)
			applyResources(ctx, t, c, objs, ns)

			app := tc.appName(ns)
			checks := []access{
				{"get", "argoproj.io", "applications", "", tc.argoNS, app, !tc.remote},
				{"get", "argoproj.io", "applications", "", tc.argoNS, "someone-else", !tc.onlyNamedApp && !tc.remote},
				{"list", "argoproj.io", "applications", "", tc.argoNS, "", false},
				{"watch", "argoproj.io", "applications", "", tc.argoNS, "", false},
				{"get", "argoproj.io", "applications", "", "", app, false},
				{"list", "argoproj.io", "applications", "", "", "", false},
				{"get", "argoproj.io", "applications", "", "kube-system", app, false},
				{"update", "argoproj.io", "applications", "", tc.argoNS, app, false},
				{"patch", "argoproj.io", "applications", "", tc.argoNS, app, false},
				{"delete", "argoproj.io", "applications", "", tc.argoNS, app, false},
				{"get", "argoproj.io", "appprojects", "", tc.argoNS, "default", false},
				{"get", "", "pods", "", ns, "syncreport-postsync-x1", true},
				{"get", "batch", "jobs", "", ns, "syncreport-postsync", true},
				{"list", "apps", "deployments", "", ns, "", true},
				{"watch", "apps", "replicasets", "", ns, "", true},
				{"list", "", "events", "", ns, "", true},
				// What the gate lists and watches.
				{"watch", "apps", "deployments", "", ns, "", true},
				{"watch", "apps", "statefulsets", "", ns, "", true},
				{"watch", "apps", "daemonsets", "", ns, "", true},
				{"watch", "batch", "jobs", "", ns, "", true},
				{"watch", "", "pods", "", ns, "", true},
				{"watch", "", "events", "", ns, "", true},
				// GATE_MARK_DEGRADED: the status, not the spec; patch only.
				{"patch", "apps", "deployments", "status", ns, "web", tc.markDegraded},
				{"update", "apps", "deployments", "status", ns, "web", false},
				{"patch", "apps", "statefulsets", "status", ns, "db", false},
				{"patch", "apps", "deployments", "status", tc.argoNS, "argocd-server", false},
				{"list", "events.k8s.io", "events", "", ns, "", true},
				{"get", "", "persistentvolumeclaims", "", ns, "data", true},
				{"list", "networking.k8s.io", "ingresses", "", ns, "", true},
				{"list", "autoscaling", "horizontalpodautoscalers", "", ns, "", true},
				{"get", "", "pods", "log", ns, "web-1", tc.logs},
				{"get", "", "secrets", "", ns, "syncreport-slack", false},
				{"list", "", "secrets", "", ns, "", false},
				{"get", "", "secrets", "", tc.argoNS, "argocd-secret", false},
				{"list", "", "secrets", "", "", "", false},
				{"get", "", "configmaps", "", ns, "syncreport", false},
				{"create", "", "pods", "", ns, "", false},
				{"create", "", "pods", "exec", ns, "web-1", false},
				{"delete", "", "pods", "", ns, "web-1", false},
				{"create", "batch", "jobs", "", ns, "", false},
				{"delete", "batch", "jobs", "", ns, "syncreport-postsync", false},
				{"patch", "apps", "deployments", "", ns, "web", false},
				{"update", "apps", "deployments", "", ns, "web", false},
				{"create", "rbac.authorization.k8s.io", "rolebindings", "", ns, "", false},
				{"list", "", "pods", "", "", "", false},
				{"get", "", "pods", "", "kube-system", "etcd", false},
				{"list", "", "namespaces", "", "", "", false},
				{"list", "", "nodes", "", "", "", false},
			}
			user := "system:serviceaccount:" + ns + ":" + tc.sa
			for _, a := range checks {
				sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
					User:   user,
					Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
					ResourceAttributes: &authorizationv1.ResourceAttributes{
						Namespace: a.namespace, Verb: a.verb, Group: a.group,
						Resource: a.resource, Subresource: a.subresource, Name: a.name,
					},
				}}
				got, err := c.Client.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if got.Status.Allowed != a.allowed {
					t.Errorf("%s may %s: %v, want %v (%s)", user, a, got.Status.Allowed, a.allowed, got.Status.Reason)
				}
			}

			// A real request, as the hook makes it, with the ServiceAccount's token.
			createApplication(ctx, t, c, tc.argoNS, app, ns)
			cfg, err := c.ConfigFor(ctx, ns, tc.sa)
			if err != nil {
				t.Fatal(err)
			}
			dc, err := dynamic.NewForConfig(cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = dc.Resource(applicationGVR).Namespace(tc.argoNS).Get(ctx, app, metav1.GetOptions{})
			switch {
			case tc.remote && !apierrors.IsForbidden(err):
				t.Errorf("get application %s/%s as %s: %v, want forbidden (remote: read from the Argo CD cluster)", tc.argoNS, app, user, err)
			case !tc.remote && err != nil:
				t.Errorf("get application %s/%s as %s: %v", tc.argoNS, app, user, err)
			}
			_, err = dc.Resource(applicationGVR).Namespace(tc.argoNS).List(ctx, metav1.ListOptions{})
			if !apierrors.IsForbidden(err) {
				t.Errorf("list applications in %s as %s: %v, want forbidden", tc.argoNS, user, err)
			}
		})
	}
}

// applyResources applies the objects of a rendering but the hook Jobs, as
// Argo CD applies an Application's resources, and its PreSync hooks before
// them (server-side apply, with more rights than the hook has); namespaced
// objects without a namespace go to ns.
func applyResources(ctx context.Context, t *testing.T, c *testcluster.Cluster, objs []*unstructured.Unstructured, ns string) {
	t.Helper()
	var apply []byte
	for _, o := range objs {
		if ship.IsHook(o) && o.GetKind() == "Job" {
			continue
		}
		j, err := json.Marshal(o.Object)
		if err != nil {
			t.Fatal(err)
		}
		apply = append(append(apply, j...), '\n')
	}
	if err := c.Apply(ctx, apply, ns); err != nil {
		t.Fatal(err)
	}
}

// createApplication creates a minimal valid Application, once.
func createApplication(ctx context.Context, t *testing.T, c *testcluster.Cluster, namespace, name, dest string) {
	t.Helper()
	app := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1",
		"kind":       "Application",
		"metadata":   map[string]any{"name": name, "namespace": namespace},
		"spec": map[string]any{
			"project":     "default",
			"destination": map[string]any{"server": "https://kubernetes.default.svc", "namespace": dest},
			"source":      map[string]any{"repoURL": "https://git.example.com/shop.git", "path": ".", "targetRevision": "HEAD"},
		},
	}}
	_, err := c.Dynamic.Resource(applicationGVR).Namespace(namespace).Create(ctx, app, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}
