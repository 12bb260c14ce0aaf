// Command demo starts a local embedded cluster (real etcd + kube-apiserver),
// loads sample Applications in several states and runs `hook report` against
// each with the stdout notifier, so you can see what the hook would post.
//
//	make demo
package main

import (
	"context"
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
	hook := filepath.Join(dir, "hook")
	fmt.Println("building hook…")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", hook, "./cmd/hook").CombinedOutput(); err != nil {
		return fmt.Errorf("build: %v\n%s", err, out)
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
		u.SetName(name)
		u.SetNamespace("argocd")
		if _, err := c.Dynamic.Resource(argocd.ApplicationsGVR).Namespace("argocd").Create(ctx, u, metav1.CreateOptions{}); err != nil {
			return err
		}
		fmt.Printf("\n$ ARGOCD_APP_NAME=%s NOTIFIER=stdout hook report\n", name)
		cmd := exec.CommandContext(ctx, hook, "report")
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "KUBECONFIG=" + c.Kubeconfig,
			"ARGOCD_APP_NAME=" + name, "NOTIFIER=stdout", "ARGOCD_URL=https://argocd.example.com", "LOG_LEVEL=warn"}
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("hook report for %s: %w", name, err)
		}
		if out.Len() == 0 {
			out.WriteString("(nothing posted: a middle attempt of a retrying sync; RETRY_NOTIFY=first posts the first and the final one)\n")
		}
		fmt.Print(out.String())
	}
	fmt.Println("\nTry the Slack payload: go run ./cmd/hook render --app-file internal/report/testdata/apps/syncfail-degraded.yaml --format slack")
	return nil
}
