package ship_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/syncreport/syncreport/test/ship"
	"github.com/syncreport/syncreport/test/ship/helmdocs"
)

// platformChart is the once-per-Argo-CD chart of a fleet install.
const platformChart = "helm/syncreport-platform"

// fleetValues are the platform values of examples/fleet/platform.yaml (the
// YAML of the README's "Install for every app"), written to a file for helm.
func fleetValues(t *testing.T) string {
	t.Helper()
	var app map[string]any
	readYAML(t, filepath.Join(repoRoot(t), "examples", "fleet", "platform.yaml"), &app)
	values, ok, _ := unstructured.NestedMap(app, "spec", "source", "helm", "valuesObject")
	if !ok {
		t.Fatal("examples/fleet/platform.yaml: no spec.source.helm.valuesObject")
	}
	b, err := yaml.Marshal(values)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "platform-values.yaml")
	if err := os.WriteFile(f, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestFleetChartNames renders helm/syncreport in fleet mode for two
// Applications in one namespace, as Argo CD renders a Helm source (release
// name = Application name): no name is shared, so neither app's sync
// prunes, overwrites or (BeforeHookCreation) deletes the other's hooks. No
// Secret and no Role outside the app namespace are rendered, and the
// ServiceAccount is the one the platform chart binds.
func TestFleetChartNames(t *testing.T) {
	tl := needTools(t)
	ctx := testContext(t)
	root := repoRoot(t)
	long := "a-rather-long-application-name-of-the-shop-team-" // two apps that differ only past the cut
	apps := []string{"web", "api", long + "one", long + "two"}
	seen := map[string]string{}
	var platformArgs []string
	for i, app := range apps {
		out, err := tl.RenderChart(ctx, root, app, "shop", "--set", "fleet.enabled=true")
		if err != nil {
			t.Fatal(err)
		}
		objs, err := ship.Decode(out)
		if err != nil {
			t.Fatal(err)
		}
		var sa string
		for _, o := range objs {
			if o.GetNamespace() != "shop" {
				t.Errorf("%s: %s outside the app namespace (the platform install makes what the Argo CD namespace holds)", app, ship.ID(o))
			}
			if o.GetKind() == "Secret" {
				t.Errorf("%s: fleet mode renders %s", app, ship.ID(o))
			}
			if o.GetKind() == "ServiceAccount" {
				sa = o.GetName()
			}
			if len(o.GetName()) > 52 && o.GetKind() != "Job" {
				t.Errorf("%s: %s longer than 52", app, ship.ID(o))
			}
			id := ship.ID(o)
			if other, ok := seen[id]; ok {
				t.Errorf("%s and %s both render %s", other, app, id)
			}
			seen[id] = app
		}
		if sa == "" {
			t.Fatalf("%s: no ServiceAccount", app)
		}
		platformArgs = append(platformArgs, "--set", "apps["+strconv.Itoa(i)+"].name="+app, "--set", "apps["+strconv.Itoa(i)+"].namespace=shop")
		// The platform chart must bind exactly this ServiceAccount.
		out, err = tl.HelmTemplate(ctx, filepath.Join(root, platformChart), "syncreport-platform", "argocd",
			"--set", "apps[0].name="+app, "--set", "apps[0].namespace=shop")
		if err != nil {
			t.Fatal(err)
		}
		pobjs, err := ship.Decode(out)
		if err != nil {
			t.Fatal(err)
		}
		for _, rb := range ship.Find(pobjs, "RoleBinding") {
			subjects, _, _ := unstructured.NestedSlice(rb.Object, "subjects")
			if len(subjects) != 1 || subjects[0].(map[string]any)["name"] != sa || subjects[0].(map[string]any)["namespace"] != "shop" {
				t.Errorf("%s: platform %s binds %v, the chart's ServiceAccount is shop/%s", app, ship.ID(rb), subjects, sa)
			}
		}
	}
	if _, err := tl.HelmTemplate(ctx, filepath.Join(root, platformChart), "syncreport-platform", "argocd", platformArgs...); err != nil {
		t.Errorf("platform chart with %d apps: %v", len(apps), err)
	}
}

// TestFleetChartEnv: in fleet mode a value left at its default is not
// passed to the hook (the Job's environment would win over the central
// ConfigMap), a changed one is.
func TestFleetChartEnv(t *testing.T) {
	tl := needTools(t)
	ctx := testContext(t)
	root := repoRoot(t)
	central := []string{"NOTIFIER", "STDOUT_FORMAT", "RETRY_NOTIFY", "FAIL_ON_DELIVERY_ERROR", "LOG_LEVEL", "SLACK_CHANNEL", "ARGOCD_URL", "SLACK_TOKEN", "SLACK_WEBHOOK_URL"}
	for _, tc := range []struct {
		name string
		args []string
		want map[string]string // set, with this value
		not  []string          // not set
	}{
		{"defaults", nil, map[string]string{"HOOK_TIMEOUT": "2m", "ARGOCD_APP_NAME": "web", "ARGOCD_NAMESPACE": "argocd"}, central},
		{"changed values", []string{"--set", "config.retryNotify=all", "--set", "config.logLevel=debug", "--set", "slack.channel=#web"},
			map[string]string{"RETRY_NOTIFY": "all", "LOG_LEVEL": "debug", "SLACK_CHANNEL": "#web"}, []string{"NOTIFIER", "STDOUT_FORMAT"}},
		{"a team's own Secret", []string{"--set", "slack.existingSecret=team-slack", "--set", "config.notifier=webhook"},
			map[string]string{"NOTIFIER": "webhook"}, []string{"SLACK_TOKEN"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := tl.RenderChart(ctx, root, "web", "shop", append([]string{"--set", "fleet.enabled=true"}, tc.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			objs, err := ship.Decode(out)
			if err != nil {
				t.Fatal(err)
			}
			jobs := ship.Find(objs, "Job")
			if len(jobs) == 0 {
				t.Fatal("no Job")
			}
			for _, job := range jobs {
				containers, _, _ := unstructured.NestedSlice(job.Object, "spec", "template", "spec", "containers")
				env, _, _ := unstructured.NestedSlice(containers[0].(map[string]any), "env")
				got := map[string]any{}
				for _, e := range env {
					m := e.(map[string]any)
					got[m["name"].(string)] = m["value"]
					if m["value"] == nil {
						got[m["name"].(string)] = "(valueFrom)"
					}
				}
				for k, v := range tc.want {
					if got[k] != v {
						t.Errorf("%s: %s=%v, want %q", ship.ID(job), k, got[k], v)
					}
				}
				for _, k := range tc.not {
					if _, ok := got[k]; ok {
						t.Errorf("%s: sets %s=%v; in fleet mode the central settings decide it", ship.ID(job), k, got[k])
					}
				}
			}
		})
	}
}

// TestFleetRejects: each render-time check of a fleet install fails the
// render (in Argo CD: a ComparisonError before any sync) with a message
// naming the value.
func TestFleetRejects(t *testing.T) {
	tl := needTools(t)
	ctx := testContext(t)
	root := repoRoot(t)
	platform := filepath.Join(root, platformChart)
	app := []string{"--set", "apps[0].name=web", "--set", "apps[0].namespace=shop"}
	for _, tc := range []struct {
		name  string
		chart string
		args  []string
		want  []string
	}{
		{"chart: timeout not below the Job deadline", ship.ChartDir, []string{"--set", "config.timeout=3m"}, []string{"config.timeout", "job.activeDeadlineSeconds"}},
		{"chart: timeout equal to the Job deadline", ship.ChartDir, []string{"--set", "config.timeout=180s"}, []string{"config.timeout"}},
		{"chart: one key for token and webhook", ship.ChartDir, []string{"--set", "slack.existingSecret=s", "--set", "slack.webhookURLKey=token"}, []string{"slack.tokenKey", "slack.webhookURLKey"}},
		{"chart: fleet with a per-app token", ship.ChartDir, []string{"--set", "fleet.enabled=true", "--set", "slack.token=xoxb-1", "--set", "slack.channel=#x"}, []string{"fleet.enabled", "slack.token"}},
		{"chart: fleet with a remote mode", ship.ChartDir, []string{"--set", "fleet.enabled=true", "--set", "argocd.remote.mode=kubeconfig", "--set", "argocd.remote.kubeconfigSecret.name=k"}, []string{"fleet.enabled", "argocd.remote.mode"}},
		{"chart: fleet not a boolean", ship.ChartDir, []string{"--set-string", "fleet.enabled=yes"}, []string{"/fleet/enabled"}},
		{"platform: NOTIFY_ON not a verdict", platform, []string{"--set", "settings.NOTIFY_ON=failure"}, []string{"/settings/NOTIFY_ON"}},
		{"platform: RETRY_NOTIFY not in enum", platform, []string{"--set", "settings.RETRY_NOTIFY=last"}, []string{"/settings/RETRY_NOTIFY"}},
		{"platform: NOTIFIER not in enum", platform, []string{"--set", "settings.NOTIFIER=email"}, []string{"/settings/NOTIFIER"}},
		{"platform: LOG_LEVEL not in enum", platform, []string{"--set", "settings.LOG_LEVEL=verbose"}, []string{"/settings/LOG_LEVEL"}},
		{"platform: a grace not a duration", platform, []string{"--set", "settings.GATE_IMAGE_PULL_GRACE=2 minutes"}, []string{"/settings/GATE_IMAGE_PULL_GRACE"}},
		{"platform: HOOK_TIMEOUT is the Job's", platform, []string{"--set", "settings.HOOK_TIMEOUT=2m"}, []string{"settings.HOOK_TIMEOUT", "Job deadline"}},
		{"platform: GATE_TIMEOUT is the Job's", platform, []string{"--set", "settings.GATE_TIMEOUT=20m"}, []string{"settings.GATE_TIMEOUT", "Job deadline"}},
		{"platform: ARGOCD_URL not a URL", platform, []string{"--set", "settings.ARGOCD_URL=argocd.example.com"}, []string{"/settings/ARGOCD_URL"}},
		{"platform: lower-case key", platform, []string{"--set", "settings.slack_channel=#x"}, []string{"slack_channel"}},
		{"platform: a secret in the ConfigMap", platform, []string{"--set", "settings.SLACK_TOKEN=xoxb-1"}, []string{"settings.SLACK_TOKEN", "syncreport-secret"}},
		{"platform: an identity setting", platform, []string{"--set", "settings.ARGOCD_APP_NAME=web"}, []string{"settings.ARGOCD_APP_NAME"}},
		{"platform: a file setting", platform, []string{"--set", "settings.SLACK_TOKEN_FILE=/x"}, []string{"settings.SLACK_TOKEN_FILE"}},
		{"platform: token and webhook", platform, []string{"--set", "secret.slackToken=xoxb-1", "--set", "settings.SLACK_CHANNEL=#x", "--set", "secret.slackWebhookURL=https://hooks.example.com/x"}, []string{"secret.slackToken", "secret.slackWebhookURL"}},
		{"platform: token without a channel", platform, []string{"--set", "secret.slackToken=xoxb-1"}, []string{"settings.SLACK_CHANNEL"}},
		{"platform: app listed twice", platform, append(slices.Clone(app), "--set", "apps[1].name=web", "--set", "apps[1].namespace=other"), []string{"argocd/web", "twice"}},
		{"platform: app without a namespace", platform, []string{"--set", "apps[0].name=web"}, []string{"namespace"}},
		{"platform: app name not a name", platform, []string{"--set", "apps[0].name=Web", "--set", "apps[0].namespace=shop"}, []string{"/apps/0/name"}},
		{"platform: unknown app key", platform, append(slices.Clone(app), "--set", "apps[0].channel=#x"), []string{"channel"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chart := tc.chart
			if chart == ship.ChartDir {
				chart = filepath.Join(root, ship.ChartDir)
			}
			out, err := tl.HelmTemplate(ctx, chart, "web", "argocd", tc.args...)
			if err == nil {
				t.Fatalf("helm template %v succeeded:\n%.500s", tc.args, out)
			}
			var ce *ship.CommandError
			if !errors.As(err, &ce) {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(ce.Stderr, w) {
					t.Errorf("error does not name %q:\n%s", w, ce.Stderr)
				}
			}
		})
	}
	// The example renders, and lints clean.
	values := fleetValues(t)
	if out, err := tl.HelmLint(ctx, platform, "-f", values); err != nil || !strings.Contains(string(out), "0 chart(s) failed") {
		t.Errorf("helm lint %s -f examples/fleet/platform.yaml's values: %v\n%s", platformChart, err, out)
	}
}

// TestFleetRBAC applies the platform chart with the example's values to a
// real kube-apiserver and asks it, with SubjectAccessReviews and with a
// real request under each hook's ServiceAccount token, what each app's hook
// may do in the Argo CD namespace: its own Application and the two central
// objects, never another app's Application nor any other Secret or
// ConfigMap.
func TestFleetRBAC(t *testing.T) {
	tl := needTools(t)
	c := needCluster(t)
	ctx := testContext(t)
	root := repoRoot(t)
	out, err := tl.HelmTemplate(ctx, filepath.Join(root, platformChart), "syncreport-platform", "argocd", "-f", fleetValues(t),
		// A team with its own Slack Secret: its hook may not read the central one.
		"--set", "apps[3].name=payroll", "--set", "apps[3].namespace=payroll", "--set", "apps[3].centralSecret=false")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := ship.Decode(out)
	if err != nil {
		t.Fatal(err)
	}
	ensureNamespaces(ctx, t, c, objs, "argocd")
	applyResources(ctx, t, c, objs, "argocd")
	type app struct{ name, ns string }
	apps := []app{{"shop-web", "shop"}, {"shop-api", "shop"}, {"billing", "billing"}, {"payroll", "payroll"}}
	for _, a := range apps {
		ensureNamespaces(ctx, t, c, nil, a.ns)
		createApplication(ctx, t, c, "argocd", a.name, a.ns)
		if _, err := c.Client.CoreV1().ServiceAccounts(a.ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: a.name + "-syncreport"}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	for _, a := range apps {
		user := "system:serviceaccount:" + a.ns + ":" + a.name + "-syncreport"
		other := apps[0].name
		if other == a.name {
			other = apps[1].name
		}
		checks := []struct {
			verb, group, resource, name string
			allowed                     bool
		}{
			{"get", "argoproj.io", "applications", a.name, true},
			{"get", "", "configmaps", "syncreport-settings", true},
			{"get", "", "secrets", "syncreport-secret", a.name != "payroll"},
			{"create", "", "events", "", true},
			{"get", "argoproj.io", "applications", other, false},
			{"list", "argoproj.io", "applications", "", false},
			{"watch", "argoproj.io", "applications", "", false},
			{"get", "", "secrets", "argocd-secret", false},
			{"get", "", "secrets", "syncreport-slack", false},
			{"list", "", "secrets", "", false},
			{"get", "", "configmaps", "argocd-cm", false},
			{"list", "", "configmaps", "", false},
			{"update", "", "configmaps", "syncreport-settings", false},
			{"update", "", "secrets", "syncreport-secret", false},
			{"delete", "", "events", "", false},
			{"get", "argoproj.io", "appprojects", "default", false},
		}
		for _, ch := range checks {
			sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
				User:   user,
				Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + a.ns, "system:authenticated"},
				ResourceAttributes: &authorizationv1.ResourceAttributes{
					Namespace: "argocd", Verb: ch.verb, Group: ch.group, Resource: ch.resource, Name: ch.name,
				},
			}}
			got, err := c.Client.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got.Status.Allowed != ch.allowed {
				t.Errorf("%s may %s %s/%s %q in argocd: %v, want %v", user, ch.verb, ch.group, ch.resource, ch.name, got.Status.Allowed, ch.allowed)
			}
		}
		// A real request with the ServiceAccount's token, as the hook makes it.
		cfg, err := c.ConfigFor(ctx, a.ns, a.name+"-syncreport")
		if err != nil {
			t.Fatal(err)
		}
		cs, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cs.CoreV1().ConfigMaps("argocd").Get(ctx, "syncreport-settings", metav1.GetOptions{}); err != nil {
			t.Errorf("%s: get configmap argocd/syncreport-settings: %v", user, err)
		}
		if _, err := cs.CoreV1().Secrets("argocd").Get(ctx, "argocd-secret", metav1.GetOptions{}); !apierrors.IsForbidden(err) {
			t.Errorf("%s: get secret argocd/argocd-secret: %v, want forbidden", user, err)
		}
	}
}

// TestFleetKustomize uses manifests/hooks as a shared base with the fleet
// Component, as the Component's header says, for two Applications in one
// namespace: nothing to edit in the base, no name shared, nothing in the
// Argo CD namespace, the RoleBinding's subject the app's own ServiceAccount
// (the one helm/syncreport-platform binds), and only the settings tied to
// the Job left in the hook's ConfigMap.
func TestFleetKustomize(t *testing.T) {
	tl := needTools(t)
	ctx := testContext(t)
	root := repoRoot(t)
	tmp := t.TempDir()
	if err := os.CopyFS(filepath.Join(tmp, "manifests"), os.DirFS(filepath.Join(root, "manifests"))); err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, app := range []string{"shop-web", "shop-api"} {
		dir := filepath.Join(tmp, app)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		k := "resources: [../manifests/hooks]\ncomponents: [../manifests/components/fleet]\nnamespace: shop\nnamePrefix: " + app + "-\n"
		if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(k), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := tl.KustomizeBuild(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := ship.Decode(out)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			id := ship.ID(o)
			if o.GetNamespace() != "shop" {
				t.Errorf("%s: %s outside the app namespace", app, id)
			}
			if other, ok := seen[id]; ok {
				t.Errorf("%s and %s both render %s", other, app, id)
			}
			seen[id] = app
			switch o.GetKind() {
			case "RoleBinding":
				subjects, _, _ := unstructured.NestedSlice(o.Object, "subjects")
				want := map[string]any{"kind": "ServiceAccount", "name": app + "-syncreport", "namespace": "shop"}
				if len(subjects) != 1 || !equalMaps(subjects[0].(map[string]any), want) {
					t.Errorf("%s: %s subjects %v, want [%v]", app, id, subjects, want)
				}
			case "ConfigMap":
				data, _, _ := unstructured.NestedStringMap(o.Object, "data")
				if len(data) != 2 || data["ARGOCD_NAMESPACE"] != "argocd" || data["HOOK_TIMEOUT"] != "2m" {
					t.Errorf("%s: %s data %v, want only ARGOCD_NAMESPACE and HOOK_TIMEOUT (the central settings decide the rest)", app, id, data)
				}
			}
		}
		if len(ship.Find(objs, "Job")) != 2 {
			t.Errorf("%s: %d Jobs, want the PostSync and SyncFail hooks", app, len(ship.Find(objs, "Job")))
		}
	}
}

// TestKustomizeNamePrefix: the base copied as the README's "Install for one
// app" says (namespace.yaml set), for two Applications in one namespace,
// each including it with `namePrefix: <app>-`: no name shared (in the Argo
// CD namespace neither), and every RoleBinding binds its own app's
// ServiceAccount.
func TestKustomizeNamePrefix(t *testing.T) {
	tl := needTools(t)
	ctx := testContext(t)
	root := repoRoot(t)
	tmp := t.TempDir()
	if err := os.CopyFS(filepath.Join(tmp, "manifests"), os.DirFS(filepath.Join(root, "manifests"))); err != nil {
		t.Fatal(err)
	}
	nsFile := filepath.Join(tmp, "manifests", "hooks", "namespace.yaml")
	b, err := os.ReadFile(nsFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(nsFile, []byte(strings.Replace(string(b), "namespace: "+ship.HooksPlaceholderNamespace+"\n", "namespace: shop\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, app := range []string{"shop-web", "shop-api"} {
		dir := filepath.Join(tmp, app)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte("resources: [../manifests/hooks]\nnamePrefix: "+app+"-\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := tl.KustomizeBuild(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := ship.Decode(out)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			id := ship.ID(o)
			if other, ok := seen[id]; ok {
				t.Errorf("%s and %s both render %s", other, app, id)
			}
			seen[id] = app
			if o.GetKind() == "RoleBinding" {
				subjects, _, _ := unstructured.NestedSlice(o.Object, "subjects")
				want := map[string]any{"kind": "ServiceAccount", "name": app + "-syncreport", "namespace": "shop"}
				if len(subjects) != 1 || !equalMaps(subjects[0].(map[string]any), want) {
					t.Errorf("%s: %s subjects %v, want [%v]", app, id, subjects, want)
				}
			}
		}
		if n := len(ship.Find(objs, "RoleBinding")); n != 2 {
			t.Errorf("%s: %d RoleBindings, want the app namespace's and the Argo CD namespace's", app, n)
		}
	}
}

func equalMaps(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestFleetReadmeMatchesExamples: the YAML blocks of the README's "Install
// for every app" are the files of examples/fleet, byte for byte, every file
// shown and no other block (TestFleet in test/e2e applies those files).
func TestFleetReadmeMatchesExamples(t *testing.T) {
	root := repoRoot(t)
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Install for every app\n")
	if !ok {
		t.Fatal(`README.md has no section "## Install for every app"`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var blocks []string
	for rest := section; ; {
		_, after, ok := strings.Cut(rest, "\n```yaml\n")
		if !ok {
			break
		}
		block, tail, ok := strings.Cut(after, "\n```\n")
		if !ok {
			t.Fatal("README.md: an unclosed ```yaml block in Install for every app")
		}
		blocks = append(blocks, block+"\n")
		rest = tail
	}
	dir := filepath.Join(root, "examples", "fleet")
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".yaml") {
			files = append(files, e.Name())
		}
	}
	if len(files) == 0 {
		t.Fatal("examples/fleet holds no YAML")
	}
	shown := map[string]bool{}
	for i, block := range blocks {
		match := ""
		for _, f := range files {
			c, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			if string(c) == block {
				match = f
			}
		}
		if match == "" {
			t.Errorf("README.md, Install for every app, YAML block %d is no file of examples/fleet (copy the file into the README or the README into the file):\n%.300s", i+1, block)
			continue
		}
		shown[match] = true
	}
	for _, f := range files {
		if !shown[f] {
			t.Errorf("examples/fleet/%s is not shown in README.md, Install for every app", f)
		}
	}
}

// TestPlatformChartDocs: the platform chart's values table is what its
// values.yaml generates, and its schema names the same keys as values.yaml.
func TestPlatformChartDocs(t *testing.T) {
	dir := filepath.Join(repoRoot(t), platformChart)
	values, err := os.ReadFile(filepath.Join(dir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := helmdocs.Generate(values, readme)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != string(readme) {
		t.Errorf("%s/README.md is stale: run go run ./test/ship/cmd/helmdocs %s\n%s", platformChart, platformChart, firstDiff(readme, want))
	}
	var v, schema map[string]any
	readYAML(t, filepath.Join(dir, "values.yaml"), &v)
	readYAML(t, filepath.Join(dir, "values.schema.json"), &schema)
	props, _ := schema["properties"].(map[string]any)
	for k := range v {
		if _, ok := props[k]; !ok {
			t.Errorf("values.yaml has %s, values.schema.json does not", k)
		}
	}
	for k := range props {
		if _, ok := v[k]; !ok && k != "global" {
			t.Errorf("values.schema.json has %s, values.yaml does not", k)
		}
	}
}

// TestFleetExamplesAgree: every Application the example ApplicationSet
// generates has its entry in the platform values (else its hook may not read
// its Application), and no entry is left over.
func TestFleetExamplesAgree(t *testing.T) {
	dir := filepath.Join(repoRoot(t), "examples", "fleet")
	var platform, appSet map[string]any
	readYAML(t, filepath.Join(dir, "platform.yaml"), &platform)
	readYAML(t, filepath.Join(dir, "applicationset.yaml"), &appSet)
	apps, _, _ := unstructured.NestedSlice(platform, "spec", "source", "helm", "valuesObject", "apps")
	var fromPlatform, fromAppSet []string
	for _, a := range apps {
		m := a.(map[string]any)
		fromPlatform = append(fromPlatform, m["name"].(string)+" → "+m["namespace"].(string))
	}
	gens, _, _ := unstructured.NestedSlice(appSet, "spec", "generators")
	for _, g := range gens {
		elems, _, _ := unstructured.NestedSlice(g.(map[string]any), "list", "elements")
		for _, e := range elems {
			m := e.(map[string]any)
			fromAppSet = append(fromAppSet, m["name"].(string)+" → "+m["namespace"].(string))
		}
	}
	slices.Sort(fromPlatform)
	slices.Sort(fromAppSet)
	if len(fromAppSet) == 0 || !slices.Equal(fromPlatform, fromAppSet) {
		t.Errorf("examples/fleet: the ApplicationSet generates %v, the platform values grant %v", fromAppSet, fromPlatform)
	}
	// The template must name the app and its namespace from those fields.
	name, _, _ := unstructured.NestedString(appSet, "spec", "template", "metadata", "name")
	ns, _, _ := unstructured.NestedString(appSet, "spec", "template", "spec", "destination", "namespace")
	if name != "{{.name}}" || ns != "{{.namespace}}" {
		t.Errorf("examples/fleet/applicationset.yaml: template name %q, destination namespace %q; want {{.name}} and {{.namespace}}", name, ns)
	}
}

// TestPlatformNamesUnique: apps in any namespace whose "<namespace>-<name>"
// spell the same (team/web and team-web in the Argo CD namespace, a/b-c and
// a-b/c) get Roles and RoleBindings of their own: one shared name would bind
// only the last app's ServiceAccount, and the others' hooks could not read
// the central settings at run time.
func TestPlatformNamesUnique(t *testing.T) {
	tl := needTools(t)
	ctx := testContext(t)
	root := repoRoot(t)
	out, err := tl.HelmTemplate(ctx, filepath.Join(root, platformChart), "syncreport-platform", "argocd",
		"--set", "apps[0].name=team-web", "--set", "apps[0].namespace=one",
		"--set", "apps[1].name=web", "--set", "apps[1].namespace=two", "--set", "apps[1].appNamespace=team",
		"--set", "apps[2].name=b-c", "--set", "apps[2].namespace=three", "--set", "apps[2].appNamespace=a",
		"--set", "apps[3].name=c", "--set", "apps[3].namespace=four", "--set", "apps[3].appNamespace=a-b")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := ship.Decode(out)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, o := range objs {
		id := ship.ID(o)
		if seen[id] {
			t.Errorf("%s rendered twice", id)
		}
		seen[id] = true
	}
}

// TestPlatformEnumsMatchAppChart: every value the app chart accepts for a
// setting, the platform chart accepts for the same central key (RETRY_NOTIFY
// gained update, the default, and the platform schema refused it).
func TestPlatformEnumsMatchAppChart(t *testing.T) {
	root := repoRoot(t)
	var app, platform map[string]any
	readYAML(t, filepath.Join(root, "helm", "syncreport", "values.schema.json"), &app)
	readYAML(t, filepath.Join(root, platformChart, "values.schema.json"), &platform)
	enum := func(schema map[string]any, path ...string) []any {
		v, _, _ := unstructured.NestedSlice(schema, append(path, "enum")...)
		return v
	}
	for key, value := range map[string]string{
		"RETRY_NOTIFY": "retryNotify", "NOTIFIER": "notifier", "STDOUT_FORMAT": "stdoutFormat", "LOG_LEVEL": "logLevel",
	} {
		want := enum(app, "properties", "config", "properties", value)
		got := enum(platform, "properties", "settings", "properties", key)
		if len(want) == 0 || len(got) == 0 {
			t.Errorf("%s: no enum (app chart %v, platform chart %v)", key, want, got)
			continue
		}
		for _, v := range want {
			if !slices.Contains(got, v) {
				t.Errorf("settings.%s: the platform chart refuses %v, which config.%s accepts", key, v, value)
			}
		}
	}
}
