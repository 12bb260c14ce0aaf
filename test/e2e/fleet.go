//go:build linux

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// Ports of the ApplicationSet controller (started on first use).
const (
	appSetMetricsPort = 8090
	appSetProbePort   = 8091
	appSetWebhookPort = 8092
)

// StartApplicationSets installs the ApplicationSet CRD and starts Argo CD's
// real ApplicationSet controller (the argocd multi-call binary linked as
// argocd-applicationset-controller by hack/tools/install-e2e.sh) on first use; later calls return the
// first one's error. Only the fleet scenario needs it, so the other
// scenarios run without it.
func (s *Stack) StartApplicationSets(ctx context.Context) error {
	s.appSetOnce.Do(func() { s.appSetErr = s.startApplicationSets(ctx) })
	return s.appSetErr
}

func (s *Stack) startApplicationSets(ctx context.Context) error {
	b, err := os.ReadFile(filepath.Join(s.Tools.ArgoModule, "manifests", "crds", "applicationset-crd.yaml"))
	if err != nil {
		return err
	}
	if err := Apply(ctx, s.Dynamic, s.Mapper, "", b); err != nil {
		return err
	}
	if err := s.waitCRDs(ctx, "applicationsets.argoproj.io"); err != nil {
		return err
	}
	p, err := s.startProc("argocd-applicationset-controller", s.bin("argocd-applicationset-controller"), []string{
		"--namespace=" + ArgoNamespace,
		"--argocd-repo-server=127.0.0.1:" + strconv.Itoa(repoServerPort), "--repo-server-plaintext",
		"--metrics-addr=127.0.0.1:" + strconv.Itoa(appSetMetricsPort),
		"--probe-addr=127.0.0.1:" + strconv.Itoa(appSetProbePort),
		"--webhook-addr=127.0.0.1:" + strconv.Itoa(appSetWebhookPort),
		"--loglevel=info", "--logformat=text",
	}, []string{
		"KUBECONFIG=" + s.Kubeconfig,
		"ARGOCD_FAKE_IN_CLUSTER=true",
		"PATH=" + s.Tools.Bin + ":" + os.Getenv("PATH"),
	})
	if err != nil {
		return err
	}
	return p.WaitReady(ctx, func(ctx context.Context) error { return dialOK(ctx, appSetProbePort) })
}

// Tag tags the head of repository name (see Commit) and pushes the tag.
func (g *Git) Tag(ctx context.Context, name, tag string) error {
	work := filepath.Join(g.Dir, "work", name)
	for _, args := range [][]string{{"tag", "-f", tag}, {"push", "-q", "-f", "origin", "refs/tags/" + tag}} {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+g.Dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("git %s: %w\n%s", strings.Join(args, " "), err, out)
		}
	}
	return nil
}
