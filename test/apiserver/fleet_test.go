package apiserver_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/syncreport/syncreport/internal/settings"
	"github.com/syncreport/syncreport/internal/slacktest"
)

// The fleet tests give each test an Argo CD namespace of its own, so that
// its central settings and Events meet no other test's.

// fleet stages a hook run whose Application lives in argoNS, the Argo CD
// namespace that holds the central settings cm and secret (nil: not
// created); grant gives the hook's ServiceAccount the RBAC of the fleet
// install (get on the two objects, create on events).
func fleet(t *testing.T, argoNS, app string, annotations map[string]string, cm, secret map[string]string, grant bool, opts ...func(*scenario)) (dest, kubeconfig string) {
	t.Helper()
	ctx := context.Background()
	sc := scenario{fixture: "postsync-healthy", app: app, appNS: argoNS, hookJob: "syncreport-postsync", annotations: annotations}
	for _, o := range opts {
		o(&sc)
	}
	dest, kubeconfig = stage(t, sc)
	c := cluster.Client
	if cm != nil {
		_, err := c.CoreV1().ConfigMaps(argoNS).Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: "syncreport-settings"}, Data: cm}, metav1.CreateOptions{})
		must(t, ignoreExists(err))
	}
	if secret != nil {
		_, err := c.CoreV1().Secrets(argoNS).Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "syncreport-secret"}, StringData: secret}, metav1.CreateOptions{})
		must(t, ignoreExists(err))
	}
	// A Secret the hook must not read, next to the central one.
	_, err := c.CoreV1().Secrets(argoNS).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "argocd-secret"}, StringData: map[string]string{"admin.password": "x"}}, metav1.CreateOptions{})
	must(t, ignoreExists(err))
	if grant {
		name := "syncreport-settings-" + dest
		_, err := c.RbacV1().Roles(argoNS).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get"}, ResourceNames: []string{"syncreport-settings"}},
			{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}, ResourceNames: []string{"syncreport-secret"}},
			{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"create"}},
		}}, metav1.CreateOptions{})
		must(t, err)
		_, err = c.RbacV1().RoleBindings(argoNS).Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "syncreport", Namespace: dest}},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name},
		}, metav1.CreateOptions{})
		must(t, err)
	}
	return dest, kubeconfig
}

// fleetEnv is a hook Job's environment in a fleet: no Slack settings of its
// own, only where the Argo CD namespace is.
func fleetEnv(argoNS string, kv ...string) map[string]string {
	env := map[string]string{"ARGOCD_NAMESPACE": argoNS, "HOOK_TIMEOUT": "20s"}
	for i := 0; i < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	return env
}

func centralSlack(s *slacktest.Server) (cm, secret map[string]string) {
	return map[string]string{"SLACK_CHANNEL": "#fleet", "SLACK_API_URL": s.URL(), "ARGOCD_URL": "https://argocd.example.com"},
		map[string]string{"SLACK_TOKEN": slacktest.DefaultToken + "\n"}
}

// TestFleetPrecedence: the central ConfigMap and Secret configure a hook
// whose Job sets nothing of Slack; the Job's environment wins over them; an
// Application annotation wins over both.
func TestFleetPrecedence(t *testing.T) {
	tests := []struct {
		name        string
		env         []string
		annotations map[string]string
		channel     string
		source      string
	}{
		{"central", nil, nil, "#fleet", "configmap fleet-precedence-0/syncreport-settings"},
		{"env wins", []string{"SLACK_CHANNEL", "#team-a"}, nil, "#team-a", "env"},
		{"annotation wins", []string{"SLACK_CHANNEL", "#team-a"}, map[string]string{"syncreport.dev/channel": "#team-b"}, "#team-b", "annotation syncreport.dev/channel"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := slacktest.Start(t)
			cm, secret := centralSlack(s)
			argoNS := fmt.Sprintf("fleet-precedence-%d", i)
			app := []string{"web-central", "web-env", "web-annotated"}[i]
			dest, kc := fleet(t, argoNS, app, tt.annotations, cm, secret, true)
			r := runHook(t, dest, kc, fleetEnv(argoNS, tt.env...))
			p := onePost(t, r, s, app+" synced and healthy", "https://argocd.example.com/applications/"+argoNS+"/"+app)
			if p.Channel != tt.channel {
				t.Errorf("posted to %q, want %q", p.Channel, tt.channel)
			}
			if want := `"SLACK_CHANNEL":"` + tt.channel + ` (` + tt.source + `)"`; !strings.Contains(r.stderr, want) {
				t.Errorf("the settings log line lacks %s", want)
			}
			if !strings.Contains(r.stderr, `"SLACK_TOKEN":"set (secret `+argoNS+`/syncreport-secret)"`) {
				t.Error("the settings log line does not say the token came from the central Secret")
			}
			if strings.Contains(r.stderr, slacktest.DefaultToken) {
				t.Error("the log shows the central token")
			}
		})
	}
}

// TestFleetBadCentralValue: the chart's old example NOTIFY_ON: failure in
// the central ConfigMap turns no sync red: each hook exits 0 and reports
// with the default, and the platform team finds one Warning Event on the
// ConfigMap however many hooks ran.
func TestFleetBadCentralValue(t *testing.T) {
	s := slacktest.Start(t)
	argoNS := "fleet-bad-value"
	cm, secret := centralSlack(s)
	cm["NOTIFY_ON"] = "failure"
	for _, app := range []string{"web-1", "web-2"} {
		t.Run(app, func(t *testing.T) {
			dest, kc := fleet(t, argoNS, app, nil, cm, secret, true)
			r := runHook(t, dest, kc, fleetEnv(argoNS))
			if r.code != 0 {
				t.Fatalf("exit %d, want 0", r.code)
			}
			if !strings.Contains(r.stderr, "central setting ignored: configmap "+argoNS+`/syncreport-settings key NOTIFY_ON: unknown verdict \"failure\"`) {
				t.Error("no warning naming the object and key")
			}
		})
	}
	if n := len(s.Posts()); n != 2 {
		t.Errorf("%d posts, want 2 (default NOTIFY_ON reports a success)", n)
	}
	evs, err := cluster.Client.CoreV1().Events(argoNS).List(context.Background(), metav1.ListOptions{
		FieldSelector: "involvedObject.kind=ConfigMap,involvedObject.name=syncreport-settings"})
	must(t, err)
	if len(evs.Items) != 1 {
		t.Fatalf("%d Events on the ConfigMap, want exactly 1: %+v", len(evs.Items), evs.Items)
	}
	ev := evs.Items[0]
	if ev.Type != corev1.EventTypeWarning || ev.Reason != settings.EventReason || !strings.Contains(ev.Message, `key NOTIFY_ON: unknown verdict "failure"`) ||
		!strings.Contains(ev.Message, "first seen by the hook of application "+argoNS+"/web-1") {
		t.Errorf("event %s %s %q", ev.Type, ev.Reason, ev.Message)
	}
}

// TestFleetCentralNotReadable: a hook whose RBAC lacks the central objects
// (an install from before the fleet settings, or a team that opted out)
// still reports with its own settings, and says why the central ones were
// skipped.
func TestFleetCentralNotReadable(t *testing.T) {
	s := slacktest.Start(t)
	argoNS := "fleet-no-rbac"
	central := slacktest.Start(t)
	cm, secret := centralSlack(central)
	dest, kc := fleet(t, argoNS, "web-own", nil, cm, secret, false)
	env := slackEnv(s)
	env["ARGOCD_NAMESPACE"] = argoNS
	r := runHook(t, dest, kc, env)
	p := onePost(t, r, s, "web-own synced and healthy")
	if p.Channel != "#deploys" {
		t.Errorf("posted to %q", p.Channel)
	}
	if n := len(central.Posts()); n != 0 {
		t.Errorf("the central Slack got %d posts", n)
	}
	for _, obj := range []string{"configmap " + argoNS + "/syncreport-settings", "secret " + argoNS + "/syncreport-secret"} {
		if !strings.Contains(r.stderr, "no central settings: "+obj+" is not readable") {
			t.Errorf("the log does not say %s was skipped", obj)
		}
	}
}

// TestFleetBadAnnotation: an app team's own mistake fails its own hook as
// any bad setting does (exit 2, one line naming the annotation), and a
// mention in a channel annotation never reaches Slack.
func TestFleetBadAnnotation(t *testing.T) {
	s := slacktest.Start(t)
	argoNS := "fleet-bad-annotation"
	cm, secret := centralSlack(s)
	dest, kc := fleet(t, argoNS, "web-mention", map[string]string{"syncreport.dev/channel": "<!channel>"}, cm, secret, true)
	r := runHook(t, dest, kc, fleetEnv(argoNS))
	if r.code != 2 {
		t.Fatalf("exit %d, want 2", r.code)
	}
	if !strings.Contains(r.stderr, `hook: annotation syncreport.dev/channel: SLACK_CHANNEL="<!channel>": not a channel name`) {
		t.Error("the error does not name the annotation")
	}
	if n := len(s.Posts()); n != 0 {
		t.Errorf("%d posts, want none", n)
	}
}

// TestFleetSecretNeverShown: bad values in the central Secret are ignored
// and reported by key; the values reach neither the hook's output nor the
// Events anyone who can list events in the Argo CD namespace reads.
func TestFleetSecretNeverShown(t *testing.T) {
	const canary = "CANARYcentral"
	argoNS := "fleet-secret-canary"
	dest, kc := fleet(t, argoNS, "web-canary", nil, map[string]string{"SLACK_CHANNEL": "#fleet"}, map[string]string{
		"SLACK_TOKEN":   "xoxb-" + canary + " x",
		"WEBHOOK_URL":   "http://hooks.example.com/" + canary,
		"SMTP_PASSWORD": canary,
		"NOTIFY_ON":     canary,
	}, true)
	r := runHook(t, dest, kc, fleetEnv(argoNS))
	if r.code != 0 {
		t.Fatalf("exit %d, want 0", r.code)
	}
	evs, err := cluster.Client.CoreV1().Events(argoNS).List(context.Background(), metav1.ListOptions{
		FieldSelector: "involvedObject.kind=Secret,involvedObject.name=syncreport-secret"})
	must(t, err)
	keys := map[string]bool{}
	for _, ev := range evs.Items {
		key, _, _ := strings.Cut(strings.TrimPrefix(ev.Message, "key "), ":")
		keys[key] = true
		if strings.Contains(ev.Message, canary) {
			t.Errorf("event leaks the secret: %q", ev.Message)
		}
	}
	for _, k := range []string{"SLACK_TOKEN", "WEBHOOK_URL", "SMTP_PASSWORD", "NOTIFY_ON"} {
		if !keys[k] {
			t.Errorf("no Event for key %s (events for %v)", k, keys)
		}
	}
	if strings.Contains(r.stdout+r.stderr, canary) {
		t.Errorf("the hook's output leaks the secret")
	}
}

// TestFleetGateDefaults: the gate takes its GATE_* defaults from the
// central ConfigMap too, and a bad one there is ignored, not an exit 2.
// GATE_TIMEOUT is not one of them: the gate Job's activeDeadlineSeconds is
// computed from it, so only the Job may set it (a central 30m would have
// the kubelet kill every gate, a central 1m fail every slower rollout).
func TestFleetGateDefaults(t *testing.T) {
	argoNS := "fleet-gate"
	dest, kc := fleet(t, argoNS, "web-gate", nil, map[string]string{"GATE_TIMEOUT": "1s", "GATE_IMAGE_PULL_GRACE": "45s", "GATE_RESTARTS": "0"}, nil, true,
		func(s *scenario) { s.diagnose = true })
	r := runHookCmd(t, dest, kc, fleetEnv(argoNS, "GATE_TIMEOUT", "3s"), "gate")
	// The fixture's Deployment never comes up here (no controllers): the
	// Job's 3s, not the central 1s, ends the watch.
	if r.code != 5 || !strings.Contains(r.stderr, "hook: not healthy after 3s") {
		t.Fatalf("exit %d, want 5 (timed out after the Job's GATE_TIMEOUT)\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, `"GATE_IMAGE_PULL_GRACE":"45s (configmap `+argoNS+`/syncreport-settings)"`) {
		t.Error("the gate does not use the central GATE_IMAGE_PULL_GRACE")
	}
	if !strings.Contains(r.stderr, "central setting ignored: configmap "+argoNS+"/syncreport-settings key GATE_TIMEOUT") {
		t.Error("no warning for the central GATE_TIMEOUT, which only the Job may set")
	}
	if !strings.Contains(r.stderr, "central setting ignored: configmap "+argoNS+"/syncreport-settings key GATE_RESTARTS") {
		t.Error("no warning for the bad central GATE_RESTARTS")
	}
}
