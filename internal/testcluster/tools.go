//go:build unix

package testcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// ErrToolsUnavailable is wrapped by Start's error when etcd or kube-apiserver
// could not be located or built, so a developer without the tools may skip.
// It is never wrapped when the environment variable CI is "true": CI must
// fail rather than pass with the cluster tests skipped.
var ErrToolsUnavailable = errors.New("test cluster binaries unavailable")

// Environment variables read by Start.
const (
	// EnvToolsBin names a directory holding etcd and kube-apiserver; when it is
	// set, Start runs them from there and never runs hack/tools/install.sh.
	EnvToolsBin = "SYNCREPORT_TOOLS_BIN"
	// EnvArgoCRDs names the argo-cd manifests/crds directory for
	// InstallArgoCRDs. Without it, the file argocd-crds next to the bin
	// directory (written by install.sh) says where it is.
	EnvArgoCRDs = "SYNCREPORT_ARGOCD_CRDS"
	// EnvKeep, when non-empty, makes Stop (and a failed Start) keep Dir with
	// its logs, for debugging.
	EnvKeep = "SYNCREPORT_TESTCLUSTER_KEEP"
)

// tools are the binaries Start runs and the Argo CD CRD directory, which may
// be empty: then only InstallArgoCRDs fails.
type tools struct {
	etcd, apiserver string
	argoCRDs        string
}

// findTools locates the binaries: EnvToolsBin, else hack/tools/install.sh,
// which uses KUBEBUILDER_ASSETS (setup-envtest) or etcd and kube-apiserver
// on PATH when they are there and builds them otherwise.
func findTools(ctx context.Context) (tools, error) {
	bin := os.Getenv(EnvToolsBin)
	if bin == "" {
		var err error
		if bin, err = runInstall(ctx); err != nil {
			return tools{}, unavailable(err)
		}
	}
	t := tools{
		etcd:      filepath.Join(bin, "etcd"),
		apiserver: filepath.Join(bin, "kube-apiserver"),
		argoCRDs:  os.Getenv(EnvArgoCRDs),
	}
	for _, p := range []string{t.etcd, t.apiserver} {
		if err := isExecutable(p); err != nil {
			return tools{}, unavailable(err)
		}
	}
	if t.argoCRDs == "" {
		if b, err := os.ReadFile(filepath.Join(filepath.Dir(bin), "argocd-crds")); err == nil {
			t.argoCRDs = strings.TrimSpace(string(b))
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

func isExecutable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", path)
	}
	return nil
}

// runInstall runs hack/tools/install.sh --cluster (no kubectl or helm: a
// cluster needs neither), which is fast once its cache is warm or with
// KUBEBUILDER_ASSETS, and returns the bin directory it prints. The script serialises
// concurrent runs itself (go test ./... runs packages in parallel) with a
// flock on its cache: do not take that lock here, the script would wait for
// us forever.
func runInstall(ctx context.Context) (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	script := filepath.Join(root, "hack", "tools", "install.sh")
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "bash", script, "--cluster")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = sysProcAttr()
	// go build runs compilers as grandchildren: cancel the whole group.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %w\n%s", script, err, tail(stderr.Bytes(), 30))
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	return lines[len(lines)-1], nil
}

// repoRoot walks up from the working directory (a test's package directory)
// to the module root that holds hack/tools/install.sh.
func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if fileExists(filepath.Join(dir, "go.mod")) && fileExists(filepath.Join(dir, "hack", "tools", "install.sh")) {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("no go.mod with hack/tools/install.sh above %s; set %s", wd, EnvToolsBin)
		}
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// tail returns the last n lines of b, for error messages.
func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
