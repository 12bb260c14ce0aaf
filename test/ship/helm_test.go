package ship_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/syncreport/syncreport/internal/config"
	"github.com/syncreport/syncreport/test/ship"
	"github.com/syncreport/syncreport/test/ship/helmdocs"
)

func TestHelmLint(t *testing.T) {
	tl := needTools(t)
	ctx := testContext(t)
	root := repoRoot(t)
	chart := filepath.Join(root, ship.ChartDir)
	parent, err := tl.PrepareParentChart(ctx, root, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		chart string
		args  []string
	}{
		{"default values", chart, nil},
		{"custom values", chart, []string{"-f", filepath.Join("testdata", "values-custom.yaml")}},
		{"remote api", chart, []string{"--set", "argocd.remote.mode=api", "--set", "argocd.remote.server=argocd.example.com",
			"--set", "argocd.remote.tokenSecret.name=argocd-api", "--set", "argocd.remote.caSecret.name=argocd-ca"}},
		{"parent chart", parent, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := tl.HelmLint(ctx, tc.chart, tc.args...)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if !strings.Contains(string(out), "0 chart(s) failed") {
				t.Errorf("helm lint:\n%s", out)
			}
		})
	}
}

// TestHelmRejects checks that a typo or a wrong type fails `helm template`
// with a message that names the value, through values.schema.json (helm
// names it as a JSON pointer, /config/timeout) or the chart's own checks.
func TestHelmRejects(t *testing.T) {
	tl := needTools(t)
	ctx := testContext(t)
	root := repoRoot(t)
	for _, tc := range []struct {
		name string
		args []string
		want []string // all in the error
	}{
		{"unknown top-level key", []string{"--set", "imagee.tag=v1"}, []string{"imagee"}},
		{"unknown nested key", []string{"--set", "slack.chanel=#x"}, []string{"chanel"}},
		{"typo in hooks", []string{"--set", "hooks.postsync.enabled=false"}, []string{"postsync"}},
		{"string for bool", []string{"--set-string", "hooks.syncFail.enabled=yes"}, []string{"/hooks/syncFail/enabled", "boolean"}},
		{"string for int", []string{"--set-string", "job.activeDeadlineSeconds=3m"}, []string{"/job/activeDeadlineSeconds", "integer"}},
		{"number for duration", []string{"--set", "config.timeout=120"}, []string{"/config/timeout"}},
		{"bad duration", []string{"--set", "config.timeout=2 minutes"}, []string{"/config/timeout"}},
		{"notifier not in enum", []string{"--set", "config.notifier=email"}, []string{"/config/notifier"}},
		{"log level not in enum", []string{"--set", "config.logLevel=verbose"}, []string{"/config/logLevel"}},
		{"sync wave not a number", []string{"--set", "hooks.gate.syncWave=late"}, []string{"/hooks/gate/syncWave"}},
		{"env not a map", []string{"--set", "env=FOO"}, []string{"/env"}},
		{"bad digest", []string{"--set", "image.digest=latest"}, []string{"/image/digest"}},
		{"NOTIFY_ON not a verdict", []string{"--set", "env.NOTIFY_ON=failure"}, []string{"/env/NOTIFY_ON"}},
		{"SLACK_DM not a boolean", []string{"--set", "env.SLACK_DM=yes"}, []string{"/env/SLACK_DM"}},
		{"env repeats a managed variable", []string{"--set", "env.LOG_LEVEL=debug"}, []string{"env.LOG_LEVEL", "LOG_LEVEL"}},
		{"token without channel", []string{"--set", "slack.token=xoxb-1"}, []string{"slack.channel"}},
		{"commit status Secret without a key", []string{"--set", "commitStatus.existingSecret=cs"}, []string{"commitStatus.existingSecret", "githubTokenKey"}},
		{"commit status key without a Secret", []string{"--set", "commitStatus.gitlabTokenKey=gitlab-token"}, []string{"commitStatus.existingSecret"}},
		{"GitHub deployments without its token", []string{"--set", "commitStatus.existingSecret=cs", "--set", "commitStatus.gitlabTokenKey=t", "--set", "commitStatus.githubDeployments=true"}, []string{"commitStatus.githubDeployments", "githubTokenKey"}},
		{"commit status host list with a comma", []string{"--set-json", `commitStatus.githubHosts=["a.example.com,b.example.com"]`}, []string{"/commitStatus/githubHosts"}},
		{"two transports", []string{"--set", "slack.token=xoxb-1", "--set", "slack.channel=#x", "--set", "slack.webhookURL=https://hooks.example.com/x"}, []string{"slack.token", "slack.webhookURL"}},
		{"file needs a notifier", []string{"--set", "slack.mountAsFile=true", "--set", "slack.existingSecret=s"}, []string{"slack.mountAsFile", "config.notifier"}},
		{"file needs a Secret", []string{"--set", "slack.mountAsFile=true", "--set", "config.notifier=slack"}, []string{"slack.mountAsFile", "slack.existingSecret"}},
		{"nothing enabled", []string{"--set", "hooks.postSync.enabled=false", "--set", "hooks.syncFail.enabled=false", "--set", "cronJob.enabled=false"}, []string{"enabled"}},
		{"remote mode not in enum", []string{"--set", "argocd.remote.mode=remote"}, []string{"/argocd/remote/mode"}},
		{"unknown remote key", []string{"--set", "argocd.remote.sever=argocd.example.com"}, []string{"sever"}},
		{"server with a space", []string{"--set", "argocd.remote.server=argocd example"}, []string{"/argocd/remote/server"}},
		{"kubeconfig mode without a Secret", []string{"--set", "argocd.remote.mode=kubeconfig"}, []string{"argocd.remote.kubeconfigSecret.name"}},
		{"kubeconfig Secret without the mode", []string{"--set", "argocd.remote.kubeconfigSecret.name=k"}, []string{"argocd.remote.kubeconfigSecret.name", "mode=kubeconfig"}},
		{"api mode without a server", []string{"--set", "argocd.remote.mode=api", "--set", "argocd.remote.tokenSecret.name=t"}, []string{"argocd.remote.server"}},
		{"api mode without a token", []string{"--set", "argocd.remote.mode=api", "--set", "argocd.remote.server=argocd.example.com"}, []string{"argocd.remote.tokenSecret.name"}},
		{"server without api mode", []string{"--set", "argocd.remote.server=argocd.example.com"}, []string{"argocd.remote.server", "mode=api"}},
		{"commit author without api mode", []string{"--set", "argocd.remote.mode=kubeconfig", "--set", "argocd.remote.kubeconfigSecret.name=k", "--set", "argocd.remote.notifyCommitAuthor=true"}, []string{"argocd.remote.notifyCommitAuthor"}},
		{"insecure and a CA", []string{"--set", "argocd.remote.mode=api", "--set", "argocd.remote.server=argocd.example.com", "--set", "argocd.remote.tokenSecret.name=t",
			"--set", "argocd.remote.insecure=true", "--set", "argocd.remote.caSecret.name=ca"}, []string{"argocd.remote.insecure", "argocd.remote.caSecret"}},
		{"env repeats a remote variable", []string{"--set", "env.ARGOCD_SERVER=argocd.example.com"}, []string{"env.ARGOCD_SERVER"}},
		{"env repeats a gate variable", []string{"--set", "env.GATE_MARK_DEGRADED=true"}, []string{"env.GATE_MARK_DEGRADED"}},
		{"gate timeout with a fraction", []string{"--set", "hooks.gate.enabled=true", "--set", "hooks.gate.timeout=1.5m"}, []string{"/hooks/gate/timeout"}},
		{"gate timeout zero", []string{"--set", "hooks.gate.enabled=true", "--set", "hooks.gate.timeout=0m"}, []string{"hooks.gate.timeout", "positive"}},
		{"gate restarts zero", []string{"--set", "hooks.gate.enabled=true", "--set", "hooks.gate.restarts=0"}, []string{"/hooks/gate/restarts"}},
		{"gate grace not a duration", []string{"--set", "hooks.gate.unschedulableGrace=2 minutes"}, []string{"/hooks/gate/unschedulableGrace"}},
		{"markDegraded without the gate", []string{"--set", "hooks.gate.markDegraded=true"}, []string{"hooks.gate.markDegraded", "hooks.gate.enabled"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := tl.RenderChart(ctx, root, "shop", "shop", tc.args...)
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
}

// TestHelmDocs fails when the chart README's values table is not what
// values.yaml's `# --` comments generate (or a value has none).
func TestHelmDocs(t *testing.T) {
	dir := filepath.Join(repoRoot(t), ship.ChartDir)
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
		t.Errorf("%s/README.md is stale: run go run ./test/ship/cmd/helmdocs %s\n%s", ship.ChartDir, ship.ChartDir, firstDiff(readme, want))
	}
}

// TestSchemaCoversValues checks that values.schema.json and values.yaml name
// the same keys: a value missing from the schema would be rejected by
// additionalProperties, and a schema key missing from values.yaml is
// undocumented.
func TestSchemaCoversValues(t *testing.T) {
	dir := filepath.Join(repoRoot(t), ship.ChartDir)
	var values map[string]any
	readYAML(t, filepath.Join(dir, "values.yaml"), &values)
	var schema map[string]any
	readYAML(t, filepath.Join(dir, "values.schema.json"), &schema)
	// Open objects hold Kubernetes types or free-form maps: their keys are
	// the user's.
	open := map[string]bool{}
	var walk func(prefix string, v map[string]any, s map[string]any)
	walk = func(prefix string, v map[string]any, s map[string]any) {
		props, _ := s["properties"].(map[string]any)
		if props == nil || s["additionalProperties"] != false {
			open[prefix] = true
			return
		}
		for k, val := range v {
			ps, ok := props[k].(map[string]any)
			if !ok {
				t.Errorf("values.yaml has %s%s, values.schema.json does not", prefix, k)
				continue
			}
			if m, ok := val.(map[string]any); ok {
				walk(prefix+k+".", m, ps)
			}
		}
		for k := range props {
			if _, ok := v[k]; !ok && prefix+k != "global" {
				t.Errorf("values.schema.json has %s%s, values.yaml does not", prefix, k)
			}
		}
	}
	walk("", values, schema)
}

func readYAML(t *testing.T, path string, into any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestHelmNotes checks what NOTES.txt tells after an install.
func TestHelmNotes(t *testing.T) {
	tl := needTools(t)
	c := needCluster(t)
	ctx := testContext(t)
	chart := filepath.Join(repoRoot(t), ship.ChartDir)
	for _, tc := range []struct {
		name string
		args []string
		want []string
		not  []string
	}{
		{
			name: "defaults",
			want: []string{
				`report on the Argo CD Application "shop" in namespace "argocd"`,
				"Hooks: PostSync, SyncFail\n",
				"the report goes to the hook Job's log",
				"kubectl -n shop create job report-now --from=cronjob/shop-syncreport",
			},
			not: []string{"Warning", "must grant"},
		},
		{
			name: "no PostSync, admin-made Role, Slack",
			args: []string{"--set", "hooks.postSync.enabled=false", "--set", "rbac.createApplicationRole=false",
				"--set", "slack.existingSecret=team-slack", "--set", "slack.channel=#deploys", "--set", "cronJob.enabled=false"},
			want: []string{
				"never waits for health",
				"must grant ServiceAccount shop/shop-syncreport",
				`Slack, credentials from Secret "team-slack", channel "#deploys"`,
			},
			not: []string{"report-now"},
		},
		{
			name: "fleet",
			args: []string{"--set", "fleet.enabled=true"},
			want: []string{
				"Delivery: as the central settings say (ConfigMap syncreport-settings and Secret\nsyncreport-secret in argocd",
				"from the platform install (helm/syncreport-platform)",
				"ServiceAccount\nshop/shop-syncreport.",
			},
			not: []string{"must grant", "the report goes to the hook Job's log"},
		},
		{
			name: "gate",
			args: []string{"--set", "hooks.gate.enabled=true"},
			want: []string{"Hooks: PostSync, SyncFail, Sync (gate, wave 0, timeout 10m)\n", "hooks.gate.markDegraded=true to fail it at once"},
		},
		{
			name: "gate marking Degraded",
			args: []string{"--set", "hooks.gate.enabled=true", "--set", "hooks.gate.markDegraded=true", "--set", "hooks.gate.syncWave=2"},
			want: []string{"Sync (gate, wave 2, timeout 10m, marks a broken Deployment Degraded)\n"},
			not:  []string{"hooks.gate.markDegraded=true"},
		},
		{
			name: "remote kubeconfig",
			args: []string{"--set", "argocd.remote.mode=kubeconfig", "--set", "argocd.remote.kubeconfigSecret.name=argocd-cluster"},
			want: []string{`read from the Argo CD cluster with the kubeconfig in Secret
"argocd-cluster" (key "kubeconfig")`, "applications.argoproj.io in namespace argocd there"},
			not: []string{"must grant", "through the Argo CD API"},
		},
		{
			name: "remote api, no Application Role wanted",
			args: []string{"--set", "argocd.remote.mode=api", "--set", "argocd.remote.server=argocd.example.com",
				"--set", "argocd.remote.tokenSecret.name=argocd-api", "--set", "rbac.createApplicationRole=false"},
			want: []string{"read through the Argo CD API at argocd.example.com", `Secret "argocd-api" (key "token")`, "applications, get, <project>/shop"},
			not:  []string{"must grant", "kubeconfig"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			notes, err := tl.HelmNotes(ctx, c.Kubeconfig, chart, "shop", "shop", tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(notes, w) {
					t.Errorf("NOTES lack %q:\n%s", w, notes)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(notes, w) {
					t.Errorf("NOTES have %q:\n%s", w, notes)
				}
			}
		})
	}
}

// TestHelmValuesAgreeWithConfig: a chart value that becomes a hook variable
// renders only with a value the hook accepts for that variable (schema and
// templates/validate.yaml together, as helm applies them): otherwise the
// install succeeds and every sync fails with exit 2.
func TestHelmValuesAgreeWithConfig(t *testing.T) {
	tl := needTools(t)
	ctx := testContext(t)
	root := repoRoot(t)
	durations := []string{"2m", "90s", "1h30m", "0s", "0m", "0h0m0s", "0.0s", "-1s", "1.5m", "0.5s", "90", "2 minutes"}
	urls := []string{"https://argocd.example.com", "http://proxy:8080/api/", "http://127.0.0.1:8080/api/", "http://[::1]:9/", "argocd.example.com", "https://", "ftp://x", "https://a b", "https:///path"}
	gate := []string{"--set", "hooks.gate.enabled=true"}
	for _, tc := range []struct {
		key, name string
		samples   []string
		args      []string
	}{
		{"config.timeout", "HOOK_TIMEOUT", durations, nil},
		{"hooks.gate.timeout", "GATE_TIMEOUT", durations, gate},
		{"hooks.gate.imagePullGrace", "GATE_IMAGE_PULL_GRACE", durations, gate},
		{"hooks.gate.configErrorGrace", "GATE_CONFIG_ERROR_GRACE", durations, gate},
		{"hooks.gate.unschedulableGrace", "GATE_UNSCHEDULABLE_GRACE", durations, gate},
		{"env.SLACK_ATTEMPT_TIMEOUT", "SLACK_ATTEMPT_TIMEOUT", durations, nil},
		{"argocd.url", "ARGOCD_URL", urls, nil},
		{"slack.apiURL", "SLACK_API_URL", urls, nil},
		{"slack.webhookURL", "SLACK_WEBHOOK_URL", urls, nil},
		{"env.NOTIFY_ON", "NOTIFY_ON", []string{"failed", "failed,degraded", "failure", "Failed", "failed;degraded"}, nil},
	} {
		t.Run(tc.key, func(t *testing.T) {
			for _, s := range tc.samples {
				_, err := tl.RenderChart(ctx, root, "shop", "shop", append(slices.Clone(tc.args), "--set-string", tc.key+"="+s)...)
				var ce *ship.CommandError
				if err != nil && !errors.As(err, &ce) {
					t.Fatal(err)
				}
				if err == nil {
					if cerr := config.CheckVariable(tc.name, s); cerr != nil {
						t.Errorf("%s=%q renders, and the hook refuses %s: %v", tc.key, s, tc.name, cerr)
					}
				}
			}
		})
	}
}
