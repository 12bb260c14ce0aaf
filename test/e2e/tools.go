//go:build linux

package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Environment variables that point the harness at prebuilt parts.
const (
	// EnvToolsBin names a directory holding what hack/tools/install-e2e.sh
	// builds; when unset, the script is run (it prints the directory).
	EnvToolsBin = "SYNCREPORT_E2E_TOOLS_BIN"
	// EnvHookBin names a built hook binary; when unset, ./cmd/hook is built.
	EnvHookBin = "SYNCREPORT_E2E_HOOK_BIN"
	// EnvKeep keeps the stack's directory (logs, Application snapshots) after the run.
	EnvKeep = "SYNCREPORT_E2E_KEEP"
)

// ErrToolsUnavailable wraps a failure to find or build the tools, so a
// developer without them may skip; under CI=true it is never wrapped.
var ErrToolsUnavailable = errors.New("e2e tools unavailable")

// Tools are the binaries and module files the stack runs.
type Tools struct {
	Bin        string // etcd, kube-*, kwok, argocd*, git-verify-wrapper.sh
	ArgoModule string // github.com/argoproj/argo-cd/v3 in the module cache (manifests/)
	KwokModule string // sigs.k8s.io/kwok in the module cache (kustomize/stage/)
	Hook       string // the built hook binary
	Root       string // the repository root (manifests/hooks)
}

// FindTools locates or builds everything, outside the private network
// namespace (builds need the Go module proxy). Building the hook writes it to
// dir.
func FindTools(ctx context.Context, dir string) (*Tools, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	if !InPrivateNetns() {
		if err := CheckPrivateNetns(); err != nil {
			return nil, unavailable(err)
		}
	}
	t := &Tools{Root: root, Bin: os.Getenv(EnvToolsBin)}
	if t.Bin == "" {
		cmd := exec.CommandContext(ctx, filepath.Join(root, "hack", "tools", "install-e2e.sh"))
		// Its progress ("building argocd … (one time)") goes to stderr as it happens.
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, unavailable(fmt.Errorf("hack/tools/install-e2e.sh: %w", err))
		}
		t.Bin = strings.TrimSpace(out.String())
	}
	cache := filepath.Dir(t.Bin)
	for name, dst := range map[string]*string{"argocd-module": &t.ArgoModule, "kwok-module": &t.KwokModule} {
		b, err := os.ReadFile(filepath.Join(cache, name))
		if err != nil {
			return nil, unavailable(err)
		}
		*dst = strings.TrimSpace(string(b))
	}
	for _, name := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "kwok",
		"argocd", "argocd-server", "argocd-repo-server", "argocd-application-controller", "git-verify-wrapper.sh"} {
		if _, err := os.Stat(filepath.Join(t.Bin, name)); err != nil {
			return nil, unavailable(err)
		}
	}
	for _, name := range []string{"git", "redis-server"} {
		if _, err := exec.LookPath(name); err != nil {
			return nil, unavailable(fmt.Errorf("%w (apt-get install git redis-server)", err))
		}
	}
	if t.Hook = os.Getenv(EnvHookBin); t.Hook == "" {
		t.Hook = filepath.Join(dir, "hook")
		cmd := exec.CommandContext(ctx, "go", "build", "-o", t.Hook, "./cmd/hook")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("build the hook: %w\n%s", err, out)
		}
	}
	return t, nil
}

func unavailable(err error) error {
	if os.Getenv("CI") == "true" {
		return fmt.Errorf("%w (CI=true: not skippable)", err)
	}
	return fmt.Errorf("%w: %w", ErrToolsUnavailable, err)
}

// repoRoot is the nearest directory above the working directory holding
// go.mod and cmd/hook.
func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "cmd", "hook", "main.go")); err == nil {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("no cmd/hook above %s", wd)
		}
	}
}
