// Package gate_test runs the built `hook gate` against a real etcd +
// kube-apiserver. There is no kubelet or controller: the tests write the
// Deployment, ReplicaSet and Pod statuses over time, as they would, while
// the gate runs as a least-privilege ServiceAccount, and update the
// Application as Argo CD would while a sync proceeds.
package gate_test

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
