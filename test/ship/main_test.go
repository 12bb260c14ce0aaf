package ship_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/syncreport/syncreport/internal/testcluster"
	"github.com/syncreport/syncreport/test/ship"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// The tools and the cluster are found or started on first use and shared by
// every test of the package; TestMain stops the cluster.
var (
	toolsOnce sync.Once
	tools     *ship.Tools
	toolsErr  error

	clusterOnce sync.Once
	cluster     *testcluster.Cluster
	clusterErr  error

	hookOnce sync.Once
	hookDir  string
	hookBin  string
	hookErr  error
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if cluster != nil {
		cluster.Stop() // os.Exit skips deferred calls
	}
	if hookDir != "" {
		os.RemoveAll(hookDir)
	}
	os.Exit(code)
}

// needTools returns helm and kustomize, skipping the test when they cannot be
// had outside CI (under CI=true the error is never skippable).
func needTools(t *testing.T) *ship.Tools {
	t.Helper()
	toolsOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		defer cancel()
		tools, toolsErr = ship.FindTools(ctx)
	})
	if errors.Is(toolsErr, ship.ErrToolMissing) {
		t.Skip(toolsErr)
	}
	if toolsErr != nil {
		t.Fatal(toolsErr)
	}
	return tools
}

// needCluster returns the shared kube-apiserver, skipping like needTools.
func needCluster(t *testing.T) *testcluster.Cluster {
	t.Helper()
	clusterOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		defer cancel()
		cluster, clusterErr = testcluster.Start(ctx)
		if clusterErr == nil {
			clusterErr = cluster.InstallArgoCRDs(ctx)
		}
	})
	if errors.Is(clusterErr, testcluster.ErrToolsUnavailable) {
		t.Skip(clusterErr)
	}
	if clusterErr != nil {
		t.Fatal(clusterErr)
	}
	return cluster
}

// needHook builds cmd/hook once, as the Dockerfile does (static, stripped),
// and returns the binary's path.
func needHook(t *testing.T) string {
	t.Helper()
	hookOnce.Do(func() {
		if hookDir, hookErr = os.MkdirTemp("", "syncreport-ship-hook-"); hookErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		hookBin, hookErr = testcluster.BuildHook(ctx, hookDir)
	})
	if hookErr != nil {
		t.Fatal(hookErr)
	}
	return hookBin
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := ship.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./test/ship/ -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the rendering (go test ./test/ship/ -update rewrites it):\n%s", path, firstDiff(want, got))
	}
}

// firstDiff shows the first differing line with a little context.
func firstDiff(want, got []byte) string {
	wl := bytes.Split(want, []byte("\n"))
	gl := bytes.Split(got, []byte("\n"))
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g []byte
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if !bytes.Equal(w, g) || i >= len(wl) || i >= len(gl) {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, w, g)
		}
	}
	return "(equal)"
}
