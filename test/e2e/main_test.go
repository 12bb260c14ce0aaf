//go:build linux

package e2e_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/syncreport/syncreport/test/e2e"
)

// stack is started once per run (it takes seconds) and shared by the
// scenarios, each with Applications and namespaces of its own.
var stack *e2e.Stack

// envWork is the directory the outer process made for the hook binary; the
// inner one removes it.
const envWork = "SYNCREPORT_E2E_WORK"

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	if !e2e.InPrivateNetns() {
		// Outside: build what is missing (needs the Go module proxy), then
		// become the same test binary in a private network namespace.
		ctx, cancel := context.WithTimeout(context.Background(), 45*time.Minute)
		defer cancel()
		work, err := os.MkdirTemp("", "syncreport-e2e-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		tools, err := e2e.FindTools(ctx, work)
		if errors.Is(err, e2e.ErrToolsUnavailable) {
			fmt.Fprintln(os.Stderr, "SKIP e2e tests:", err)
			os.RemoveAll(work)
			return 0
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.RemoveAll(work)
			return 1
		}
		err = e2e.ReexecInPrivateNetns([]string{
			e2e.EnvToolsBin + "=" + tools.Bin, e2e.EnvHookBin + "=" + tools.Hook, envWork + "=" + work,
		})
		fmt.Fprintln(os.Stderr, err) // only on failure
		os.RemoveAll(work)
		return 1
	}

	if w := os.Getenv(envWork); w != "" && os.Getenv(e2e.EnvKeep) == "" {
		defer os.RemoveAll(w)
	}
	if err := e2e.LoopbackUp(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	tools, err := e2e.FindTools(ctx, "")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dir, err := os.MkdirTemp("", "syncreport-e2e-stack-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	t0 := time.Now()
	s, err := e2e.Start(ctx, dir, tools)
	if err != nil {
		fmt.Fprintln(os.Stderr, "start the e2e stack:", err)
		if os.Getenv(e2e.EnvKeep) == "" {
			os.RemoveAll(dir)
		}
		return 1
	}
	stack = s
	defer s.Stop()
	var steps []string
	for _, t := range s.Timings {
		steps = append(steps, fmt.Sprintf("%s %.1fs", t.Step, t.Took.Seconds()))
	}
	fmt.Fprintf(os.Stderr, "e2e stack up in %.1fs (%s); dir %s\n", time.Since(t0).Seconds(), strings.Join(steps, ", "), dir)
	code := m.Run()
	if path, err := finishCompare(); err != nil {
		fmt.Fprintln(os.Stderr, "comparison with Argo CD Notifications:", err)
		code = 1
	} else if path != "" {
		fmt.Fprintln(os.Stderr, "comparison with Argo CD Notifications written to", path)
	}
	total, each := s.Memory()
	fmt.Fprintf(os.Stderr, "e2e stack memory at the end: %d MiB (%s)\n", total>>20, strings.Join(each, ", "))
	s.WaitHooks()
	return code
}
