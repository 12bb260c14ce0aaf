// Package faults_test runs the built hook binary through a matrix of faults
// on both sides of it: the Kubernetes API (down, 429, 5xx, Forbidden, the
// Application deleted mid-run), injected by a reverse proxy in front of a
// real kube-apiserver, and Slack (rate limits, 5xx, resets, slow answers,
// every transient and permanent error code, webhook errors, DNS failure),
// injected by the slacktest server. Each scenario checks the outcome, the
// exit code the README promises, the number of attempts, the time taken
// against HOOK_TIMEOUT, a log line naming the cause, and that the canary
// secrets never leak. The matrix is docs/fault-matrix.md; -update rewrites it.
package faults_test

import (
	"context"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/syncreport/syncreport/internal/testcluster"
)

const (
	// appNS is where Argo CD keeps the Applications.
	appNS = "argocd"
	// hookNS holds the hook's ServiceAccounts.
	hookNS = "faults"
	// saReader may get Applications in appNS; saNobody may not.
	saReader = "syncreport"
	saNobody = "syncreport-norole"
)

var (
	cluster *testcluster.Cluster
	hookBin string
	// tokens are the ServiceAccounts' bearer tokens, by name.
	tokens = map[string]string{}
)

func TestMain(m *testing.M) {
	os.Exit(testcluster.MainWithHook(m, func(ctx context.Context, c *testcluster.Cluster, hook string) error {
		cluster, hookBin = c, hook
		return setup(ctx, c)
	}))
}

// setup creates two identities: one allowed to get Applications, one
// without any Role (real RBAC, for the Forbidden row). MainWithHook has
// installed the Application CRD and created appNS.
func setup(ctx context.Context, c *testcluster.Cluster) error {
	if err := c.CreateNamespace(ctx, hookNS, nil); err != nil {
		return err
	}
	rbac := c.Client.RbacV1()
	if _, err := rbac.Roles(appNS).Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "syncreport"},
		Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{"argoproj.io"}, Resources: []string{"applications"}, Verbs: []string{"get"},
		}},
	}, metav1.CreateOptions{}); err != nil {
		return err
	}
	if _, err := rbac.RoleBindings(appNS).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "syncreport"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: saReader, Namespace: hookNS}},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "syncreport"},
	}, metav1.CreateOptions{}); err != nil {
		return err
	}
	for _, sa := range []string{saReader, saNobody} {
		if _, err := c.Client.CoreV1().ServiceAccounts(hookNS).Create(ctx,
			&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa}}, metav1.CreateOptions{}); err != nil {
			return err
		}
		tok, err := c.ServiceAccountToken(ctx, hookNS, sa, time.Hour)
		if err != nil {
			return err
		}
		tokens[sa] = tok
	}
	return nil
}
