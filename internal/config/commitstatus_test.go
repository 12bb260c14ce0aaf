package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/syncreport/syncreport/internal/notify"
)

func TestForgeHosts(t *testing.T) {
	c := Config{CommitStatusGitHubHosts: "github.com, GHE.example.com ,ghe2.example.com=https://ghe2.example.com/api/v3/",
		CommitStatusGitLabHosts: "gitlab.com,gitlab.example.com:8443=http://127.0.0.1:9999/api/v4"}
	got, err := c.ForgeHosts()
	if err != nil {
		t.Fatal(err)
	}
	want := []notify.ForgeHost{
		{Host: "github.com", Provider: notify.GitHub, APIURL: "https://api.github.com"},
		{Host: "ghe.example.com", Provider: notify.GitHub, APIURL: "https://ghe.example.com/api/v3"},
		{Host: "ghe2.example.com", Provider: notify.GitHub, APIURL: "https://ghe2.example.com/api/v3"},
		{Host: "gitlab.com", Provider: notify.GitLab, APIURL: "https://gitlab.com/api/v4"},
		{Host: "gitlab.example.com:8443", Provider: notify.GitLab, APIURL: "http://127.0.0.1:9999/api/v4"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestCommitStatusErrors(t *testing.T) {
	const canary = "ghp_CANARY123"
	for _, tc := range []struct {
		name string
		c    Config
		want string
	}{
		{"host in both lists", Config{CommitStatusGitHubHosts: "git.example.com", CommitStatusGitLabHosts: "git.example.com"}, "COMMIT_STATUS_GITLAB_HOSTS: host git.example.com is also in COMMIT_STATUS_GITHUB_HOSTS"},
		{"scheme in the host", Config{CommitStatusGitHubHosts: "https://github.com"}, "COMMIT_STATUS_GITHUB_HOSTS"},
		{"plain http API", Config{CommitStatusGitLabHosts: "gitlab.example.com=http://gitlab.example.com/api/v4"}, "plain http would send the token in clear"},
		{"token in the API URL", Config{CommitStatusGitLabHosts: "gitlab.example.com=https://u:" + canary + "@gitlab.example.com/api/v4"}, "without user info"},
		{"token with a newline", Config{CommitStatusGitHubToken: canary + "\n"}, "COMMIT_STATUS_GITHUB_TOKEN: contains whitespace"},
		{"deployments without a token", Config{CommitStatusGitHubDeploy: true}, "COMMIT_STATUS_GITHUB_DEPLOYMENTS needs COMMIT_STATUS_GITHUB_TOKEN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.c.validateCommitStatusValues()
			if err == nil {
				err = tc.c.validateCommitStatusCombination()
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), canary) {
				t.Errorf("the token leaked: %v", err)
			}
		})
	}
}

func TestCommitStatusTokenFile(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "token")
	if err := os.WriteFile(f, []byte("glpat-fromfile\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("COMMIT_STATUS_GITLAB_TOKEN_FILE", f)
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.CommitStatusGitLabToken != "glpat-fromfile" || c.ForgeTokens()[notify.GitLab] != "glpat-fromfile" {
		t.Errorf("token %q", c.CommitStatusGitLabToken)
	}
	if d := strings.Join(c.Destinations(), ","); d != "commit-status" {
		t.Errorf("destinations %s", d)
	}
	t.Setenv("COMMIT_STATUS_GITLAB_TOKEN", "glpat-both")
	if _, err := Load(); err == nil || !strings.Contains(err.Error(), "COMMIT_STATUS_GITLAB_TOKEN and COMMIT_STATUS_GITLAB_TOKEN_FILE are both set") {
		t.Errorf("both set: %v", err)
	}
}
