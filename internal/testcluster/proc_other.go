//go:build unix && !linux

package testcluster

import "syscall"

// sysProcAttr puts a child in its own process group, so Stop can kill it with
// everything it spawned. Without Linux's Pdeathsig, a test binary killed
// before Stop leaves its etcd and kube-apiserver running.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
