package ship_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/syncreport/syncreport/internal/slacktest"
	"github.com/syncreport/syncreport/internal/testcluster"
	"github.com/syncreport/syncreport/test/ship"
)

// Secrets the READMEs tell a user to create, out of Git, in the app
// namespace: the Slack bot token (key "token"; the chart reads it through
// slack.existingSecret) and, for a remote destination cluster, a kubeconfig
// for the Argo CD cluster (key "kubeconfig").
const (
	slackSecret  = "syncreport-slack"
	argocdSecret = "syncreport-argocd"
)

// TestShippedHooksReport is the end-to-end proof of what is shipped: each
// rendering, configured as a user would, is created for real on the API
// server (in namespaces that enforce `restricted`); the SyncFail hook Job is
// created as Argo CD creates it, and its Pod as the Job controller would;
// the built hook then runs with exactly the environment the kubelet would
// give that Pod and with its ServiceAccount's identity, and must post one
// report of the failed sync to Slack. For the chart, a Job made from its
// CronJob (`kubectl create job report-now --from=cronjob/…`) must report too.
//
// The remote variants (argocd.remote.mode=kubeconfig, the remote-kubeconfig
// Component) render no Role in the Argo CD namespace: the hook reads the
// Application with the kubeconfig mounted from a Secret, whose identity
// stands for one in the Argo CD cluster.
func TestShippedHooksReport(t *testing.T) {
	tl := needTools(t)
	c := needCluster(t)
	bin := needHook(t)
	ctx := testContext(t)
	root := repoRoot(t)
	for _, tc := range []struct {
		name string
		// render renders the hooks for app namespace ns and Application app,
		// with the Slack API at slackURL.
		render func(t *testing.T, ns, app, slackURL string) ([]byte, error)
		sa     func(app string) string
		via    string // how the hook finds its Application, as it logs
		// remote reads the Application through ARGOCD_KUBECONFIG_FILE.
		remote bool
		// cronJob runs a Job made from the rendered CronJob too.
		cronJob bool
	}{
		{
			name: "hooks",
			render: func(t *testing.T, ns, _, slackURL string) ([]byte, error) {
				// namespace.yaml and two more lines of settings.
				return tl.RenderHooksWith(ctx, root, t.TempDir(), ship.HooksOptions{
					Namespace: ns,
					Settings:  []string{"SLACK_API_URL=" + slackURL, "ARGOCD_URL=https://argocd.example.com"},
				})
			},
			sa:  func(string) string { return "syncreport" },
			via: "tracking-id annotation",
		},
		{
			name: "hooks-remote-kubeconfig",
			render: func(t *testing.T, ns, _, slackURL string) ([]byte, error) {
				return tl.RenderHooksWith(ctx, root, t.TempDir(), ship.HooksOptions{
					Namespace:  ns,
					Settings:   []string{"SLACK_API_URL=" + slackURL},
					Components: []string{"remote-kubeconfig"},
				})
			},
			sa:     func(string) string { return "syncreport" },
			via:    "tracking-id annotation",
			remote: true,
		},
		{
			name: "chart",
			render: func(t *testing.T, ns, app, slackURL string) ([]byte, error) {
				// Argo CD renders a Helm source with the Application's name
				// as the release name.
				return tl.RenderChart(ctx, root, app, ns,
					"--set", "slack.existingSecret="+slackSecret, "--set", "slack.channel=#deploys",
					"--set", "slack.apiURL="+slackURL, "--set", "argocd.url=https://argocd.example.com")
			},
			sa:      func(app string) string { return app + "-syncreport" },
			via:     "ARGOCD_APP_NAME",
			cronJob: true,
		},
		{
			name: "chart-remote-kubeconfig",
			render: func(t *testing.T, ns, app, slackURL string) ([]byte, error) {
				return tl.RenderChart(ctx, root, app, ns,
					"--set", "slack.existingSecret="+slackSecret, "--set", "slack.channel=#deploys",
					"--set", "slack.apiURL="+slackURL,
					"--set", "argocd.remote.mode=kubeconfig", "--set", "argocd.remote.kubeconfigSecret.name="+argocdSecret)
			},
			sa:      func(app string) string { return app + "-syncreport" },
			via:     "ARGOCD_APP_NAME",
			remote:  true,
			cronJob: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns, app := "e2e-"+tc.name, "shop-"+tc.name
			slack := slacktest.Start(t)
			b, err := tc.render(t, ns, app, slack.URL())
			if err != nil {
				t.Fatal(err)
			}
			objs, err := ship.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			ensureNamespaces(ctx, t, c, objs, ns)
			ensureNamespaces(ctx, t, c, nil, "argocd") // the Application's, also in remote modes
			applyResources(ctx, t, c, objs, ns)
			secrets := map[string]map[string]string{}
			createSecret(ctx, t, c, ns, slackSecret, map[string]string{"token": slacktest.DefaultToken}, secrets)
			mode := "kubernetes"
			if tc.remote {
				mode = "kubeconfig"
				for _, o := range objs {
					if o.GetNamespace() != ns {
						t.Errorf("%s rendered outside the app namespace in a remote mode", ship.ID(o))
					}
				}
				createSecret(ctx, t, c, ns, argocdSecret, map[string]string{"kubeconfig": argoCDReader(ctx, t, c, app)}, secrets)
			}
			kubeconfig, err := c.KubeconfigFor(ctx, ns, tc.sa(app))
			if err != nil {
				t.Fatal(err)
			}

			rendered := findHook(t, objs, "SyncFail")
			createSyncFailApp(ctx, t, c, root, app, ns, rendered.GetName())
			job, err := ship.HookJob(rendered, app, ns)
			if err != nil {
				t.Fatal(err)
			}
			r := runJobPod(ctx, t, c, bin, objs, job, secrets, kubeconfig)
			if r.code != 0 {
				t.Fatalf("hook exit %d, want 0", r.code)
			}
			posts := slack.Posts()
			if len(posts) != 1 {
				t.Fatalf("Slack received %d messages, want 1", len(posts))
			}
			checkPost(t, posts[0], app+" sync failed", "Deployment "+ns+"/web", "exceeded its progress deadline")
			checkLog(t, r.stderr, `"via":"`+tc.via+`"`, `"mode":"`+mode+`"`)
			if !tc.cronJob {
				return
			}

			// A report on demand, as NOTES.txt tells.
			cjs := ship.Find(objs, "CronJob")
			if len(cjs) != 1 {
				t.Fatalf("%d CronJobs rendered, want 1", len(cjs))
			}
			cj, err := c.Client.BatchV1().CronJobs(ns).Get(ctx, cjs[0].GetName(), metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			r = runJobPod(ctx, t, c, bin, objs, ship.JobFromCronJob(cj, "report-now"), secrets, kubeconfig)
			if r.code != 0 {
				t.Fatalf("report-now: hook exit %d, want 0", r.code)
			}
			posts = slack.Posts()
			if len(posts) != 2 {
				t.Fatalf("Slack received %d messages after report-now, want 2", len(posts))
			}
			checkPost(t, posts[1], app+" sync failed")
			checkLog(t, r.stderr, `"via":"ARGOCD_APP_NAME"`, `"mode":"`+mode+`"`)
		})
	}
}

// hookRun is how the hook binary ended.
type hookRun struct {
	code           int
	stdout, stderr string
}

// runJobPod creates job, and its Pod as the Job controller would, then runs
// the hook binary as the kubelet would run that Pod's container: with the
// environment ContainerEnv computes from the rendered objects and the Secrets
// in the cluster, and the ServiceAccount's identity (kubeconfig, standing in
// for the in-cluster token). Nothing of the test's own environment leaks in.
func runJobPod(ctx context.Context, t *testing.T, c *testcluster.Cluster, bin string, objs []*unstructured.Unstructured,
	job *batchv1.Job, secrets map[string]map[string]string, kubeconfig string) hookRun {
	t.Helper()
	job, err := c.Client.BatchV1().Jobs(job.Namespace).Create(ctx, job, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod, err := c.Client.CoreV1().Pods(job.Namespace).Create(ctx, ship.PodForJob(job), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create the Pod of Job %s/%s: %v", job.Namespace, job.Name, err)
	}
	u, err := ship.ToUnstructured(job, "batch/v1", "Job")
	if err != nil {
		t.Fatal(err)
	}
	env, err := ship.ContainerEnv(objs, u, ship.Pod{Name: pod.Name, Namespace: pod.Namespace}, secrets)
	if err != nil {
		t.Fatal(err)
	}
	// Files from Secret volumes: written under a directory of the test, and
	// the variables that point at them moved there.
	if err := ship.MountSecretFiles(objs, u, env, secrets, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(runCtx, bin, pod.Spec.Containers[0].Args...)
	cmd.Env = []string{"KUBECONFIG=" + kubeconfig, "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	slices.Sort(cmd.Env)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	r := hookRun{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	t.Logf("pod %s/%s: exit %d\nstderr:\n%s", pod.Namespace, pod.Name, r.code, r.stderr)
	return r
}

// createSecret creates Secret ns/name with data, as `kubectl create secret
// generic` would, and adds it to secrets as the kubelet would read it.
func createSecret(ctx context.Context, t *testing.T, c *testcluster.Cluster, ns, name string, data map[string]string, secrets map[string]map[string]string) {
	t.Helper()
	s, err := c.Client.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		StringData: data,
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	read := map[string]string{}
	for k, v := range s.Data {
		read[k] = string(v)
	}
	secrets[name] = read
}

// argoCDReader returns a kubeconfig whose identity may only get the
// Application app: a ServiceAccount in the argocd namespace with the Role
// the READMEs tell an admin of the Argo CD cluster to create.
func argoCDReader(ctx context.Context, t *testing.T, c *testcluster.Cluster, app string) string {
	t.Helper()
	name := "reader-" + app
	_, err := c.Client.CoreV1().ServiceAccounts("argocd").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	must(t, err)
	_, err = c.Client.RbacV1().Roles("argocd").Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{"argoproj.io"}, Resources: []string{"applications"},
			Verbs: []string{"get"}, ResourceNames: []string{app},
		}},
	}, metav1.CreateOptions{})
	must(t, err)
	_, err = c.Client.RbacV1().RoleBindings("argocd").Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: name, Namespace: "argocd"}},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name},
	}, metav1.CreateOptions{})
	must(t, err)
	path, err := c.KubeconfigFor(ctx, "argocd", name)
	must(t, err)
	b, err := os.ReadFile(path)
	must(t, err)
	return string(b)
}

// findHook returns the rendered Job of hook type hook.
func findHook(t *testing.T, objs []*unstructured.Unstructured, hook string) *unstructured.Unstructured {
	t.Helper()
	for _, u := range ship.Find(objs, "Job") {
		if u.GetAnnotations()[ship.HookAnnotation] == hook {
			return u
		}
	}
	t.Fatalf("no %s hook Job rendered", hook)
	return nil
}

// createSyncFailApp creates the Application app in the argocd namespace, in
// the state Argo CD leaves it while a SyncFail hook runs: the Deployment
// went Degraded and the hook Job hookJob is running. The state is the
// fixture internal/report/testdata/apps/syncfail-degraded.yaml, moved to
// destination namespace ns.
func createSyncFailApp(ctx context.Context, t *testing.T, c *testcluster.Cluster, root, app, ns, hookJob string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "internal", "report", "testdata", "apps", "syncfail-degraded.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(b, &u.Object); err != nil {
		t.Fatal(err)
	}
	u.SetName(app)
	u.SetNamespace("argocd")
	must(t, unstructured.SetNestedField(u.Object, ns, "spec", "destination", "namespace"))
	const fixtureJob = "syncreport-syncfail"
	must(t, unstructured.SetNestedField(u.Object, "waiting for completion of hook batch/Job/"+hookJob, "status", "operationState", "message"))
	rs, _, err := unstructured.NestedSlice(u.Object, "status", "operationState", "syncResult", "resources")
	must(t, err)
	for _, r := range rs {
		m := r.(map[string]any)
		m["namespace"] = ns
		if m["kind"] == "Job" && m["name"] == fixtureJob {
			m["name"] = hookJob
			m["message"] = "job.batch/" + hookJob + " created"
		}
	}
	must(t, unstructured.SetNestedSlice(u.Object, rs, "status", "operationState", "syncResult", "resources"))
	if _, err := c.Dynamic.Resource(applicationGVR).Namespace("argocd").Create(ctx, u, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// checkPost checks that a Slack message holds every want, in its text or
// its blocks (JSON's HTML escapes undone).
func checkPost(t *testing.T, p slacktest.Post, want ...string) {
	t.Helper()
	all := p.Text + strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(p.Blocks))
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("message lacks %q:\ntext: %s\nblocks: %s", w, p.Text, p.Blocks)
		}
	}
	if p.Channel != "#deploys" {
		t.Errorf("message to %q, want #deploys", p.Channel)
	}
}

// checkLog checks the hook's log says want, and that the shipped RBAC let
// it do all it tried: find its own Job, read the Application and the live
// objects.
func checkLog(t *testing.T, stderr string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("log lacks %s", w)
		}
	}
	for _, bad := range []string{"forbidden", "cannot find the hook's own Job"} {
		if strings.Contains(strings.ToLower(stderr), strings.ToLower(bad)) {
			t.Errorf("log says %q: the shipped RBAC is short of something", bad)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
