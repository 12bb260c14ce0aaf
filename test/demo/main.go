// Command demo starts a local embedded cluster (real etcd + kube-apiserver),
// loads sample Applications in several states and runs `hook report` against
// each with the stdout notifier, so you can see what the hook would post.
//
//	make demo
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/syncreport/syncreport/internal/argocd"
	"github.com/syncreport/syncreport/internal/testcluster"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "syncreport-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Println("building hook…")
	hook, err := testcluster.BuildHook(ctx, dir)
	if err != nil {
		return err
	}
	fmt.Println("starting etcd + kube-apiserver on 127.0.0.1…")
	start := time.Now()
	c, err := testcluster.Start(ctx)
	if err != nil {
		return err
	}
	defer c.Stop()
	if err := c.InstallArgoCRDs(ctx); err != nil {
		return err
	}
	if err := c.CreateNamespace(ctx, "argocd", nil); err != nil {
		return err
	}
	fmt.Printf("cluster up in %s (Argo CD Application CRD installed)\n", time.Since(start).Round(100*time.Millisecond))

	fixtures, _ := filepath.Glob("internal/report/testdata/apps/*.yaml")
	for _, f := range fixtures {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var obj map[string]any
		if err := yaml.Unmarshal(b, &obj); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		u := &unstructured.Unstructured{Object: obj}
		// Pretend the operation started a minute and a half ago.
		if _, ok, _ := unstructured.NestedString(obj, "status", "operationState", "startedAt"); ok {
			start := time.Now().Add(-90 * time.Second).UTC()
			_ = unstructured.SetNestedField(obj, start.Format(time.RFC3339), "status", "operationState", "startedAt")
			if _, ok, _ := unstructured.NestedString(obj, "status", "operationState", "finishedAt"); ok {
				_ = unstructured.SetNestedField(obj, start.Add(4*time.Second).Format(time.RFC3339), "status", "operationState", "finishedAt")
			}
		}
		u.SetName(name)
		u.SetNamespace("argocd")
		if _, err := c.Dynamic.Resource(argocd.ApplicationsGVR).Namespace("argocd").Create(ctx, u, metav1.CreateOptions{}); err != nil {
			return err
		}
		fmt.Printf("\n$ ARGOCD_APP_NAME=%s NOTIFIER=stdout hook report\n", name)
		cmd := exec.CommandContext(ctx, hook, "report")
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "KUBECONFIG=" + c.Kubeconfig,
			"ARGOCD_APP_NAME=" + name, "NOTIFIER=stdout", "ARGOCD_URL=https://argocd.example.com"}
		var out, logs strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &logs
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("hook report for %s: %w\n%s", name, err, logs.String())
		}
		if out.Len() == 0 {
			// Say why from the hook's own log ("not posting: …").
			for _, line := range strings.Split(logs.String(), "\n") {
				var l struct{ Msg string }
				if json.Unmarshal([]byte(line), &l) == nil && strings.HasPrefix(l.Msg, "not posting") {
					fmt.Fprintf(&out, "(nothing posted — %s)\n", l.Msg)
				}
			}
		}
		fmt.Print(out.String())
	}
	fmt.Println("\nTry the Slack payload: go run ./cmd/hook render --app-file internal/report/testdata/apps/syncfail-degraded.yaml --format slack")
	return nil
}
