package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/syncreport/syncreport/internal/notify"
	"github.com/syncreport/syncreport/internal/redact"
	"github.com/syncreport/syncreport/internal/safehttp"
)

// commitStatus reports whether commit statuses are on: a token of either provider.
func (c *Config) commitStatus() bool {
	return c.CommitStatusGitHubToken != "" || c.CommitStatusGitLabToken != ""
}

// validateCommitStatusValues checks the tokens (never quoted) and the host lists.
func (c *Config) validateCommitStatusValues() error {
	for _, t := range []struct{ name, v string }{
		{"COMMIT_STATUS_GITHUB_TOKEN", c.CommitStatusGitHubToken},
		{"COMMIT_STATUS_GITLAB_TOKEN", c.CommitStatusGitLabToken},
	} {
		if strings.ContainsAny(t.v, " \t\r\n") {
			return fmt.Errorf("%s: contains whitespace (value not shown: it is a secret)", t.name)
		}
	}
	_, err := c.ForgeHosts()
	return err
}

// validateCommitStatusCombination checks what needs several variables.
func (c *Config) validateCommitStatusCombination() error {
	if c.CommitStatusGitHubDeploy && c.CommitStatusGitHubToken == "" {
		return errors.New("COMMIT_STATUS_GITHUB_DEPLOYMENTS needs COMMIT_STATUS_GITHUB_TOKEN or COMMIT_STATUS_GITHUB_TOKEN_FILE")
	}
	return nil
}

// ForgeHosts parses COMMIT_STATUS_GITHUB_HOSTS and COMMIT_STATUS_GITLAB_HOSTS:
// "host" or "host=https://api.base", comma-separated. A host may be in one
// list only.
func (c *Config) ForgeHosts() ([]notify.ForgeHost, error) {
	var out []notify.ForgeHost
	seen := map[string]string{}
	for _, l := range []struct {
		name, v string
		p       notify.Provider
	}{
		{"COMMIT_STATUS_GITHUB_HOSTS", c.CommitStatusGitHubHosts, notify.GitHub},
		{"COMMIT_STATUS_GITLAB_HOSTS", c.CommitStatusGitLabHosts, notify.GitLab},
	} {
		for _, e := range strings.Split(l.v, ",") {
			if e = strings.TrimSpace(e); e == "" {
				continue
			}
			host, api, hasAPI := strings.Cut(e, "=")
			host = strings.ToLower(strings.TrimSpace(host))
			if host == "" || strings.ContainsAny(host, " \t\r\n/@?#=") {
				return nil, fmt.Errorf("%s: %q: want host[:port] or host=API base URL (the host as repoURLs spell it, without scheme)", l.name, redact.URL("https://"+e))
			}
			if other, dup := seen[host]; dup {
				return nil, fmt.Errorf("%s: host %s is also in %s", l.name, host, other)
			}
			seen[host] = l.name
			api = strings.TrimSpace(api)
			if !hasAPI {
				api = notify.ForgeAPIURL(l.p, host)
			}
			u, err := url.Parse(api)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
				return nil, fmt.Errorf("%s: the API URL of %s, %q, is not an http(s) URL without user info or query", l.name, host, redact.URL(api))
			}
			if !safehttp.PlainHTTPAllowed(u) {
				return nil, fmt.Errorf("%s: the API URL of %s, %q: plain http would send the token in clear; use https (http only to a loopback address)", l.name, host, redact.URL(api))
			}
			out = append(out, notify.ForgeHost{Host: host, Provider: l.p, APIURL: strings.TrimRight(api, "/")})
		}
	}
	return out, nil
}

// ForgeTokens are the commit status tokens by provider (only those set).
func (c *Config) ForgeTokens() map[notify.Provider]string {
	t := map[notify.Provider]string{}
	if c.CommitStatusGitHubToken != "" {
		t[notify.GitHub] = c.CommitStatusGitHubToken
	}
	if c.CommitStatusGitLabToken != "" {
		t[notify.GitLab] = c.CommitStatusGitLabToken
	}
	return t
}
