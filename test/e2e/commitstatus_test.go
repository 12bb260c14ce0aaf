package e2e_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/syncreport/syncreport/internal/forgetest"
	"github.com/syncreport/syncreport/test/e2e"
)

// Scenario 12: a multi-source Application with two Git sources, one on
// "GitHub" and one on "GitLab" (both the test forge; the git daemon's host
// is mapped to GitHub as 127.0.0.1:port and to GitLab as localhost:port).
// A failed sync sets a failure with the cause on each repository's own
// deployed commit; the next, healthy sync sets success on the new commits
// (issue 19). With COMMIT_STATUS_GITHUB_DEPLOYMENTS the GitHub commit also
// gets a deployment to the app's environment.
func TestMultiSourceCommitStatus(t *testing.T) {
	const (
		app     = "s12-commit"
		ghToken = "ghp_e2eGitHubToken"
		glToken = "glpat-e2eGitLabToken"
		ghRepo  = "acme/s12-web"
		glRepo  = "platform/s12-config"
	)
	forge := forgetest.Start(t, forgetest.Options{GitHubToken: ghToken, GitLabToken: glToken})
	u, err := url.Parse(stack.Git.URL("x"))
	must(t, err)
	ghHost, glHost := u.Host, "localhost:"+u.Port()
	s := newScenario(t, app, "", map[string]string{
		// In the ConfigMap only because this is a test: use a Secret (docs/commit-status.md).
		"COMMIT_STATUS_GITHUB_TOKEN": ghToken, "COMMIT_STATUS_GITHUB_HOSTS": ghHost + "=" + forge.GitHubURL(),
		"COMMIT_STATUS_GITLAB_TOKEN": glToken, "COMMIT_STATUS_GITLAB_HOSTS": glHost + "=" + forge.GitLabURL(),
		"COMMIT_STATUS_GITHUB_DEPLOYMENTS": "true",
	})
	commit := func(repo, msg string, files map[string]string) string {
		rev, err := stack.Git.Commit(s.ctx, repo, msg, files)
		must(t, err)
		return rev
	}
	// The hooks and the Service come from the GitHub repository, the
	// Deployment from the GitLab one.
	webRev := commit(ghRepo, "hooks and service", map[string]string{"syncreport.yaml": s.hooks, "svc.yaml": service})
	badRev := commit(glRepo, "web with a bad image", map[string]string{"web.yaml": deployment("web", "registry.e2e.test/web:does-not-exist", "bad-image", 15)})
	forge.AddRepo("github", ghRepo, webRev)
	forge.AddRepo("gitlab", glRepo, badRev)

	source := func(host, repo string) map[string]any {
		return map[string]any{"repoURL": fmt.Sprintf("git://%s/%s.git", host, repo), "path": ".", "targetRevision": "HEAD"}
	}
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
		"metadata": map[string]any{"name": app, "namespace": e2e.ArgoNamespace},
		"spec": map[string]any{
			"project":     "default",
			"sources":     []any{source(ghHost, ghRepo), source(glHost, glRepo)},
			"destination": map[string]any{"server": e2e.InClusterServer, "namespace": s.dest},
		},
	}}
	_, err = stack.Dynamic.Resource(e2e.ApplicationsGVR).Namespace(e2e.ArgoNamespace).Create(s.ctx, obj, metav1.CreateOptions{})
	must(t, err)

	link := e2e.ArgoURL + "/applications/" + e2e.ArgoNamespace + "/" + app + "?operation=true"
	// statusOn waits for the app's status on one commit and checks it.
	statusOn := func(provider, repo, sha, state string) forgetest.Status {
		t.Helper()
		var got *forgetest.Status
		err := pollUntil(s.ctx, func() bool {
			for _, st := range forge.Statuses() {
				if st.Provider == provider && st.Repo == repo && st.SHA == sha && st.State == state {
					got = &st
					return true
				}
			}
			return false
		})
		if err != nil {
			t.Fatalf("no %s status %q on %s@%s: %v\nstatuses: %+v\n%s", provider, state, repo, sha[:7], err, forge.Statuses(), s.hookLogs())
		}
		if got.Context != "syncreport/"+app || got.TargetURL != link {
			t.Errorf("%s status %+v: want context syncreport/%s and target %s", provider, *got, app, link)
		}
		return *got
	}

	t0 := s.sync()
	wantOperation(t, s.waitFinished(t0), "Failed", "Degraded")
	wantReport(t, s.messages(1)[0], "failed", 1, app+" sync failed")
	for _, st := range []forgetest.Status{
		statusOn("github", ghRepo, webRev, "failure"),
		statusOn("gitlab", glRepo, badRev, "failed"),
	} {
		t.Logf("%s status: %s %q", st.Provider, st.State, st.Description)
		if !strings.HasPrefix(st.Description, "sync failed: Deployment "+s.dest+"/web") {
			t.Errorf("%s description %q does not give the cause", st.Provider, st.Description)
		}
	}

	goodRev := commit(glRepo, "web 1.0.0", map[string]string{"web.yaml": deployment("web", "registry.e2e.test/web:1.0.0", "", 0)})
	forge.AddRepo("gitlab", glRepo, goodRev)
	t1 := s.sync()
	wantOperation(t, s.waitFinished(t1), "Succeeded", "Healthy")
	wantReport(t, s.messages(2)[1], "succeeded", 1, app+" synced and healthy")
	for _, st := range []forgetest.Status{
		statusOn("github", ghRepo, webRev, "success"),
		statusOn("gitlab", glRepo, goodRev, "success"),
	} {
		if st.Description != "synced and healthy" {
			t.Errorf("%s description %q", st.Provider, st.Description)
		}
	}
	// The GitHub commit has one deployment to the app's environment, failed
	// then successful; the bad GitLab commit keeps its failure.
	deps := forge.Deployments()
	if len(deps) != 1 || deps[0].Environment != app || deps[0].SHA != webRev {
		t.Fatalf("deployments %+v, want one of %s to %s", deps, webRev[:7], app)
	}
	var states []string
	for _, st := range deps[0].Statuses {
		states = append(states, st.State)
	}
	if strings.Join(states, ",") != "failure,success" {
		t.Errorf("deployment statuses %v, want failure, success", states)
	}
	for _, st := range forge.Statuses() {
		if st.SHA == badRev && st.State != "failed" {
			t.Errorf("the failed commit got %+v", st)
		}
	}
	s.logShapes()
}

// Scenario 12b: with the gate (manifests/components/gate), the commit shows
// "pending" while the gate watches the rollout, then the PostSync report's
// "success": the final state always comes last, since the gate waits for
// its pending status before it exits and Argo CD starts PostSync after it.
func TestGateCommitStatusPending(t *testing.T) {
	const (
		app     = "s12b-gate"
		ghToken = "ghp_e2eGateToken"
		repo    = "acme/s12b-gate"
	)
	forge := forgetest.Start(t, forgetest.Options{GitHubToken: ghToken})
	u, err := url.Parse(stack.Git.URL("x"))
	must(t, err)
	s := newScenario(t, app, "", map[string]string{
		"COMMIT_STATUS_GITHUB_TOKEN": ghToken, "COMMIT_STATUS_GITHUB_HOSTS": u.Host + "=" + forge.GitHubURL(),
	}, "gate")
	rev, err := stack.Git.Commit(s.ctx, repo, "web 1.0.0", map[string]string{"syncreport.yaml": s.hooks,
		"web.yaml": deployment("web", "registry.e2e.test/web:1.0.0", "", 0), "svc.yaml": service})
	must(t, err)
	forge.AddRepo("github", repo, rev)
	must(t, stack.CreateApp(s.ctx, e2e.AppSpec{Name: app, Repo: repo, Dest: s.dest}))
	t0 := s.sync()
	wantOperation(t, s.waitFinished(t0), "Succeeded", "Healthy")
	wantReport(t, s.messages(1)[0], "succeeded", 1, app+" synced and healthy")
	var states []string
	err = pollUntil(s.ctx, func() bool {
		states = states[:0]
		for _, st := range forge.Statuses() {
			if st.SHA == rev && st.Context == "syncreport/"+app {
				states = append(states, st.State+": "+st.Description)
			}
		}
		return len(states) >= 2
	})
	if err != nil || len(states) != 2 || states[0] != "pending: rollout in progress: the gate is watching it" || states[1] != "success: synced and healthy" {
		t.Fatalf("statuses on %s: %q (%v); want pending from the gate, then success\n%s", rev[:7], states, err, s.hookLogs())
	}
	var gate int
	for _, r := range s.runs() {
		if r.HookType == "Sync" {
			gate++
		}
	}
	if gate != 1 {
		t.Errorf("%d gate runs, want 1\n%s", gate, s.hookLogs())
	}
	s.logShapes()
}
