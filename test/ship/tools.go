// Package ship renders what the project ships to a cluster, the Helm chart
// (helm/syncreport, examples/parent-chart) and the kustomize hooks
// (manifests/hooks, with the Components of manifests/components), with the
// real helm and kustomize, and applies the result to a cluster with
// server-side dry-run. For a cluster without Argo CD or controllers it makes
// what they would: the hook Job as Argo CD creates it (HookJob), its Pod
// (PodForJob), a Job from a CronJob (JobFromCronJob), and the environment
// and Secret files the kubelet would give the container (ContainerEnv,
// MountedSecretFile). Its tests (package ship_test) check the chart, the
// manifests and the Dockerfile, and run the built hook as each rendering's
// Pod against a real API server; an end-to-end test elsewhere can reuse the
// helpers to run the hook with exactly the shipped settings.
//
// Tools (FindTools): helm comes from EnvToolsBin, or else
// hack/tools/install.sh (built from the Go module proxy once, then cached).
// kustomize is, in order: kustomize or `kubectl kustomize` from that
// directory, then the same from PATH. A missing tool is ErrToolMissing,
// which callers may skip on, except under CI=true, where it is never
// returned: CI fails instead.
package ship

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

// EnvToolsBin names a directory with helm (and optionally kustomize); when it
// is set, hack/tools/install.sh is never run. The same variable tells
// internal/testcluster where etcd and kube-apiserver are.
const EnvToolsBin = "SYNCREPORT_TOOLS_BIN"

// ErrToolMissing is wrapped by errors about a tool that cannot be found or
// built, so a developer without it may skip. Under CI=true it is never
// wrapped.
var ErrToolMissing = errors.New("tool unavailable")

func missing(err error) error {
	if os.Getenv("CI") == "true" {
		return fmt.Errorf("%w (CI=true: not skippable)", err)
	}
	return fmt.Errorf("%w: %w", ErrToolMissing, err)
}

// RepoRoot returns the module root: the nearest directory above the working
// directory that holds go.mod and helm/syncreport.
func RepoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if isFile(filepath.Join(dir, "go.mod")) && isFile(filepath.Join(dir, "helm", "syncreport", "Chart.yaml")) {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("no go.mod with helm/syncreport above %s", wd)
		}
	}
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir()
}

// lookPath finds name in dir, or on PATH when dir is "".
func lookPath(dir, name string) string {
	if dir == "" {
		p, _ := exec.LookPath(name)
		return p
	}
	if p := filepath.Join(dir, name); isExecutable(p) {
		return p
	}
	return ""
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode().Perm()&0o111 != 0
}

// Tools are the binaries that render the shipped manifests.
type Tools struct {
	// Helm is the path of the helm binary.
	Helm string
	// Kustomize runs kustomize's build when the directory is appended, e.g.
	// ["/usr/bin/kubectl", "kustomize"].
	Kustomize []string
}

// FindTools locates helm and kustomize. Without EnvToolsBin it runs
// hack/tools/install.sh, which builds what is missing (minutes the first
// time) and is quick once its cache is warm; call it once per test binary.
func FindTools(ctx context.Context) (*Tools, error) {
	bin := os.Getenv(EnvToolsBin)
	if bin == "" {
		var err error
		if bin, err = runInstall(ctx); err != nil {
			return nil, missing(err)
		}
	}
	t := &Tools{Helm: filepath.Join(bin, "helm")}
	if !isExecutable(t.Helm) {
		return nil, missing(fmt.Errorf("no helm in %s (hack/tools/install.sh builds it)", bin))
	}
	// kustomize's own binary, else kubectl's embedded one; install.sh's
	// first, so every machine renders with the same pinned version.
	for _, dir := range []string{bin, ""} {
		if k := lookPath(dir, "kustomize"); k != "" {
			t.Kustomize = []string{k, "build"}
			break
		}
		if k := lookPath(dir, "kubectl"); k != "" {
			t.Kustomize = []string{k, "kustomize"}
			break
		}
	}
	if t.Kustomize == nil {
		return nil, missing(fmt.Errorf("no kustomize or kubectl in %s or on PATH (hack/tools/install.sh builds kubectl)", bin))
	}
	return t, nil
}

// run runs name with args in dir and returns stdout; the error carries
// stderr.
func run(ctx context.Context, dir string, argv []string, env ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), &CommandError{Args: argv, Err: err, Stderr: stderr.String()}
	}
	return stdout.Bytes(), nil
}

// CommandError is a tool that exited with an error; Stderr is what it said.
type CommandError struct {
	Args   []string
	Err    error
	Stderr string
}

func (e *CommandError) Error() string {
	return fmt.Sprintf("%s: %v\n%s", strings.Join(e.Args, " "), e.Err, strings.TrimSpace(e.Stderr))
}

func (e *CommandError) Unwrap() error { return e.Err }

// runInstall runs hack/tools/install.sh and returns the bin directory it
// prints. The script serialises concurrent runs itself (flock on its cache),
// so test packages running in parallel never build into the same file; no
// lock is taken here, or the script would wait for it forever.
func runInstall(ctx context.Context) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	script := filepath.Join(root, "hack", "tools", "install.sh")
	cmd := exec.CommandContext(ctx, "bash", script)
	cmd.Dir = root
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// go build runs compilers as grandchildren: cancel the whole group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %w\n%s", script, err, lastLines(stderr.String(), 30))
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	return lines[len(lines)-1], nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
