//go:build linux

package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// gitPort is git daemon's port inside the private network namespace.
const gitPort = 9418

// Git serves bare repositories under Dir with git daemon, read-only, as
// git://127.0.0.1:9418/<name>.git.
type Git struct {
	Dir    string
	daemon *Process
}

func startGit(ctx context.Context, stackDir string) (*Git, error) {
	g := &Git{Dir: filepath.Join(stackDir, "git")}
	if err := os.MkdirAll(g.Dir, 0o755); err != nil {
		return nil, err
	}
	git, err := exec.LookPath("git")
	if err != nil {
		return nil, err
	}
	g.daemon, err = StartProcess(stackDir, "git-daemon", git, []string{
		"daemon", "--reuseaddr", "--export-all", "--informative-errors",
		"--listen=127.0.0.1", fmt.Sprintf("--port=%d", gitPort),
		"--base-path=" + g.Dir, g.Dir,
	}, nil)
	if err != nil {
		return nil, err
	}
	return g, g.daemon.WaitReady(ctx, func(ctx context.Context) error { return dialOK(ctx, gitPort) })
}

// URL is the repository's clone URL.
func (g *Git) URL(name string) string {
	return fmt.Sprintf("git://127.0.0.1:%d/%s.git", gitPort, name)
}

// Commit replaces the content of repository name (created on first use)
// with files (path → content) in one commit by Dev <dev@example.com> and
// returns its SHA.
func (g *Git) Commit(ctx context.Context, name, message string, files map[string]string) (string, error) {
	return g.CommitAs(ctx, Author{"Dev", "dev@example.com"}, name, message, files)
}

// Author is a commit's author (and committer).
type Author struct{ Name, Email string }

// CommitAs is Commit by author.
func (g *Git) CommitAs(ctx context.Context, author Author, name, message string, files map[string]string) (string, error) {
	work := filepath.Join(g.Dir, "work", name)
	bare := filepath.Join(g.Dir, name+".git")
	run := func(dir string, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(),
			"GIT_AUTHOR_NAME="+author.Name, "GIT_AUTHOR_EMAIL="+author.Email,
			"GIT_COMMITTER_NAME="+author.Name, "GIT_COMMITTER_EMAIL="+author.Email,
			"GIT_CONFIG_NOSYSTEM=1", "HOME="+g.Dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("git %s: %w\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out)), nil
	}
	if _, err := os.Stat(bare); os.IsNotExist(err) {
		if _, err := run(g.Dir, "init", "--bare", "--initial-branch=main", bare); err != nil {
			return "", err
		}
		if _, err := run(g.Dir, "init", "--initial-branch=main", work); err != nil {
			return "", err
		}
		if _, err := run(work, "remote", "add", "origin", bare); err != nil {
			return "", err
		}
	}
	ents, err := os.ReadDir(work)
	if err != nil {
		return "", err
	}
	for _, e := range ents {
		if e.Name() != ".git" {
			if err := os.RemoveAll(filepath.Join(work, e.Name())); err != nil {
				return "", err
			}
		}
	}
	for p, content := range files {
		f := filepath.Join(work, p)
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
			return "", err
		}
	}
	if _, err := run(work, "add", "-A"); err != nil {
		return "", err
	}
	if _, err := run(work, "commit", "-q", "--allow-empty", "-m", message); err != nil {
		return "", err
	}
	if _, err := run(work, "push", "-q", "origin", "main"); err != nil {
		return "", err
	}
	return run(work, "rev-parse", "HEAD")
}

func dialOK(ctx context.Context, port int) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return err
	}
	return c.Close()
}
