//go:build unix

// Package multicluster runs the hook binary the way Argo CD runs it when it
// deploys to a remote cluster: the hook Job lives in the destination cluster,
// the Application in the Argo CD cluster, and ARGOCD_KUBECONFIG_FILE is the
// bridge. Both clusters are real kube-apiservers (internal/testcluster).
package multicluster_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/syncreport/syncreport/internal/testcluster"
)

var (
	// argoCluster holds Argo CD's Applications; destCluster is where the
	// app, and so the hook Job, is deployed.
	argoCluster, destCluster *testcluster.Cluster
	// hookBin is the hook binary built from cmd/hook.
	hookBin string
)

func TestMain(m *testing.M) { os.Exit(runTests(m)) }

// runTests is TestMain's body, so that deferred Stops run before os.Exit.
func runTests(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()

	dir, err := os.MkdirTemp("", "multicluster-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if hookBin, err = testcluster.BuildHook(ctx, dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	// The two clusters start side by side: each takes seconds.
	began := time.Now()
	var (
		wg         sync.WaitGroup
		errA, errB error
	)
	wg.Go(func() { argoCluster, errA = testcluster.Start(ctx) })
	wg.Go(func() { destCluster, errB = testcluster.Start(ctx) })
	wg.Wait()
	for _, c := range []*testcluster.Cluster{argoCluster, destCluster} {
		if c != nil {
			defer c.Stop()
		}
	}
	if err := errors.Join(errA, errB); err != nil {
		if errors.Is(err, testcluster.ErrToolsUnavailable) {
			fmt.Fprintln(os.Stderr, "SKIP multi-cluster tests:", err)
			return 0
		}
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "two test clusters started in %s: argocd %s, destination %s\n",
		time.Since(began).Round(time.Millisecond), argoCluster.Config.Host, destCluster.Config.Host)
	return m.Run()
}
