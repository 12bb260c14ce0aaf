package apiserver_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/syncreport/syncreport/internal/argocd"
	"github.com/syncreport/syncreport/internal/slacktest"
	"github.com/syncreport/syncreport/internal/testcluster"
)

// BenchmarkHook measures one hook run end to end — process start, locate
// its Job, read a 100-resource Application from the real apiserver, judge,
// post to the Slack test server — plus the process's peak RSS and the
// stripped binary's size.
func BenchmarkHook(b *testing.B) {
	ctx := context.Background()
	s := slacktest.New()
	defer s.Close()

	// A 100-resource app whose SyncFail hook reports 10 failures.
	app := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
		"metadata": map[string]any{"name": "bench-100", "namespace": "argocd"},
		"spec":     map[string]any{"project": "default", "destination": map[string]any{"server": "https://kubernetes.default.svc", "namespace": "bench"}},
	}}
	var res []any
	for i := range 100 {
		e := map[string]any{"group": "apps", "version": "v1", "kind": "Deployment", "namespace": "bench",
			"name": fmt.Sprintf("svc-%03d", i), "status": "Synced", "hookPhase": "Running", "message": "configured"}
		if i < 10 {
			e["hookPhase"], e["message"] = "Failed", "Deployment exceeded its progress deadline"
		}
		res = append(res, e)
	}
	res = append(res, map[string]any{"group": "batch", "version": "v1", "kind": "Job", "namespace": "bench",
		"name": "syncreport-syncfail", "hookType": "SyncFail", "hookPhase": "Running"})
	app.Object["status"] = map[string]any{"operationState": map[string]any{
		"phase": "Running", "startedAt": time.Now().UTC().Format(time.RFC3339),
		"operation":  map[string]any{"initiatedBy": map[string]any{"username": "alice@example.com"}},
		"syncResult": map[string]any{"revision": "4f2a1c9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39", "resources": res},
	}}
	if _, err := cluster.Dynamic.Resource(argocd.ApplicationsGVR).Namespace("argocd").Create(ctx, app, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}

	env := benchEnv("PATH="+os.Getenv("PATH"), "KUBECONFIG="+cluster.Kubeconfig, "ARGOCD_APP_NAME=bench-100",
		"SLACK_TOKEN="+slacktest.DefaultToken, "SLACK_CHANNEL=#bench", "SLACK_API_URL="+s.URL(), "LOG_LEVEL=error")
	// Peak RSS comes from GNU time, which forks the hook for real: the
	// rusage Go reports for a child includes the test binary's own RSS,
	// because the kernel records the pre-exec (shared, vfork) memory as the
	// child's high-water mark.
	rssFile := filepath.Join(b.TempDir(), "rss")
	var maxRSS int64
	b.ResetTimer()
	for b.Loop() {
		cmd := exec.Command("/usr/bin/time", "-f", "%M", "-o", rssFile, hookBin)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("%v\n%s", err, out)
		}
		var kib int64
		if raw, err := os.ReadFile(rssFile); err != nil {
			b.Fatal(err)
		} else if _, err := fmt.Sscan(string(raw), &kib); err != nil {
			b.Fatalf("GNU time output %q: %v", raw, err)
		}
		maxRSS = max(maxRSS, kib)
	}
	b.StopTimer()
	if n := len(s.Posts()); n != b.N {
		b.Fatalf("%d posts for %d runs", n, b.N)
	}
	b.ReportMetric(float64(maxRSS)/1024, "peak-RSS-MiB")

	// The release build: static, stripped, as the Dockerfile builds it.
	bin, err := testcluster.BuildHook(b.Context(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	fi, err := os.Stat(bin)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(fi.Size())/1e6, "binary-MB")
}

// benchEnv is the hook's environment for a benchmark, plus BENCH_EXTRA_ENV
// when set (e.g. BENCH_EXTRA_ENV=GODEBUG=gctrace=1 to look at the heap).
func benchEnv(env ...string) []string {
	if extra := os.Getenv("BENCH_EXTRA_ENV"); extra != "" {
		env = append(env, extra)
	}
	return env
}
