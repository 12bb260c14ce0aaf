// Package apiserver_test runs the built hook binary against a real etcd +
// kube-apiserver with RBAC and PodSecurity on: the Application CRD is Argo
// CD's own, the hook authenticates as a least-privilege ServiceAccount with a
// TokenRequest token, and Slack is the slacktest server.
package apiserver_test

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
	dir, err := os.MkdirTemp("", "syncreport-hook-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	hookBin = filepath.Join(dir, "hook")
	// Built as the Dockerfile builds it, so benchmarks measure the release binary.
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", hookBin, "../../cmd/hook")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build hook: %v\n%s", err, out)
		return 1
	}
	c, err := testcluster.Start(ctx)
	if errors.Is(err, testcluster.ErrToolsUnavailable) {
		fmt.Fprintln(os.Stderr, "SKIP apiserver tests:", err)
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
