//go:build linux

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// EnvInNetns is set in the test binary that runs in the stack's private
// network namespace.
const EnvInNetns = "SYNCREPORT_E2E_NETNS"

// InPrivateNetns reports whether this process is the re-executed test binary.
func InPrivateNetns() bool { return os.Getenv(EnvInNetns) == "1" }

// unshareArgs are unshare(1)'s arguments for a private network namespace.
func unshareArgs() []string {
	args := []string{"--net"}
	if os.Geteuid() != 0 {
		args = append(args, "--map-root-user")
	}
	return args
}

// CheckPrivateNetns tells whether this process may make a private network
// namespace (root, or unprivileged user namespaces), by trying.
func CheckPrivateNetns() error {
	out, err := exec.Command("unshare", append(unshareArgs(), "true")...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("cannot make a private network namespace (unshare %s): %w: %s",
			strings.Join(unshareArgs(), " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// ReexecInPrivateNetns replaces this process with itself, run by unshare(1)
// in a new network namespace (and, when not root, a user namespace mapping
// the caller to root). Every port of the stack is then private: the
// application controller's metrics listener binds 0.0.0.0 with no flag to
// change it, fixed ports cannot collide with anything else on the machine,
// and nothing in the stack can reach out. env is added to the environment.
// It returns only on error.
func ReexecInPrivateNetns(env []string) error {
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		return fmt.Errorf("unshare(1) (util-linux) is needed for the private network namespace: %w", err)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	argv := append([]string{unshare}, unshareArgs()...)
	argv = append(argv, "--", self)
	argv = append(argv, os.Args[1:]...)
	return syscall.Exec(unshare, argv, append(append(os.Environ(), EnvInNetns+"=1"), env...))
}

// LoopbackUp brings up lo, which a new network namespace has down.
func LoopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("get lo flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring lo up: %w", err)
	}
	return nil
}

// rssOfGroup sums VmRSS over the processes of process group pgid.
func rssOfGroup(pgid int) int64 {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	var total int64
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if g, err := unix.Getpgid(pid); err != nil || g != pgid {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "status"))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				total += kb * 1024
			}
		}
	}
	return total
}
