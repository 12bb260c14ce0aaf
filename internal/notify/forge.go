package notify

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Provider is a Git forge API that takes commit statuses.
type Provider string

// The providers syncreport sets commit statuses on.
const (
	GitHub Provider = "github"
	GitLab Provider = "gitlab"
)

// Description limits, in characters (Unicode code points, as the providers
// count them, not bytes). GitHub rejects a longer description with 422
// "description is too long (maximum is 140 characters)"
// (https://docs.github.com/rest/commits/statuses). GitLab documents no
// limit for the description but keeps its statuses' name and target URL
// to 255 characters; syncreport keeps every GitLab field within 255.
const (
	GitHubDescriptionMax = 140
	GitLabFieldMax       = 255
	// contextMax bounds the status context / name on both providers.
	contextMax = 255
)

// ForgeHost maps the host of repository URLs to a provider's API.
type ForgeHost struct {
	// Host is the host of repository URLs, lower case, with a port when
	// the URLs carry one ("github.com", "gitlab.example.com:8443").
	Host     string
	Provider Provider
	// APIURL is the REST base: https://api.github.com,
	// https://ghe.example.com/api/v3, https://gitlab.com/api/v4.
	APIURL string
}

// ForgeAPIURL is the API base of a host when the configuration names
// none: api.github.com for github.com, /api/v3 on a GitHub Enterprise
// Server host, /api/v4 on a GitLab host.
func ForgeAPIURL(p Provider, host string) string {
	switch {
	case p == GitHub && host == "github.com":
		return "https://api.github.com"
	case p == GitHub:
		return "https://" + host + "/api/v3"
	}
	return "https://" + host + "/api/v4"
}

// Repo is a repository on a forge: its host and path ("acme/web",
// "group/subgroup/web" on GitLab), without ".git".
type Repo struct {
	Host string
	Path string
}

// String is host/path.
func (r Repo) String() string { return r.Host + "/" + r.Path }

// ParseRepoURL reads the forms of repoURL Argo CD accepts for Git:
// https://host/acme/web.git, ssh://git@host:2222/acme/web.git,
// git://host/acme/web and the scp-like git@host:acme/web.git. The host is
// lower-cased and keeps a port if the URL has one.
func ParseRepoURL(raw string) (Repo, error) {
	s := strings.TrimSpace(raw)
	var host, path string
	if i := strings.Index(s, "://"); i >= 0 {
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			return Repo{}, errors.New("not a URL with a host")
		}
		switch u.Scheme {
		case "https", "http", "ssh", "git", "git+ssh", "ssh+git":
		default:
			return Repo{}, fmt.Errorf("scheme %q is not a Git one", u.Scheme)
		}
		host, path = u.Host, u.Path
	} else {
		// scp-like: [user@]host:path, no scheme; a "/" before the ":" would
		// make it a local path.
		at := strings.LastIndex(s, "@")
		rest := s[at+1:]
		h, p, ok := strings.Cut(rest, ":")
		if !ok || h == "" || strings.Contains(h, "/") {
			return Repo{}, errors.New("neither a URL nor user@host:path")
		}
		host, path = h, p
	}
	path = strings.TrimSuffix(strings.Trim(path, "/"), ".git")
	if path == "" {
		return Repo{}, errors.New("no repository path")
	}
	// The path goes into API URLs: only the characters GitHub and GitLab
	// allow in owner, group and repository names, so nothing from the
	// cluster can add a query, a fragment or a "..".
	for _, seg := range strings.Split(path, "/") {
		if !nameSegment(seg) {
			return Repo{}, errors.New("the repository path has a character no GitHub or GitLab name has")
		}
	}
	if strings.ContainsAny(host, "/?#@ \t\r\n") {
		return Repo{}, errors.New("bad host")
	}
	return Repo{Host: strings.ToLower(host), Path: path}, nil
}

func nameSegment(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > 255 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// RepoForLog shows a repoURL without what could be a credential (user info
// in an https URL): host/path when it parses, else scheme and host.
func RepoForLog(raw string) string {
	if r, err := ParseRepoURL(raw); err == nil {
		return r.String()
	}
	return RedactWebhookURL(raw)
}

// hostOf finds the forge for a repository host: host:port first, then
// the host without the port (an ssh:// URL carries the SSH port, not the
// API's).
func hostOf(hosts []ForgeHost, repoHost string) (ForgeHost, bool) {
	for _, h := range hosts {
		if h.Host == repoHost {
			return h, true
		}
	}
	bare := repoHost
	if i := strings.LastIndex(repoHost, ":"); i >= 0 && !strings.HasSuffix(repoHost, "]") {
		bare = repoHost[:i]
	}
	for _, h := range hosts {
		if h.Host == bare {
			return h, true
		}
	}
	return ForgeHost{}, false
}

// IsCommitSHA reports whether rev names one commit: 40 (SHA-1) or 64
// (SHA-256) hex digits. A branch, tag or HEAD may have moved since the
// sync, and a status set on it could land on the wrong commit.
func IsCommitSHA(rev string) bool {
	if len(rev) != 40 && len(rev) != 64 {
		return false
	}
	for _, c := range rev {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// StatusText makes text from the cluster fit a provider field: one line of
// printable characters (invalid UTF-8 becomes U+FFFD; control, line
// separator and bidirectional formatting characters become spaces; runs
// of spaces fold into one), cut to at most max characters with "…".
func StatusText(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(c rune) rune {
		switch {
		case c == 0x200e, c == 0x200f, c == 0x061c, c >= 0x202a && c <= 0x202e, c >= 0x2066 && c <= 0x2069:
			return ' '
		case unicode.IsControl(c), c == 0x2028, c == 0x2029:
			return ' '
		}
		return c
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	if max <= 0 {
		return ""
	}
	r := []rune(s)
	return strings.TrimRight(string(r[:max-1]), " ") + "…"
}
