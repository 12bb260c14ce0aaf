//go:build linux

package e2e_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/syncreport/syncreport/test/e2e"
)

// apiProject is the AppProject of scenario 8 (see apiTokens).
const apiProject = "e2e-api"

// caMount is where the hook Jobs of manifests/hooks mount the Secret
// syncreport-argocd (token, ca.crt) that manifests/components/argocd-api
// points at.
const caMount = "/var/run/secrets/syncreport/argocd/ca.crt"

// Scenario 8: the Argo CD API mode (manifests/components/argocd-api), as the
// hook runs in a destination cluster that holds no Application: its
// ServiceAccount may not read Applications at all. It reads the app from the
// real argocd-server over TLS (the stack's CA as ca.crt in the Secret) with
// a project-role token allowed `applications, get` on this one app, and the
// report shows the synced commit's subject, taken from the Git repository
// through argocd-server, and mentions its author (NOTIFY_COMMIT_AUTHOR).
func TestArgoCDAPIMode(t *testing.T) {
	s := newScenario(t, "s8-api", "", map[string]string{
		"ARGOCD_SERVER":        e2e.ArgoServer,
		"ARGOCD_CA_FILE":       caMount,
		"NOTIFY_COMMIT_AUTHOR": "true",
	}, "argocd-api")
	token, denied := apiTokens(t, s.ctx, apiProject, "*,*", s.app)
	ca, err := os.ReadFile(stack.CAFile)
	must(t, err)
	_, err = stack.Client.CoreV1().Secrets(s.dest).Create(s.ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "syncreport-argocd"},
		StringData: map[string]string{"token": token, "ca.crt": string(ca)},
	}, metav1.CreateOptions{})
	must(t, err)

	// The Role in the Argo CD namespace is gone with the component.
	if allowed := canGetApplications(t, s.ctx, s.dest); allowed {
		t.Errorf("the hook's ServiceAccount may get Applications in %s; with argocd-api it should not need to", e2e.ArgoNamespace)
	}

	const subject = "web 2.0.0: serve the new checkout page"
	rev, err := stack.Git.CommitAs(s.ctx, e2e.Author{Name: "Carol Danvers", Email: "carol@example.com"}, s.app,
		subject+"\n\nA body the report leaves out.",
		map[string]string{"syncreport.yaml": s.hooks, "web.yaml": deployment("web", "registry.e2e.test/web:2.0.0", "", 0)})
	must(t, err)
	must(t, stack.CreateApp(s.ctx, e2e.AppSpec{Name: s.app, Repo: s.app, Dest: s.dest, Project: apiProject}))
	t0 := s.sync()
	app := s.waitFinished(t0)
	wantOperation(t, app, "Succeeded", "Healthy")
	msgs := s.messages(1)
	t.Logf("sync → report %.1fs", msgs[0].Time.Sub(t0).Seconds())
	wantReport(t, msgs[0], "succeeded", 1, "s8-api synced and healthy", rev[:7], subject, "Carol Danvers",
		"<@"+e2e.SlackUsers["carol@example.com"]+">")

	runs := s.runs()
	if len(runs) != 1 || runs[0].HookType != "PostSync" || runs[0].ExitCode != 0 {
		t.Fatalf("hook runs: want one PostSync exiting 0\n%s", s.hookLogs())
	}
	if !strings.Contains(runs[0].Stderr, `"mode":"argocd-api","server":"`+e2e.ArgoServer+`"`) {
		t.Errorf("the hook's log does not say it read through the Argo CD API:\n%s", runs[0].Stderr)
	}
	if strings.Contains(runs[0].Stderr+runs[0].Stdout, token) {
		t.Errorf("the hook's output carries the Argo CD token")
	}
	s.logShapes()

	t.Run("errors", func(t *testing.T) { apiErrors(t, s, token, denied) })
}

// apiErrors runs the hook binary against the same argocd-server with what
// goes wrong in the field, and wants exit 3 (the app could not be read) with
// one line that names the mode and what to fix, never the token.
func apiErrors(t *testing.T, s *scenario, token, denied string) {
	cases := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"role without the permission", map[string]string{"ARGOCD_AUTH_TOKEN": denied},
			[]string{"403", "applications, get"}},
		{"app the role may not see", map[string]string{"ARGOCD_APP_NAME": "s1-healthy"},
			[]string{"403", "applications, get"}},
		{"token not issued by this server", map[string]string{"ARGOCD_AUTH_TOKEN": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"},
			[]string{"401"}},
		{"CA not given", map[string]string{"ARGOCD_CA_FILE": ""},
			[]string{"ARGOCD_CA_FILE", "certificate"}},
		{"name not in the certificate", map[string]string{"ARGOCD_SERVER": "localhost:8080"},
			[]string{"localhost", "certificate"}},
		{"plain HTTP to the TLS port", map[string]string{"ARGOCD_PLAINTEXT": "true", "ARGOCD_CA_FILE": ""},
			[]string{"ARGOCD_PLAINTEXT"}},
		{"nothing listening", map[string]string{"ARGOCD_SERVER": "127.0.0.1:1", "HOOK_TIMEOUT": "5s"},
			[]string{"127.0.0.1:1", "unreachable"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := map[string]string{
				"ARGOCD_APP_NAME":   s.app,
				"ARGOCD_SERVER":     e2e.ArgoServer,
				"ARGOCD_AUTH_TOKEN": token,
				"ARGOCD_CA_FILE":    stack.CAFile,
				"SLACK_API_URL":     stack.Slack.URL(),
				"SLACK_TOKEN":       e2e.SlackToken,
				"SLACK_CHANNEL":     "#deploys",
				"HOOK_TIMEOUT":      "30s",
			}
			for k, v := range c.env {
				env[k] = v
			}
			code, stderr := runHook(t, s.ctx, env)
			if code != 3 {
				t.Errorf("exit %d, want 3\n%s", code, stderr)
			}
			last := lastLine(stderr)
			for _, w := range append(c.want, "ARGOCD_SERVER") {
				if !strings.Contains(last, w) {
					t.Errorf("last line lacks %q: %s", w, last)
				}
			}
			for _, secret := range []string{token, denied} {
				if strings.Contains(stderr, secret) {
					t.Errorf("the output carries a token:\n%s", stderr)
				}
			}
			t.Logf("exit %d: %s", code, last)
		})
	}
}

// apiTokens creates the AppProject project, admitting the destination dest
// ("<server>,<namespace>"), with the argocd CLI, as the README says to, and
// returns a token of its role "syncreport", which may get app only, and one
// of its role "nothing", which may do nothing.
func apiTokens(t *testing.T, ctx context.Context, project, dest, app string) (allowed, denied string) {
	t.Helper()
	argocd := func(args ...string) string {
		t.Helper()
		out, err := stack.ArgoCD(ctx, args...)
		must(t, err)
		return strings.TrimSpace(out)
	}
	argocd("proj", "create", project, "--dest", dest, "--src", "*")
	argocd("proj", "role", "create", project, "syncreport")
	argocd("proj", "role", "add-policy", project, "syncreport", "--action", "get", "--permission", "allow", "--object", app)
	argocd("proj", "role", "create", project, "nothing")
	return argocd("proj", "role", "create-token", project, "syncreport", "--token-only"),
		argocd("proj", "role", "create-token", project, "nothing", "--token-only")
}

// canGetApplications asks the apiserver whether the hook's ServiceAccount in
// ns may get Applications in the Argo CD namespace.
func canGetApplications(t *testing.T, ctx context.Context, ns string) bool {
	t.Helper()
	r, err := stack.Client.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
		Spec: authorizationv1.SubjectAccessReviewSpec{
			User:   "system:serviceaccount:" + ns + ":syncreport",
			Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
			ResourceAttributes: &authorizationv1.ResourceAttributes{
				Namespace: e2e.ArgoNamespace, Verb: "get", Group: "argoproj.io", Resource: "applications",
			},
		},
	}, metav1.CreateOptions{})
	must(t, err)
	return r.Status.Allowed
}

// runHook runs the built hook (report) with env and the admin kubeconfig,
// outside any pod.
func runHook(t *testing.T, ctx context.Context, env map[string]string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, stack.Tools.Hook)
	cmd.Env = []string{"KUBECONFIG=" + stack.Kubeconfig, "HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), stderr.String()
	case err != nil:
		t.Fatal(err)
	}
	return 0, stderr.String()
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
