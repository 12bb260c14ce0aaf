//go:build linux

package e2e_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/syncreport/syncreport/test/e2e"
)

// This file's name sorts after the others' so that scenario 10 runs last:
// the second cluster it starts runs until the end, and on a small machine
// its processes would share the CPU with every scenario after it.

// remoteProject is the AppProject of scenario 10: it admits only the
// scenario's namespace in the remote cluster, and its role may get only the
// scenario's app.
const remoteProject = "e2e-remote"

// Scenario 10: a remote destination cluster, the multi-cluster case of the
// README's "Remote destination clusters". Argo CD deploys the app to a
// second cluster (registered as a cluster Secret), so the hook Jobs run
// there, where no Application exists and Argo CD's namespace does not
// either; each hook reads its Pod, Job and the live objects in that
// cluster, with a token of its ServiceAccount there, and the Application
// through one of the two Components. The destination namespace and its
// Secrets are made in cluster 2 out of Git, as a user would.
func TestRemoteDestination(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), scenarioTimeout)
	defer cancel()
	t0 := time.Now()
	remote, err := stack.RemoteCluster(ctx)
	must(t, err)
	t.Logf("cluster 2 (%s) up in %.1fs", remote.Server, time.Since(t0).Seconds())

	t.Run("argocd-api", func(t *testing.T) { remoteArgoCDAPI(t, remote) })
	t.Run("remote-kubeconfig", func(t *testing.T) { remoteKubeconfig(t, remote) })
}

// remoteArgoCDAPI: the image cannot be pulled, the sync fails, and the
// SyncFail hook in cluster 2 reads the app from argocd-server (with a
// project-role token) and names the cause it found in cluster 2's pods.
func remoteArgoCDAPI(t *testing.T, remote *e2e.Cluster) {
	s := newScenarioIn(t, remote, "s10-remote", "", map[string]string{
		"ARGOCD_SERVER":        e2e.ArgoServer,
		"ARGOCD_CA_FILE":       caMount,
		"NOTIFY_COMMIT_AUTHOR": "true",
	}, "argocd-api")
	token, _ := apiTokens(t, s.ctx, remoteProject, remote.Server+","+s.dest, s.app)
	ca, err := os.ReadFile(stack.CAFile)
	must(t, err)
	s.remoteSecret(map[string]string{"token": token, "ca.crt": string(ca)})

	const (
		subject = "web 3.0.0 from the new registry"
		image   = "registry.e2e.test/web:3.0.0-missing"
	)
	rev := s.commit(subject, map[string]string{"web.yaml": deployment("web", image, "bad-image", 30)})
	must(t, stack.CreateApp(s.ctx, e2e.AppSpec{Name: s.app, Repo: s.app, Dest: s.dest, Server: remote.Server, Project: remoteProject}))
	t0 := s.sync()
	app := s.waitFinished(t0)
	wantOperation(t, app, "Failed", "Degraded")
	msgs := s.messages(1)
	t.Logf("sync → report %.1fs", msgs[0].Time.Sub(t0).Seconds())
	// ImagePullBackOff and the image are only in the pods of cluster 2:
	// Argo CD's own message is the progress deadline.
	wantReport(t, msgs[0], "failed", 1, "s10-remote sync failed", "Deployment", "web",
		"ImagePullBackOff", image, subject, rev[:7], remote.Server)
	s.wantRemoteRun("SyncFail", `"mode":"argocd-api"`, token)
	s.logShapes()
}

// remoteKubeconfig: a healthy sync; the PostSync hook in cluster 2 reads
// the app with a kubeconfig for Argo CD's cluster whose identity may get
// this one Application and nothing else (manifests/hooks/README.md).
func remoteKubeconfig(t *testing.T, remote *e2e.Cluster) {
	s := newScenarioIn(t, remote, "s10b-remote-kubeconfig", "", nil, "remote-kubeconfig")
	token := appReaderToken(t, s.ctx, s.app)
	kc, err := stack.TokenKubeconfig(token)
	must(t, err)
	s.remoteSecret(map[string]string{"kubeconfig": string(kc)})

	rev := s.commit("web 3.0.1", map[string]string{"web.yaml": deployment("web", "registry.e2e.test/web:3.0.1", "", 0)})
	must(t, stack.CreateApp(s.ctx, e2e.AppSpec{Name: s.app, Repo: s.app, Dest: s.dest, Server: remote.Server}))
	t0 := s.sync()
	app := s.waitFinished(t0)
	wantOperation(t, app, "Succeeded", "Healthy")
	msgs := s.messages(1)
	t.Logf("sync → report %.1fs", msgs[0].Time.Sub(t0).Seconds())
	wantReport(t, msgs[0], "succeeded", 1, "s10b-remote-kubeconfig synced and healthy", rev[:7], remote.Server)
	s.wantRemoteRun("PostSync", `"mode":"kubeconfig"`, token)
	s.logShapes()
}

// remoteSecret creates the Secret syncreport-argocd in the destination
// namespace, out of Git.
func (s *scenario) remoteSecret(data map[string]string) {
	s.t.Helper()
	_, err := s.cluster.Client.CoreV1().Secrets(s.dest).Create(s.ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "syncreport-argocd"},
		StringData: data,
	}, metav1.CreateOptions{})
	must(s.t, err)
}

// wantRemoteRun wants one hook run of hookType, in the destination cluster,
// exiting 0, whose log has logged and not secret, and nothing of the app
// in Argo CD's cluster.
func (s *scenario) wantRemoteRun(hookType, logged, secret string) {
	s.t.Helper()
	runs := s.runs()
	if len(runs) != 1 || runs[0].HookType != hookType || runs[0].ExitCode != 0 || runs[0].Cluster != s.cluster.Config.Host {
		s.t.Fatalf("hook runs in %s: want one %s exiting 0\n%s", s.cluster.Server, hookType, s.hookLogs())
	}
	if !strings.Contains(runs[0].Stderr, logged) {
		s.t.Errorf("the hook's log lacks %s:\n%s", logged, runs[0].Stderr)
	}
	if strings.Contains(runs[0].Stderr+runs[0].Stdout, secret) {
		s.t.Errorf("the hook's output carries its credential for Argo CD")
	}

	if _, err := stack.Client.CoreV1().Namespaces().Get(s.ctx, s.dest, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		s.t.Errorf("namespace %s in Argo CD's cluster: %v, want not found", s.dest, err)
	}
	pods, err := stack.Client.CoreV1().Pods(s.dest).List(s.ctx, metav1.ListOptions{})
	must(s.t, err)
	jobs, err := stack.Client.BatchV1().Jobs(s.dest).List(s.ctx, metav1.ListOptions{})
	must(s.t, err)
	if len(pods.Items)+len(jobs.Items) > 0 {
		s.t.Errorf("Argo CD's cluster has %d pods and %d Jobs in %s, want none", len(pods.Items), len(jobs.Items), s.dest)
	}
	for _, r := range stack.Hooks.Runs() {
		if r.Namespace == s.dest {
			s.t.Errorf("hook %s ran in Argo CD's cluster", r.Pod)
		}
	}
}

// appReaderToken is a token of a ServiceAccount in Argo CD's namespace that
// may get the Application app and nothing else, as manifests/hooks/README.md
// says to grant the identity of remote-kubeconfig.
func appReaderToken(t *testing.T, ctx context.Context, app string) string {
	t.Helper()
	name := "syncreport-" + app
	c := stack.Client
	_, err := c.CoreV1().ServiceAccounts(e2e.ArgoNamespace).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	must(t, err)
	_, err = c.RbacV1().Roles(e2e.ArgoNamespace).Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"argoproj.io"}, Resources: []string{"applications"},
			Verbs: []string{"get"}, ResourceNames: []string{app}}},
	}, metav1.CreateOptions{})
	must(t, err)
	_, err = c.RbacV1().RoleBindings(e2e.ArgoNamespace).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: name, Namespace: e2e.ArgoNamespace}},
	}, metav1.CreateOptions{})
	must(t, err)
	tr, err := c.CoreV1().ServiceAccounts(e2e.ArgoNamespace).CreateToken(ctx, name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)},
	}, metav1.CreateOptions{})
	must(t, err)
	return tr.Status.Token
}
