package testcluster

import "syscall"

// sysProcAttr puts a child in its own process group, so Stop can kill it with
// everything it spawned, and has the kernel SIGKILL it when the test binary
// dies without running Stop (a panic, os.Exit, go test's timeout).
// Pdeathsig fires when the thread that forked exits; Go only ends a thread
// when a goroutine locked to it returns, and Start never locks one.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
