//go:build linux

// Package tools tests install.sh, which finds or builds the test cluster's
// binaries. The tests use fake binaries and an empty cache: a case that must
// not build fails as soon as the script starts a build, and a case that must
// build passes as soon as it does (the build is then stopped).
package tools

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeTools writes executables that print what the real ones print for
// --version, and returns their directory.
func fakeTools(t *testing.T, etcdVersion, kubeVersion string) string {
	t.Helper()
	dir := t.TempDir()
	scripts := map[string]string{
		"etcd":           "etcd Version: " + etcdVersion + "\nGit SHA: fake\nGo Version: go1.26\nGo OS/Arch: linux/amd64",
		"kube-apiserver": "Kubernetes " + kubeVersion,
		"kubectl":        "Client Version: " + kubeVersion,
	}
	for name, out := range scripts {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\ncat <<'EOF'\n"+out+"\nEOF\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type result struct {
	bin     string // the directory install.sh printed
	stderr  string
	err     error
	started string // the "building …" line, when the script began a build
}

// install runs install.sh with an empty cache and a fake Argo CD CRD
// directory, and stops it at its first "building" line.
func install(t *testing.T, env []string, args ...string) result {
	t.Helper()
	crds := t.TempDir()
	if err := os.WriteFile(filepath.Join(crds, "application-crd.yaml"), []byte("kind: CustomResourceDefinition\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", append([]string{"install.sh"}, args...)...)
	cmd.Env = append(os.Environ(), "SYNCREPORT_TOOLS="+t.TempDir(), "SYNCREPORT_ARGOCD_CRDS="+crds, "KUBEBUILDER_ASSETS=")
	cmd.Env = append(cmd.Env, env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// go build runs compilers as grandchildren: stop the whole group.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout strings.Builder
	cmd.Stdout = &stdout
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var r result
	var stderr strings.Builder
	sc := bufio.NewScanner(pipe)
	for sc.Scan() {
		stderr.WriteString(sc.Text() + "\n")
		if strings.HasPrefix(sc.Text(), "building ") && r.started == "" {
			r.started = sc.Text()
			cancel()
		}
	}
	r.err = cmd.Wait()
	r.stderr = stderr.String()
	if lines := strings.Split(strings.TrimSpace(stdout.String()), "\n"); len(lines) > 0 {
		r.bin = lines[len(lines)-1]
	}
	if ctx.Err() != nil && r.started == "" {
		t.Fatalf("install.sh did not finish in time: %v\n%s", ctx.Err(), r.stderr)
	}
	return r
}

// resolve returns the file a link in the printed directory ends at.
func resolve(t *testing.T, bin, name string) string {
	t.Helper()
	p, err := filepath.EvalSymlinks(filepath.Join(bin, name))
	if err != nil {
		t.Fatalf("%s in %s: %v", name, bin, err)
	}
	return p
}

func same(t *testing.T, got, want string) bool {
	t.Helper()
	w, err := filepath.EvalSymlinks(want)
	if err != nil {
		t.Fatal(err)
	}
	return got == w
}

// TestInstallUsesKubebuilderAssets: with setup-envtest's directory the
// script builds neither etcd nor kube-apiserver (the ~17 min of a first
// `make demo`), and links them where the tests look.
func TestInstallUsesKubebuilderAssets(t *testing.T) {
	assets := fakeTools(t, "3.5.21", "v1.31.0")
	r := install(t, []string{"KUBEBUILDER_ASSETS=" + assets}, "--cluster")
	if r.started != "" {
		t.Fatalf("install.sh started a build although KUBEBUILDER_ASSETS holds etcd 3.5 and kube-apiserver: %q\n%s", r.started, r.stderr)
	}
	if r.err != nil {
		t.Fatalf("install.sh: %v\n%s", r.err, r.stderr)
	}
	for _, name := range []string{"etcd", "kube-apiserver"} {
		if got := resolve(t, r.bin, name); !same(t, got, filepath.Join(assets, name)) {
			t.Errorf("%s -> %s, want the one in KUBEBUILDER_ASSETS", name, got)
		}
	}
	if !strings.Contains(r.stderr, "proven on") {
		t.Errorf("no note that v1.31.0 is not the tested kube-apiserver:\n%s", r.stderr)
	}
	crds, err := os.ReadFile(filepath.Join(filepath.Dir(r.bin), "argocd-crds"))
	if err != nil || strings.TrimSpace(string(crds)) == "" {
		t.Errorf("no argocd-crds next to %s (testcluster reads it there): %v", r.bin, err)
	}
}

// TestInstallUsesPath: etcd 3.5+ and kube-apiserver on PATH are used too.
func TestInstallUsesPath(t *testing.T) {
	dir := fakeTools(t, "3.6.0", "v1.37.2")
	r := install(t, []string{"PATH=" + dir + ":" + os.Getenv("PATH")}, "--cluster")
	if r.started != "" || r.err != nil {
		t.Fatalf("install.sh built or failed with etcd 3.6 and kube-apiserver on PATH: %q %v\n%s", r.started, r.err, r.stderr)
	}
	if got := resolve(t, r.bin, "etcd"); !same(t, got, filepath.Join(dir, "etcd")) {
		t.Errorf("etcd -> %s, want the one on PATH", got)
	}
}

// TestInstallRejectsOldEtcd: etcd 3.4 (Debian's) makes kube-apiserver turn
// off RequestWatchProgress; an explicit KUBEBUILDER_ASSETS with it is an
// error that says so, and one on PATH is passed over for a build.
func TestInstallRejectsOldEtcd(t *testing.T) {
	old := fakeTools(t, "3.4.30", "v1.37.2")
	t.Run("KUBEBUILDER_ASSETS", func(t *testing.T) {
		r := install(t, []string{"KUBEBUILDER_ASSETS=" + old}, "--cluster")
		if r.started != "" {
			t.Fatalf("install.sh built instead of rejecting KUBEBUILDER_ASSETS: %q", r.started)
		}
		if r.err == nil || !strings.Contains(r.stderr, "etcd 3.4.30 is too old") {
			t.Fatalf("err = %v, want a message that etcd 3.4.30 is too old:\n%s", r.err, r.stderr)
		}
	})
	t.Run("PATH", func(t *testing.T) {
		r := install(t, []string{"PATH=" + old + ":" + os.Getenv("PATH")}, "--cluster")
		if !strings.HasPrefix(r.started, "building etcd") {
			t.Fatalf("install.sh did not build etcd with etcd 3.4 on PATH (err %v):\n%s", r.err, r.stderr)
		}
	})
}

// TestInstallBuildIgnoresAssets: --build (test/e2e, whose controller
// manager and scheduler must match kube-apiserver) builds the pinned ones.
func TestInstallBuildIgnoresAssets(t *testing.T) {
	r := install(t, []string{"KUBEBUILDER_ASSETS=" + fakeTools(t, "3.5.21", "v1.31.0")}, "--build")
	if !strings.HasPrefix(r.started, "building etcd") {
		t.Fatalf("install.sh --build did not build etcd (err %v):\n%s", r.err, r.stderr)
	}
}
