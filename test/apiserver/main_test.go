// Package apiserver_test runs the built hook binary against a real etcd +
// kube-apiserver with RBAC and PodSecurity on: the Application CRD is Argo
// CD's own, the hook authenticates as a least-privilege ServiceAccount with a
// TokenRequest token, and Slack is the slacktest server.
package apiserver_test

import (
	"context"
	"os"
	"testing"

	"github.com/syncreport/syncreport/internal/testcluster"
)

var (
	cluster *testcluster.Cluster
	hookBin string
)

func TestMain(m *testing.M) {
	os.Exit(testcluster.MainWithHook(m, func(_ context.Context, c *testcluster.Cluster, hook string) error {
		cluster, hookBin = c, hook
		return nil
	}))
}
