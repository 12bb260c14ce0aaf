package apiserver_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/syncreport/syncreport/internal/argocd"
	"github.com/syncreport/syncreport/internal/slacktest"
)

// scenario is one hook run: an Application in a given state, the hook's own
// Job and Pod in the destination namespace, and least-privilege RBAC.
type scenario struct {
	fixture string // internal/report/testdata/apps/<fixture>.yaml
	app     string // Application name
	appNS   string // Application namespace ("argocd" unless apps-in-any-namespace)
	hookJob string // the hook's own Job, as named in the fixture's syncResult
	noRBAC  bool   // skip the Role that lets the hook read the Application
	// trackingApp overrides the app part of the Job's tracking id.
	trackingApp string
	annotations map[string]string // on the Application
	// readable lists the apps the Role may get (resourceNames); default the app.
	readable []string
	// diagnose grants the read-only verbs the live diagnosis needs.
	diagnose bool
	// hook is the Job's argocd.argoproj.io/hook annotation, as Argo CD
	// creates a hook Job from the manifest; empty for an ad hoc Job.
	hook string
}

type result struct {
	code           int
	stdout, stderr string
}

// stage creates everything a hook run needs and returns the destination
// namespace and a kubeconfig for the hook's ServiceAccount.
func stage(t *testing.T, s scenario) (dest, kubeconfig string) {
	t.Helper()
	ctx := context.Background()
	c := cluster.Client
	dest = "t-" + strings.ToLower(strings.NewReplacer("/", "-", "_", "-", "=", "-").Replace(t.Name()))
	if len(dest) > 60 {
		dest = dest[:60]
	}
	must(t, cluster.CreateNamespace(ctx, dest, map[string]string{
		"pod-security.kubernetes.io/enforce": "restricted",
	}))
	if s.appNS != "argocd" {
		must(t, ignoreExists(cluster.CreateNamespace(ctx, s.appNS, nil)))
	}

	// The Application, with the fixture's status and the destination namespace.
	b, err := os.ReadFile(filepath.Join("..", "..", "internal", "report", "testdata", "apps", s.fixture+".yaml"))
	must(t, err)
	var obj map[string]any
	must(t, yaml.Unmarshal(b, &obj))
	u := &unstructured.Unstructured{Object: obj}
	u.SetName(s.app)
	u.SetNamespace(s.appNS)
	u.SetAnnotations(s.annotations)
	must(t, unstructured.SetNestedField(u.Object, dest, "spec", "destination", "namespace"))
	if rs, ok, _ := unstructured.NestedSlice(u.Object, "status", "operationState", "syncResult", "resources"); ok {
		for _, r := range rs {
			if m := r.(map[string]any); m["namespace"] != "" && m["namespace"] != nil {
				m["namespace"] = dest
			}
		}
		must(t, unstructured.SetNestedSlice(u.Object, rs, "status", "operationState", "syncResult", "resources"))
	}
	_, err = cluster.Dynamic.Resource(argocd.ApplicationsGVR).Namespace(s.appNS).Create(ctx, u, metav1.CreateOptions{})
	must(t, err)

	// Least privilege: get this one Application; get pods and jobs at home.
	sa := "syncreport"
	_, err = c.CoreV1().ServiceAccounts(dest).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa}}, metav1.CreateOptions{})
	must(t, err)
	subject := []rbacv1.Subject{{Kind: "ServiceAccount", Name: sa, Namespace: dest}}
	grant := func(ns, name string, rules []rbacv1.PolicyRule) {
		_, err := c.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}, metav1.CreateOptions{})
		must(t, err)
		_, err = c.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: name}, Subjects: subject,
			RoleRef: rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name},
		}, metav1.CreateOptions{})
		must(t, err)
	}
	if !s.noRBAC {
		names := s.readable
		if names == nil {
			names = []string{s.app}
		}
		grant(s.appNS, "syncreport-"+dest, []rbacv1.PolicyRule{{
			APIGroups: []string{"argoproj.io"}, Resources: []string{"applications"},
			Verbs: []string{"get"}, ResourceNames: names,
		}})
	}
	rules := []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get"}},
		{APIGroups: []string{"batch"}, Resources: []string{"jobs"}, Verbs: []string{"get"}},
	}
	if s.diagnose {
		read := []string{"get", "list", "watch"}
		rules = append(rules,
			rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods", "events", "services", "persistentvolumeclaims"}, Verbs: read},
			rbacv1.PolicyRule{APIGroups: []string{"apps"}, Resources: []string{"deployments", "replicasets", "statefulsets", "daemonsets"}, Verbs: read},
			rbacv1.PolicyRule{APIGroups: []string{"batch"}, Resources: []string{"jobs"}, Verbs: read})
	}
	grant(dest, "syncreport", rules)

	// The hook Job as Argo CD creates it (tracking on the Job only) and its Pod.
	tracking := s.trackingApp
	if tracking == "" {
		tracking = s.app
		if s.appNS != "argocd" {
			tracking = s.appNS + "_" + s.app
		}
	}
	spec := restrictedPod(sa)
	job, err := c.BatchV1().Jobs(dest).Create(ctx, &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: s.hookJob, Annotations: jobAnnotations(s, tracking, dest)},
		Spec:       batchv1.JobSpec{BackoffLimit: ptr.To[int32](0), Template: corev1.PodTemplateSpec{Spec: spec}},
	}, metav1.CreateOptions{})
	must(t, err)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: s.hookJob + "-x7k2p", OwnerReferences: []metav1.OwnerReference{{
			APIVersion: "batch/v1", Kind: "Job", Name: job.Name, UID: job.UID, Controller: ptr.To(true),
		}}},
		Spec: spec,
	}
	_, err = c.CoreV1().Pods(dest).Create(ctx, pod, metav1.CreateOptions{})
	must(t, err)

	kubeconfig, err = cluster.KubeconfigFor(ctx, dest, sa)
	must(t, err)
	return dest, kubeconfig
}

func jobAnnotations(s scenario, tracking, dest string) map[string]string {
	a := map[string]string{argocd.TrackingIDAnnotation: tracking + ":batch/Job:" + dest + "/" + s.hookJob}
	if s.hook != "" {
		a[argocd.HookAnnotation] = s.hook
	}
	return a
}

// later edits the staged Application's syncResult entries after d, as Argo
// CD would while the hook runs.
func later(t *testing.T, d time.Duration, s scenario, edit func(entries []any)) {
	t.Helper()
	done := make(chan struct{})
	t.Cleanup(func() { <-done })
	go func() {
		defer close(done)
		time.Sleep(d)
		ctx := context.Background()
		apps := cluster.Dynamic.Resource(argocd.ApplicationsGVR).Namespace(s.appNS)
		u, err := apps.Get(ctx, s.app, metav1.GetOptions{})
		if err != nil {
			t.Error(err)
			return
		}
		rs, _, _ := unstructured.NestedSlice(u.Object, "status", "operationState", "syncResult", "resources")
		edit(rs)
		if err := unstructured.SetNestedSlice(u.Object, rs, "status", "operationState", "syncResult", "resources"); err != nil {
			t.Error(err)
			return
		}
		if _, err := apps.Update(ctx, u, metav1.UpdateOptions{}); err != nil {
			t.Error(err)
		}
	}()
}

// restrictedPod is a pod spec that passes PodSecurity "restricted".
func restrictedPod(sa string) corev1.PodSpec {
	return corev1.PodSpec{
		ServiceAccountName: sa,
		RestartPolicy:      corev1.RestartPolicyNever,
		SecurityContext: &corev1.PodSecurityContext{
			RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To[int64](65532),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		Containers: []corev1.Container{{
			Name: "hook", Image: "ghcr.io/syncreport/syncreport:test",
			SecurityContext: &corev1.SecurityContext{
				AllowPrivilegeEscalation: ptr.To(false), ReadOnlyRootFilesystem: ptr.To(true),
				Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			},
		}},
	}
}

// runHook runs the built binary as the pod would: downward-API variables,
// the ServiceAccount's identity, no ARGOCD_APP_NAME.
func runHook(t *testing.T, dest, kubeconfig string, env map[string]string) result {
	t.Helper()
	return runHookCmd(t, dest, kubeconfig, env)
}

// runHookCmd is runHook with the hook's arguments (gate).
func runHookCmd(t *testing.T, dest, kubeconfig string, env map[string]string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, hookBin, args...)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
		"KUBECONFIG=" + kubeconfig,
		"POD_NAME=" + podName(t, dest), "POD_NAMESPACE=" + dest,
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	t.Logf("exit %d\nstderr:\n%s", r.code, r.stderr)
	return r
}

// podName finds the hook's own pod: the one owned by a Job.
func podName(t *testing.T, ns string) string {
	pods, err := cluster.Client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
	must(t, err)
	for _, p := range pods.Items {
		if len(p.OwnerReferences) > 0 && p.OwnerReferences[0].Kind == "Job" {
			return p.Name
		}
	}
	t.Fatalf("no hook pod in %s", ns)
	return ""
}

// blocks returns a post's blocks as text, undoing JSON's HTML escapes.
func blocks(p slacktest.Post) string {
	return strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(p.Blocks))
}

func slackEnv(s *slacktest.Server) map[string]string {
	return map[string]string{
		"SLACK_TOKEN": slacktest.DefaultToken, "SLACK_CHANNEL": "#deploys", "SLACK_API_URL": s.URL(),
		"ARGOCD_URL": "https://argocd.example.com", "HOOK_TIMEOUT": "20s",
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ignoreExists(err error) error {
	if err != nil && strings.Contains(err.Error(), "already exists") {
		return nil
	}
	return err
}
