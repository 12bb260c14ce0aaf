//go:build linux

package e2e_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/syncreport/syncreport/test/e2e"
)

// fleetApps are the Applications examples/fleet/applicationset.yaml
// generates: two share the namespace shop; billing routes to its own
// channel by annotation.
var fleetApps = []struct{ name, dest, repo, workload, channel string }{
	{"shop-web", "shop", "shop/web", "web", "C0DEPLOYS"},
	{"shop-api", "shop", "shop/api", "api", "C0DEPLOYS"},
	{"billing", "billing", "billing/billing", "billing", "C0BILLING"},
}

// fleetYAML reads examples/fleet/<file>, the YAML the README's "Install for
// every app" shows, and makes the only test-specific changes, all of them
// here: the Git hosts of the example become the test's git daemon
// (https://github.com/syncreport/syncreport.git → the repository holding
// this working tree's charts, tagged v0.1.0; https://git.example.com/<x>.git
// → the test's repository <x>), https://argocd.example.com the stack's URL,
// and edit may change the decoded object (the Slack server's URL, the
// harness's pod label).
func fleetYAML(t *testing.T, file string, edit func(map[string]any)) *unstructured.Unstructured {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(stack.Tools.Root, "examples", "fleet", file))
	must(t, err)
	s := strings.NewReplacer(
		"https://github.com/syncreport/syncreport.git", stack.Git.URL("syncreport/syncreport"),
		"https://git.example.com/", strings.TrimSuffix(stack.Git.URL("x"), "x.git"),
		"https://argocd.example.com", e2e.ArgoURL,
	).Replace(string(b))
	objs, err := e2e.Decode([]byte(s))
	must(t, err)
	if len(objs) != 1 {
		t.Fatalf("examples/fleet/%s: %d objects, want 1", file, len(objs))
	}
	if edit != nil {
		edit(objs[0].Object)
	}
	return objs[0]
}

// TestFleet is the proof: the platform install and one
// ApplicationSet, exactly as the README shows them, under the real
// ApplicationSet controller; the app repositories hold no syncreport file.
func TestFleet(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	t0 := time.Now()
	must(t, stack.StartApplicationSets(ctx))
	// The scenarios that run later must not meet the central settings (a
	// hook whose Role grants it reads them): remove them with the fleet.
	t.Cleanup(func() { removeFleet(t) })

	// The charts, from this working tree, at the tag the examples pin.
	files, err := stack.RepoFiles("helm/syncreport", "helm/syncreport-platform")
	must(t, err)
	_, err = stack.Git.Commit(ctx, "syncreport/syncreport", "charts", files)
	must(t, err)
	must(t, stack.Git.Tag(ctx, "syncreport/syncreport", "v0.1.0"))
	revs := map[string]string{}
	for _, a := range fleetApps {
		rev, err := stack.Git.Commit(ctx, a.repo, "deploy "+a.workload, map[string]string{
			"deployment.yaml": deployment(a.workload, "nginxinc/nginx-unprivileged:1.27.4-alpine", "", 0),
		})
		must(t, err)
		revs[a.name] = rev
	}

	// The platform install: central settings and per-app RBAC, then the
	// central Secret, out of Git, as the README says.
	platform := fleetYAML(t, "platform.yaml", func(o map[string]any) {
		must(t, unstructured.SetNestedField(o, stack.Slack.URL(), "spec", "source", "helm", "valuesObject", "settings", "SLACK_API_URL"))
	})
	must(t, e2e.ApplyObject(ctx, stack.Dynamic, stack.Mapper, e2e.ArgoNamespace, platform))
	_, err = stack.Client.CoreV1().Secrets(e2e.ArgoNamespace).Create(ctx, secret("syncreport-secret", map[string]string{"SLACK_TOKEN": e2e.SlackToken}), metav1.CreateOptions{})
	must(t, err)
	app, err := stack.WaitApp(ctx, e2e.ArgoNamespace, "syncreport-platform", func(a *unstructured.Unstructured) bool {
		return e2e.OperationFinished(a) && e2e.OperationPhase(a) == "Succeeded"
	})
	must(t, err)
	wantOperation(t, app, "Succeeded", "Healthy")
	t.Logf("platform install synced after %.1fs", time.Since(t0).Seconds())

	// One ApplicationSet; every app syncs at once (automated).
	tApps := time.Now()
	appSet := fleetYAML(t, "applicationset.yaml", func(o map[string]any) {
		sources, _, _ := unstructured.NestedSlice(o, "spec", "template", "spec", "sources")
		chart := sources[1].(map[string]any)
		must(t, unstructured.SetNestedField(chart, map[string]any{e2e.PodLabel: "hook"}, "helm", "valuesObject", "podLabels"))
		must(t, unstructured.SetNestedSlice(o, sources, "spec", "template", "spec", "sources"))
	})
	must(t, e2e.ApplyObject(ctx, stack.Dynamic, stack.Mapper, e2e.ArgoNamespace, appSet))
	waitFleet(t, ctx, time.Time{})
	t.Logf("%d apps generated, synced and healthy after %.1fs", len(fleetApps), time.Since(tApps).Seconds())

	// Nothing of syncreport in the app repositories: the hooks came from the
	// second source.
	for _, a := range fleetApps {
		app, err := stack.App(ctx, e2e.ArgoNamespace, a.name)
		must(t, err)
		sources, _, _ := unstructured.NestedSlice(app.Object, "spec", "sources")
		if len(sources) != 2 {
			t.Errorf("%s: %d sources, want 2", a.name, len(sources))
		}
	}

	checkFleetRBAC(t, ctx)

	// Every app's report, in its channel, naming it.
	fleetReports(t, ctx, 1, revs)

	// A broken central value, edited by hand: the syncs stay green, the
	// value is ignored (the default used), and the platform team sees it in
	// a Warning Event on the ConfigMap and in the hooks' log.
	_, err = stack.Client.CoreV1().ConfigMaps(e2e.ArgoNamespace).Patch(ctx, "syncreport-settings", types.MergePatchType,
		[]byte(`{"data":{"NOTIFY_ON":"failure"}}`), metav1.PatchOptions{})
	must(t, err)
	tBroken := time.Now()
	var wg sync.WaitGroup
	for _, a := range fleetApps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if out, err := stack.ArgoCD(ctx, "app", "sync", a.name, "--async"); err != nil {
				t.Errorf("argocd app sync %s: %v\n%s", a.name, err, out)
			}
		}()
	}
	wg.Wait()
	waitFleet(t, ctx, tBroken)
	fleetReports(t, ctx, 2, revs)
	checkSettingsInvalid(t, ctx, tBroken)

	// The same mistake in the platform values is refused when Argo CD
	// renders them: a ComparisonError naming the value, and no sync.
	_, err = stack.Dynamic.Resource(e2e.ApplicationsGVR).Namespace(e2e.ArgoNamespace).Patch(ctx, "syncreport-platform", types.MergePatchType,
		[]byte(`{"spec":{"source":{"helm":{"valuesObject":{"settings":{"NOTIFY_ON":"failure"}}}}}}`), metav1.PatchOptions{})
	must(t, err)
	app, err = stack.WaitApp(ctx, e2e.ArgoNamespace, "syncreport-platform", func(a *unstructured.Unstructured) bool {
		return strings.Contains(conditions(a, "ComparisonError"), "/settings/NOTIFY_ON")
	})
	must(t, err)
	t.Logf("platform values with NOTIFY_ON=failure: ComparisonError %q", conditions(app, "ComparisonError"))
	t.Logf("fleet scenario %.1fs", time.Since(t0).Seconds())
}

// conditions joins the messages of the Application's conditions of type typ.
func conditions(app *unstructured.Unstructured, typ string) string {
	conds, _, _ := unstructured.NestedSlice(app.Object, "status", "conditions")
	var msgs []string
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == typ {
			msgs = append(msgs, fmt.Sprint(m["message"]))
		}
	}
	return strings.Join(msgs, "; ")
}

func secret(name string, data map[string]string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}, StringData: data}
}

// waitFleet waits for every app's operation started after since (any, for
// the zero time) to end, and wants it Succeeded and Healthy.
func waitFleet(t *testing.T, ctx context.Context, since time.Time) {
	t.Helper()
	for _, a := range fleetApps {
		app, err := stack.WaitApp(ctx, e2e.ArgoNamespace, a.name, func(app *unstructured.Unstructured) bool {
			started, _, _ := unstructured.NestedString(app.Object, "status", "operationState", "startedAt")
			st, err := time.Parse(time.RFC3339, started)
			return e2e.OperationFinished(app) && err == nil && !st.Before(since.Truncate(time.Second))
		})
		if err != nil {
			t.Fatalf("%v\n%s", err, fleetHookLogs(a.dest))
		}
		wantOperation(t, app, "Succeeded", "Healthy")
	}
}

// fleetReports waits for n reports of each app and checks the last one:
// succeeded, in the app's channel, naming the app and its revision.
func fleetReports(t *testing.T, ctx context.Context, n int, revs map[string]string) {
	t.Helper()
	for _, a := range fleetApps {
		key := e2e.ArgoNamespace + "/" + a.name
		var got []e2e.Message
		err := pollUntil(ctx, func() bool {
			got = got[:0]
			for _, m := range stack.Slack.Messages() {
				if app, _, _ := m.Report(); app == key {
					got = append(got, m)
				}
			}
			return len(got) >= n
		})
		if err != nil {
			t.Fatalf("want %d reports for %s, have %d: %v\n%s", n, key, len(got), err, fleetHookLogs(a.dest))
		}
		last := got[n-1]
		if last.Channel != a.channel {
			t.Errorf("%s: report in channel %q, want %q", key, last.Channel, a.channel)
		}
		attempt := 1
		if _, v, att := last.Report(); v == "succeeded" && att > 1 && n == 1 {
			// Argo CD retried an automated first sync whose first attempt
			// failed before any resource of it existed (seen once under a
			// loaded machine): no hook of that attempt could run, the known
			// gap of a failure before the ServiceAccount is applied
			// (presync-support closes it). The report is still true.
			app, err := stack.App(ctx, e2e.ArgoNamespace, a.name)
			must(t, err)
			t.Logf("%s: succeeded on attempt %d; Argo CD retried its first attempt:\n%s\n%s", key, att, shape(app), fleetHookLogs(a.dest))
			attempt = att
		}
		wantReport(t, last, "succeeded", attempt, a.name+" synced and healthy", revs[a.name][:7])
	}
}

// checkFleetRBAC asks the real apiserver what each app's hook
// ServiceAccount may do in the Argo CD namespace: its own Application and
// the two central objects, nothing else.
func checkFleetRBAC(t *testing.T, ctx context.Context) {
	t.Helper()
	for _, a := range fleetApps {
		sa := "system:serviceaccount:" + a.dest + ":" + a.name + "-syncreport"
		for _, tc := range []struct {
			resource, name, verb string
			allowed              bool
		}{
			{"applications", a.name, "get", true},
			{"configmaps", "syncreport-settings", "get", true},
			{"secrets", "syncreport-secret", "get", true},
			{"events", "", "create", true},
			{"applications", otherApp(a.name), "get", false},
			{"applications", "", "list", false},
			{"secrets", "argocd-secret", "get", false},
			{"secrets", "", "list", false},
			{"configmaps", "argocd-cm", "get", false},
			{"configmaps", "syncreport-settings", "update", false},
			{"secrets", "syncreport-secret", "update", false},
		} {
			group := ""
			if tc.resource == "applications" {
				group = "argoproj.io"
			}
			sar, err := stack.Client.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
				Spec: authorizationv1.SubjectAccessReviewSpec{
					User:   sa,
					Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + a.dest, "system:authenticated"},
					ResourceAttributes: &authorizationv1.ResourceAttributes{
						Namespace: e2e.ArgoNamespace, Verb: tc.verb, Group: group, Resource: tc.resource, Name: tc.name,
					},
				},
			}, metav1.CreateOptions{})
			must(t, err)
			if sar.Status.Allowed != tc.allowed {
				t.Errorf("%s: %s %s %q in %s: allowed %v, want %v", sa, tc.verb, tc.resource, tc.name, e2e.ArgoNamespace, sar.Status.Allowed, tc.allowed)
			}
		}
	}
}

func otherApp(name string) string {
	for _, a := range fleetApps {
		if a.name != name {
			return a.name
		}
	}
	return ""
}

// checkSettingsInvalid wants one Warning Event SyncreportSettingsInvalid on
// the ConfigMap syncreport-settings naming NOTIFY_ON, however many hooks
// saw the value, and the warning in each hook's log since.
func checkSettingsInvalid(t *testing.T, ctx context.Context, since time.Time) {
	t.Helper()
	evs, err := stack.Client.CoreV1().Events(e2e.ArgoNamespace).List(ctx, metav1.ListOptions{
		FieldSelector: "reason=SyncreportSettingsInvalid,involvedObject.name=syncreport-settings",
	})
	must(t, err)
	if len(evs.Items) != 1 {
		t.Errorf("%d Events SyncreportSettingsInvalid on syncreport-settings, want 1 (one per value, not per hook): %+v", len(evs.Items), evs.Items)
	}
	for _, ev := range evs.Items {
		if ev.Type != "Warning" || ev.InvolvedObject.Kind != "ConfigMap" || !strings.Contains(ev.Message, "NOTIFY_ON") {
			t.Errorf("event %s: type %s, object %s, message %q: want a Warning on the ConfigMap naming NOTIFY_ON", ev.Name, ev.Type, ev.InvolvedObject.Kind, ev.Message)
		}
	}
	want := "configmap " + e2e.ArgoNamespace + "/syncreport-settings key NOTIFY_ON"
	for _, a := range fleetApps {
		n := 0
		for _, r := range stack.Cluster.Hooks.Runs() {
			if r.Namespace != a.dest || r.Start.Before(since) || !strings.HasPrefix(r.Job, a.name+"-syncreport-") {
				continue
			}
			n++
			if r.ExitCode != 0 || !strings.Contains(r.Stderr, want) {
				t.Errorf("%s hook %s: exit %d, want 0 and a log line %q:\n%s", a.name, r.Pod, r.ExitCode, want, r.Stderr)
			}
		}
		if n == 0 {
			t.Errorf("%s: no hook run since the broken value", a.name)
		}
	}
}

// fleetHookLogs are the hook runs in namespace ns, for a failure message.
func fleetHookLogs(ns string) string {
	var b strings.Builder
	for _, r := range stack.Cluster.Hooks.Runs() {
		if r.Namespace == ns {
			fmt.Fprintf(&b, "--- hook %s (%s) exit %d err %v\n%s\n", r.Pod, r.HookType, r.ExitCode, r.Err, r.Stderr)
		}
	}
	return b.String()
}

// removeFleet deletes the ApplicationSet (and so its Applications), the
// platform Application and the central settings it made.
func removeFleet(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	appSets := schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applicationsets"}
	del := []error{
		stack.Dynamic.Resource(appSets).Namespace(e2e.ArgoNamespace).Delete(ctx, "apps", metav1.DeleteOptions{}),
		stack.Dynamic.Resource(e2e.ApplicationsGVR).Namespace(e2e.ArgoNamespace).Delete(ctx, "syncreport-platform", metav1.DeleteOptions{}),
		stack.Client.CoreV1().ConfigMaps(e2e.ArgoNamespace).Delete(ctx, "syncreport-settings", metav1.DeleteOptions{}),
		stack.Client.CoreV1().Secrets(e2e.ArgoNamespace).Delete(ctx, "syncreport-secret", metav1.DeleteOptions{}),
	}
	for _, err := range del {
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("remove the fleet: %v", err)
		}
	}
}
