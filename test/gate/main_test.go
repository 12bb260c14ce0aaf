// Package gate_test runs the built `hook gate` against a real etcd +
// kube-apiserver. There is no kubelet or controller: the tests write the
// Deployment, ReplicaSet and Pod statuses over time, as they would, while
// the gate runs as a least-privilege ServiceAccount, and update the
// Application as Argo CD would while a sync proceeds.
package gate_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/syncreport/syncreport/internal/testcluster"
)

var (
	cluster *testcluster.Cluster
	hookBin string
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "syncreport-gate-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	hookBin = filepath.Join(dir, "hook")
	// Built as the Dockerfile builds it, so the benchmark measures the release binary.
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", hookBin, "../../cmd/hook")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build hook: %v\n%s", err, out)
		return 1
	}
	c, err := testcluster.Start(ctx)
	if errors.Is(err, testcluster.ErrToolsUnavailable) {
		fmt.Fprintln(os.Stderr, "SKIP gate tests:", err)
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer c.Stop()
	if err := c.InstallArgoCRDs(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := c.CreateNamespace(ctx, "argocd", nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cluster = c
	return m.Run()
}
