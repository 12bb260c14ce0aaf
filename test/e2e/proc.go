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
	"syscall"
	"time"
)

// Process is a child of the stack whose output goes to a log file in the
// stack's directory. It runs in a process group of its own, so Stop kills it
// with whatever it spawned (the repo server's git processes), and the kernel
// kills it when the test binary dies without calling Stop.
type Process struct {
	Name string
	Log  string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// StartProcess runs bin with args and env (added to a minimal environment) in
// dir, logging to dir/logs/name.log.
func StartProcess(dir, name, bin string, args, env []string) (*Process, error) {
	p := &Process{Name: name, Log: filepath.Join(dir, "logs", name+".log"), done: make(chan struct{})}
	if err := os.MkdirAll(filepath.Dir(p.Log), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer f.Close() // the child has its own copy
	fmt.Fprintf(f, "### %s %q\n", bin, args)
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = dir
	p.cmd.Env = append(baseEnv(dir), env...)
	p.cmd.Stdout, p.cmd.Stderr = f, f
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// baseEnv is what every child gets: no proxy settings or kubeconfig of the
// developer's, a HOME and TMPDIR inside the stack.
func baseEnv(dir string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + filepath.Join(dir, "home"),
		"TMPDIR=" + filepath.Join(dir, "tmp"),
		"LANG=C.UTF-8",
	}
}

// PID is the process id (and process group id).
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Exited reports whether the process has ended and why.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// Kill SIGKILLs the process group by its id and waits for the process.
func (p *Process) Kill() {
	if p == nil || p.cmd == nil || p.cmd.Process == nil {
		return
	}
	if done, _ := p.Exited(); !done {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	}
	<-p.done
}

// Tail returns the last lines of the log, for error messages.
func (p *Process) Tail(lines int) string {
	b, err := os.ReadFile(p.Log)
	if err != nil {
		return fmt.Sprintf("(no %s log: %v)", p.Name, err)
	}
	return fmt.Sprintf("--- end of %s ---\n%s", p.Log, tail(b, lines))
}

func tail(b []byte, lines int) string {
	b = bytes.TrimRight(b, "\n")
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '\n' {
			lines--
			if lines == 0 {
				return string(b[i+1:])
			}
		}
	}
	return string(b)
}

// RSS returns the resident memory of the process group's processes that are
// direct children of this one (and itself), in bytes, from /proc.
func (p *Process) RSS() int64 {
	if done, _ := p.Exited(); done {
		return 0
	}
	return rssOfGroup(p.cmd.Process.Pid)
}

// WaitReady polls ready every 100ms until it succeeds, the process exits or
// ctx ends.
func (p *Process) WaitReady(ctx context.Context, ready func(context.Context) error) error {
	var last error
	for {
		if done, err := p.Exited(); done {
			return fmt.Errorf("%s exited during start (%v)\n%s", p.Name, err, p.Tail(40))
		}
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		last = ready(pctx)
		cancel()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s: %w (last: %w)\n%s", p.Name, ctx.Err(), last, p.Tail(40))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// errNotReady is what a readiness probe returns while it waits.
var errNotReady = errors.New("not ready")
