package testcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// BuildHook builds cmd/hook into dir the way the Dockerfile does (static,
// stripped), so tests and benchmarks run the release binary.
func BuildHook(ctx context.Context, dir string) (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "hook")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./cmd/hook")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build hook: %w\n%s", err, out)
	}
	return bin, nil
}

// MainWithHook is the body of a TestMain whose tests run the hook binary
// against one shared cluster: it builds the hook, starts the cluster with
// Argo CD's CRDs and the "argocd" namespace, hands both to setup (which
// keeps them, and may stage more), runs the tests and cleans up. It returns
// the exit code for os.Exit.
func MainWithHook(m *testing.M, setup func(ctx context.Context, c *Cluster, hook string) error) int {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "syncreport-hook-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	hook, err := BuildHook(ctx, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	c, err := Start(ctx)
	if errors.Is(err, ErrToolsUnavailable) {
		fmt.Fprintln(os.Stderr, "SKIP cluster tests:", err)
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer c.Stop()
	for _, step := range []func() error{
		func() error { return c.InstallArgoCRDs(ctx) },
		func() error { return c.CreateNamespace(ctx, "argocd", nil) },
		func() error { return setup(ctx, c, hook) },
	} {
		if err := step(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return m.Run()
}
