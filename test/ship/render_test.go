package ship_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/syncreport/syncreport/internal/config"
	"github.com/syncreport/syncreport/internal/gate"
	"github.com/syncreport/syncreport/test/ship"
)

// rendering is one way the project ships its hooks, rendered.
type rendering struct {
	name      string // also the golden file's base name
	manifests []byte
	objs      []*unstructured.Unstructured
	// defaults is true when the rendering uses the shipped defaults (no
	// custom values): only the hook's own variables may appear.
	defaults bool
}

// appNamespace is where every rendering's app (and hooks) live.
const appNamespace = "shop"

// The renderings are made once per test binary and shared: tests must not
// change them (DryRun and ContainerEnv do not).
var (
	renderOnce sync.Once
	renderings []rendering
	renderErr  error
)

// componentRenderings are the kustomize hooks with the gate and
// presync-support Components.
var componentRenderings = []struct {
	name       string
	components []string
}{
	{"hooks-gate", []string{"gate"}},
	{"hooks-gate-mark-degraded", []string{"gate", "gate-mark-degraded"}},
	{"hooks-presync-support", []string{"presync-support"}},
}

// renderAll returns the kustomize hooks and the chart with default, custom
// and Secret-making values, the example parent chart, the gate variants
// (componentRenderings) and the remote destination variants (remoteRenderings),
// rendered.
func renderAll(t *testing.T) []rendering {
	t.Helper()
	tl := needTools(t)
	root := repoRoot(t)
	renderOnce.Do(func() { renderings, renderErr = renderEverything(tl, root) })
	if renderErr != nil {
		t.Fatal(renderErr)
	}
	return renderings
}

func renderEverything(tl *ship.Tools, root string) ([]rendering, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	tmp, err := os.MkdirTemp("", "syncreport-render-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	var (
		out  []rendering
		errs []error
	)
	add := func(name string, defaults bool, b []byte, err error) {
		if err == nil {
			var objs []*unstructured.Unstructured
			if objs, err = ship.Decode(b); err == nil {
				out = append(out, rendering{name: name, manifests: b, objs: objs, defaults: defaults})
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("render %s: %w", name, err))
		}
	}
	b, err := tl.RenderHooks(ctx, root, tmp, appNamespace)
	add("hooks", true, b, err)
	b, err = tl.RenderChart(ctx, root, appNamespace, appNamespace)
	add("chart-default", true, b, err)
	b, err = tl.RenderChart(ctx, root, appNamespace, appNamespace, "-f", filepath.Join("testdata", "values-custom.yaml"))
	add("chart-custom", false, b, err)
	b, err = tl.RenderChart(ctx, root, appNamespace, appNamespace,
		"--set", "slack.token=xoxb-not-a-real-token", "--set", "slack.channel=#deploys",
		"--set", "argocd.discoverApp=true", "--set", "cronJob.enabled=false", "--set", "hooks.gate.enabled=true")
	add("chart-secret", true, b, err)
	b, err = tl.RenderParentChart(ctx, root, tmp, appNamespace, appNamespace)
	add("parent-chart", true, b, err)
	for _, g := range componentRenderings {
		b, err = tl.RenderHooksWith(ctx, root, tmp, ship.HooksOptions{Namespace: appNamespace, Components: g.components})
		add(g.name, true, b, err)
	}
	for _, r := range remoteRenderings {
		if r.chart != nil {
			b, err = tl.RenderChart(ctx, root, appNamespace, appNamespace, r.chart...)
		} else {
			b, err = tl.RenderHooksWith(ctx, root, tmp, ship.HooksOptions{Namespace: appNamespace, Components: []string{r.component}, Settings: r.settings})
		}
		add(r.name, true, b, err)
	}
	return out, errors.Join(errs...)
}

func TestGolden(t *testing.T) {
	for _, r := range renderAll(t) {
		t.Run(r.name, func(t *testing.T) {
			golden(t, r.name+".yaml", r.manifests)
		})
	}
}

// TestHookPods checks what every rendering must keep, whatever the values:
// the Pod passes `restricted`, the hooks cannot hang a sync or retry, and the
// hook can find itself.
func TestHookPods(t *testing.T) {
	for _, r := range renderAll(t) {
		t.Run(r.name, func(t *testing.T) {
			jobs := ship.Find(r.objs, "Job")
			if len(jobs) == 0 {
				t.Fatal("no Job rendered")
			}
			sawPostSync := false
			for _, u := range jobs {
				var job batchv1.Job
				fromUnstructured(t, u, &job)
				id := ship.ID(u)
				hook := job.Annotations[ship.HookAnnotation]
				switch hook {
				case "PostSync":
					sawPostSync = true
					// After the app's own PostSync hooks (default wave 0):
					// a success is never posted before a smoke test ends.
					if w, _ := strconv.Atoi(job.Annotations["argocd.argoproj.io/sync-wave"]); w < 100 {
						t.Errorf("%s: PostSync report in sync-wave %d, want at least 100 so the app's own PostSync hooks end first", id, w)
					}
				case "SyncFail":
				case "Sync":
					if job.Annotations["argocd.argoproj.io/sync-wave"] == "" {
						t.Errorf("%s: a Sync hook without a sync-wave", id)
					}
				default:
					t.Errorf("%s: hook annotation %q, want PostSync, SyncFail or Sync", id, hook)
				}
				if got := job.Annotations["argocd.argoproj.io/hook-delete-policy"]; got != "BeforeHookCreation,HookSucceeded" {
					t.Errorf("%s: hook-delete-policy %q", id, got)
				}
				checkJobSpec(t, u, r.objs, &job.Spec)
			}
			if !sawPostSync {
				t.Error("no PostSync hook: without it Argo CD never waits for health")
			}
			for _, u := range ship.Find(r.objs, "CronJob") {
				var cj batchv1.CronJob
				fromUnstructured(t, u, &cj)
				if ship.IsHook(u) {
					t.Errorf("%s: the CronJob must not be a hook", ship.ID(u))
				}
				if r.defaults && (cj.Spec.Suspend == nil || !*cj.Spec.Suspend) {
					t.Errorf("%s: not suspended by default", ship.ID(u))
				}
				checkJobSpec(t, u, r.objs, &cj.Spec.JobTemplate.Spec)
			}
			// What the hooks need must be in place before they run: a normal
			// resource or a PreSync hook (presync-support), in a negative wave.
			for _, u := range r.objs {
				if u.GetKind() == "Job" || u.GetKind() == "CronJob" || u.GetLabels()["app.kubernetes.io/name"] != "syncreport" {
					continue
				}
				if w := u.GetAnnotations()["argocd.argoproj.io/sync-wave"]; !strings.HasPrefix(w, "-") {
					t.Errorf("%s: sync-wave %q, want a negative wave so it exists before the hooks", ship.ID(u), w)
				}
				if h, ok := u.GetAnnotations()[ship.HookAnnotation]; ok && h != "PreSync" {
					t.Errorf("%s: a %s hook; only as a PreSync hook does it exist before the others", ship.ID(u), h)
				}
			}
		})
	}
}

func checkJobSpec(t *testing.T, u *unstructured.Unstructured, objs []*unstructured.Unstructured, spec *batchv1.JobSpec) {
	t.Helper()
	id := ship.ID(u)
	if spec.BackoffLimit == nil || *spec.BackoffLimit != 0 {
		t.Errorf("%s: backoffLimit %v, want 0 (a report is not retried by a new Pod)", id, spec.BackoffLimit)
	}
	if spec.TTLSecondsAfterFinished == nil {
		t.Errorf("%s: no ttlSecondsAfterFinished", id)
	}
	pod := spec.Template.Spec
	if pod.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("%s: restartPolicy %q", id, pod.RestartPolicy)
	}
	if pod.AutomountServiceAccountToken == nil || !*pod.AutomountServiceAccountToken {
		t.Errorf("%s: automountServiceAccountToken must be true: the hook reads the API", id)
	}
	if pod.ServiceAccountName == "" || pod.ServiceAccountName == "default" {
		t.Errorf("%s: serviceAccountName %q, want the hook's own", id, pod.ServiceAccountName)
	}
	psc := pod.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser != 65532 ||
		psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: pod securityContext %+v, want runAsNonRoot, runAsUser 65532, seccomp RuntimeDefault", id, psc)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%s: %d containers, want 1", id, len(pod.Containers))
	}
	c := pod.Containers[0]
	if c.Image == "" || strings.HasSuffix(c.Image, ":latest") || !strings.Contains(c.Image, ":") {
		t.Errorf("%s: image %q, want a pinned tag", id, c.Image)
	}
	sc := c.SecurityContext
	if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("%s: container securityContext %+v", id, sc)
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("%s: resources %v, want cpu and memory requests and a memory limit", id, c.Resources)
	}
	seen := map[string]bool{}
	for _, e := range c.Env {
		if seen[e.Name] {
			t.Errorf("%s: env %s twice", id, e.Name)
		}
		seen[e.Name] = true
	}
	for name, path := range map[string]string{"POD_NAME": "metadata.name", "POD_NAMESPACE": "metadata.namespace"} {
		i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == name })
		if i < 0 || c.Env[i].ValueFrom == nil || c.Env[i].ValueFrom.FieldRef == nil || c.Env[i].ValueFrom.FieldRef.FieldPath != path {
			t.Errorf("%s: %s must come from the downward API (%s)", id, name, path)
		}
	}
	env := declaredEnv(t, objs, c)
	timeout := 2 * time.Minute // the hook's default
	if v, ok := env["HOOK_TIMEOUT"]; ok {
		var err error
		if timeout, err = time.ParseDuration(v); err != nil {
			t.Errorf("%s: HOOK_TIMEOUT=%q: %v", id, v, err)
		}
	}
	if spec.ActiveDeadlineSeconds == nil || time.Duration(*spec.ActiveDeadlineSeconds)*time.Second <= timeout {
		t.Errorf("%s: activeDeadlineSeconds %v must exceed HOOK_TIMEOUT %s, so the hook ends on its own first", id, spec.ActiveDeadlineSeconds, timeout)
	}
	if slices.Equal(c.Args, []string{"gate"}) {
		gateTimeout := 10 * time.Minute // the gate's default
		if v, ok := env["GATE_TIMEOUT"]; ok {
			var err error
			if gateTimeout, err = time.ParseDuration(v); err != nil {
				t.Errorf("%s: GATE_TIMEOUT=%q: %v", id, v, err)
			}
		}
		// The chart and manifests/components/gate must both cover the
		// gate's longest run, as the gate itself computes it.
		if want := gate.JobDeadline(timeout, gateTimeout); spec.ActiveDeadlineSeconds == nil || time.Duration(*spec.ActiveDeadlineSeconds)*time.Second < want {
			t.Errorf("%s: activeDeadlineSeconds %v must be at least %s (HOOK_TIMEOUT %s twice, GATE_TIMEOUT %s, a minute to mark and write the cause: gate.JobDeadline), or the kubelet kills the gate before it writes why",
				id, ptrString(spec.ActiveDeadlineSeconds), want, timeout, gateTimeout)
		}
	}
}

// declaredEnv returns the names the container's environment may hold: its
// env entries and the keys of the ConfigMaps it takes whole (envFrom), with
// plain values ("" for valueFrom).
func declaredEnv(t *testing.T, objs []*unstructured.Unstructured, c corev1.Container) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, from := range c.EnvFrom {
		if from.ConfigMapRef == nil {
			continue
		}
		found := false
		for _, u := range ship.Find(objs, "ConfigMap") {
			if u.GetName() != from.ConfigMapRef.Name {
				continue
			}
			found = true
			data, _, _ := unstructured.NestedStringMap(u.Object, "data")
			for k, v := range data {
				env[k] = v
			}
		}
		if !found {
			t.Errorf("envFrom ConfigMap %q is not rendered", from.ConfigMapRef.Name)
		}
	}
	for _, e := range c.Env { // env wins over envFrom
		env[e.Name] = e.Value
	}
	return env
}

// TestEnvVarsKnownToHook catches a variable the manifests set that the hook
// does not read: a typo there would be silently ignored.
func TestEnvVarsKnownToHook(t *testing.T) {
	known := map[string]bool{
		"GOMEMLIMIT": true, // read by the Go runtime
	}
	ct := reflect.TypeFor[config.Config]()
	for i := range ct.NumField() {
		if k := ct.Field(i).Tag.Get("envconfig"); k != "" {
			known[k] = true
		}
	}
	// Set by values-custom.yaml through env/extraEnv, or by chart values for
	// settings the hook is growing (diagnosis); not the chart's own typos.
	notYet := map[string]bool{"HOOK_LOG_LINES": true, "NOTIFY_ON": true, "SLACK_CHANNEL_FAILED": true, "HTTPS_PROXY": true}
	for _, r := range renderAll(t) {
		t.Run(r.name, func(t *testing.T) {
			for _, hc := range hookContainers(t, r.objs) {
				for name := range declaredEnv(t, r.objs, hc.c) {
					if !known[name] && !(notYet[name] && !r.defaults) {
						t.Errorf("%s sets %s, which the hook does not read (internal/config)", ship.ID(hc.owner), name)
					}
				}
			}
		})
	}
}

// hookContainer is a container of a rendered Job or CronJob, with its owner.
type hookContainer struct {
	owner *unstructured.Unstructured
	c     corev1.Container
}

// hookContainers returns every container of the rendering's Jobs and
// CronJobs.
func hookContainers(t *testing.T, objs []*unstructured.Unstructured) []hookContainer {
	t.Helper()
	var out []hookContainer
	for _, u := range append(ship.Find(objs, "Job"), ship.Find(objs, "CronJob")...) {
		containers, _, _ := unstructured.NestedSlice(u.Object, podSpecPath(u)...)
		for _, raw := range containers {
			var c corev1.Container
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw.(map[string]any), &c); err != nil {
				t.Fatal(err)
			}
			out = append(out, hookContainer{u, c})
		}
	}
	return out
}

func podSpecPath(u *unstructured.Unstructured) []string {
	if u.GetKind() == "CronJob" {
		return []string{"spec", "jobTemplate", "spec", "template", "spec", "containers"}
	}
	return []string{"spec", "template", "spec", "containers"}
}

func fromUnstructured(t *testing.T, u *unstructured.Unstructured, into any) {
	t.Helper()
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, into, true); err != nil {
		t.Fatalf("%s: %v", ship.ID(u), err)
	}
}

// TestContainerEnv checks ContainerEnv, which an end-to-end test uses to run
// the hook with exactly the environment a rendering gives it.
func TestContainerEnv(t *testing.T) {
	byName := map[string]rendering{}
	for _, r := range renderAll(t) {
		byName[r.name] = r
	}
	pod := ship.Pod{Name: "syncreport-postsync-abcde", Namespace: appNamespace}
	for _, tc := range []struct {
		rendering, job string
		secrets        map[string]map[string]string
		want           map[string]string
		absent         []string
	}{
		{
			rendering: "hooks", job: "syncreport-postsync",
			secrets: map[string]map[string]string{"syncreport-slack": {"token": "xoxb-1"}},
			want: map[string]string{
				"POD_NAME": pod.Name, "POD_NAMESPACE": appNamespace, "SLACK_TOKEN": "xoxb-1",
				"SLACK_CHANNEL": "#deploys", "ARGOCD_NAMESPACE": "argocd", "GOMEMLIMIT": "67108864",
			},
			absent: []string{"SLACK_WEBHOOK_URL", "ARGOCD_APP_NAME"},
		},
		{
			rendering: "chart-secret", job: "shop-syncreport-syncfail",
			want: map[string]string{
				"POD_NAME": pod.Name, "SLACK_TOKEN": "xoxb-not-a-real-token", "SLACK_CHANNEL": "#deploys",
				"HOOK_TIMEOUT": "2m",
			},
			absent: []string{"SLACK_WEBHOOK_URL", "ARGOCD_APP_NAME"},
		},
		{
			rendering: "chart-secret", job: "shop-syncreport-gate",
			want: map[string]string{
				"GATE_TIMEOUT": "10m", "GATE_RESTARTS": "2", "GATE_IMAGE_PULL_GRACE": "30s", "GATE_CONFIG_ERROR_GRACE": "30s",
				"GATE_UNSCHEDULABLE_GRACE": "2m", "GATE_MARK_DEGRADED": "false", "HOOK_TIMEOUT": "2m",
			},
			absent: []string{"GATE_WAVE", "ARGOCD_APP_NAME"},
		},
		{
			rendering: "hooks-gate-mark-degraded", job: "syncreport-gate",
			want: map[string]string{
				"POD_NAME": pod.Name, "POD_NAMESPACE": appNamespace, "ARGOCD_NAMESPACE": "argocd",
				"GATE_TIMEOUT": "10m", "GATE_MARK_DEGRADED": "true", "GOMEMLIMIT": "67108864",
			},
			absent: []string{"SLACK_TOKEN", "SLACK_WEBHOOK_URL", "ARGOCD_APP_NAME"},
		},
		{
			rendering: "hooks-gate", job: "syncreport-gate",
			want: map[string]string{"GATE_TIMEOUT": "10m"},
			// The hook's default, false; ../gate-mark-degraded sets it in
			// the ConfigMap.
			absent: []string{"GATE_MARK_DEGRADED"},
		},
		{
			rendering: "chart-default", job: "shop-syncreport-postsync",
			want:   map[string]string{"ARGOCD_APP_NAME": "shop", "NOTIFIER": "auto"},
			absent: []string{"SLACK_TOKEN", "SLACK_WEBHOOK_URL", "SLACK_CHANNEL"},
		},
	} {
		t.Run(tc.rendering+"/"+tc.job, func(t *testing.T) {
			r := byName[tc.rendering]
			var job *unstructured.Unstructured
			for _, u := range ship.Find(r.objs, "Job") {
				if u.GetName() == tc.job {
					job = u
				}
			}
			if job == nil {
				t.Fatalf("no Job %s", tc.job)
			}
			env, err := ship.ContainerEnv(r.objs, job, pod, tc.secrets)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.want {
				if env[k] != v {
					t.Errorf("%s=%q, want %q", k, env[k], v)
				}
			}
			for _, k := range tc.absent {
				if v, ok := env[k]; ok {
					t.Errorf("%s=%q, want unset", k, v)
				}
			}
		})
	}
}

// TestGateJobs checks every rendered gate: a Sync hook with a wave, and
// GATE_MARK_DEGRADED=true exactly when a Role bound to its ServiceAccount
// grants patch on deployments/status, which nothing else needs. TestRBAC
// asks the API server the same for some renderings.
func TestGateJobs(t *testing.T) {
	gates := 0
	for _, r := range renderAll(t) {
		t.Run(r.name, func(t *testing.T) {
			for _, u := range ship.Find(r.objs, "Job") {
				var job batchv1.Job
				fromUnstructured(t, u, &job)
				c := job.Spec.Template.Spec.Containers[0]
				if !slices.Equal(c.Args, []string{"gate"}) {
					continue
				}
				gates++
				id := ship.ID(u)
				if job.Annotations[ship.HookAnnotation] != "Sync" || job.Annotations["argocd.argoproj.io/sync-wave"] == "" {
					t.Errorf("%s: annotations %v, want a Sync hook with a sync-wave", id, job.Annotations)
				}
				mark := declaredEnv(t, r.objs, c)["GATE_MARK_DEGRADED"] == "true"
				granted := grantsStatusPatch(t, r.objs, job.Namespace, job.Spec.Template.Spec.ServiceAccountName)
				if mark != granted {
					t.Errorf("%s: GATE_MARK_DEGRADED %v, but patch on deployments/status granted: %v", id, mark, granted)
				}
			}
			if !slices.ContainsFunc(ship.Find(r.objs, "Job"), func(u *unstructured.Unstructured) bool {
				return strings.HasSuffix(u.GetName(), "-gate")
			}) && grantsStatusPatch(t, r.objs, appNamespace, "") {
				t.Error("patch on deployments/status granted without a gate")
			}
		})
	}
	if gates < 4 {
		t.Errorf("%d gate Jobs rendered in all, want at least 4", gates)
	}
}

// grantsStatusPatch reports whether a Role in ns, bound to ServiceAccount sa
// (any, when sa is ""), grants patch on deployments/status.
func grantsStatusPatch(t *testing.T, objs []*unstructured.Unstructured, ns, sa string) bool {
	t.Helper()
	bound := map[string]bool{}
	for _, u := range ship.Find(objs, "RoleBinding") {
		var rb rbacv1.RoleBinding
		fromUnstructured(t, u, &rb)
		for _, s := range rb.Subjects {
			if rb.Namespace == ns && s.Kind == "ServiceAccount" && (sa == "" || s.Name == sa) {
				bound[rb.RoleRef.Name] = true
			}
		}
	}
	for _, u := range ship.Find(objs, "Role") {
		var role rbacv1.Role
		fromUnstructured(t, u, &role)
		if role.Namespace != ns || !bound[role.Name] {
			continue
		}
		for _, rule := range role.Rules {
			if slices.Contains(rule.APIGroups, "apps") && slices.Contains(rule.Resources, "deployments/status") && slices.Contains(rule.Verbs, "patch") {
				return true
			}
		}
	}
	return false
}

func ptrString(p *int64) string {
	if p == nil {
		return "unset"
	}
	return fmt.Sprint(*p)
}
