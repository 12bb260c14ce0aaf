package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/syncreport/syncreport/internal/safehttp"
)

// CommitStatusName is the destination name of commit statuses in logs and errors.
const CommitStatusName = "commit-status"

// State is a provider-neutral commit status state; each provider's own
// word is chosen when the status is sent.
type State string

// The states a report maps to: pending while the outcome is open (the gate
// watching, a rollout still progressing, an outcome the hook could not
// settle), success, failure.
const (
	Pending State = "pending"
	Success State = "success"
	Failure State = "failure"
)

// githubState and gitlabState are the providers' words: GitHub's commit
// statuses take error|failure|pending|success, its deployment statuses
// in_progress|success|failure|…; GitLab takes pending|running|success|failed|canceled.
func githubState(s State) string { return string(s) }

func githubDeploymentState(s State) string {
	if s == Pending {
		return "in_progress"
	}
	return string(s)
}

func gitlabState(s State) string {
	switch s {
	case Pending:
		// "running": the deploy has started. GitLab's own "pending" means
		// queued, not yet started.
		return "running"
	case Failure:
		return "failed"
	}
	return string(s)
}

// CommitStatus is what is set on each commit.
type CommitStatus struct {
	State State
	// Context is "syncreport/<app>", so several apps deploying one repo
	// keep a status each (GitHub "context", GitLab "name").
	Context string
	// Description is the one-line cause; cut to each provider's limit.
	Description string
	// TargetURL links to the app in Argo CD; "" for none.
	TargetURL string
	// Environment names the GitHub deployment (the app); used only when
	// deployments are on.
	Environment string
}

// CommitTarget is one commit to set a status on.
type CommitTarget struct {
	RepoURL string
	SHA     string
}

// Forges sets commit statuses on GitHub and GitLab. The tokens never appear
// in errors or logs: answers are scrubbed of them before anything quotes them.
type Forges struct {
	hosts       []ForgeHost
	tokens      map[Provider]string
	deployments bool
	hc          *http.Client
}

// NewForges returns Forges for hosts, with one token per provider (a
// provider without a token has its hosts skipped), setting GitHub
// deployment statuses too when deployments is true. Redirects are never
// followed; API URLs must be https, or http to a loopback address.
func NewForges(hosts []ForgeHost, tokens map[Provider]string, deployments bool, hc *http.Client) (*Forges, error) {
	for _, h := range hosts {
		u, err := url.Parse(h.APIURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("%s API URL for %s is not an http(s) URL", h.Provider, h.Host)
		}
		if !safehttp.PlainHTTPAllowed(u) {
			return nil, fmt.Errorf("%s API URL for %s: plain http would send the token in clear; use https (http only to a loopback address)", h.Provider, h.Host)
		}
		if h.Provider != GitHub && h.Provider != GitLab {
			return nil, fmt.Errorf("host %s: unknown provider %q", h.Host, h.Provider)
		}
	}
	for p, t := range tokens {
		if strings.ContainsAny(t, " \t\r\n") {
			return nil, fmt.Errorf("%s token contains whitespace (value not shown: it is a secret)", p)
		}
	}
	return &Forges{hosts: hosts, tokens: tokens, deployments: deployments, hc: safehttp.NoRedirects(hc)}, nil
}

// Resolve finds the forge of repoURL; ok is false, with why, when the
// repository is not on a configured host or its provider has no token.
func (f *Forges) Resolve(repoURL string) (h ForgeHost, repo Repo, why string, ok bool) {
	repo, err := ParseRepoURL(repoURL)
	if err != nil {
		return h, repo, "repoURL: " + err.Error(), false
	}
	h, ok = hostOf(f.hosts, repo.Host)
	if ok && h.Provider == GitHub && strings.Count(repo.Path, "/") != 1 {
		return h, repo, "a GitHub repository path is owner/name", false
	}
	if !ok {
		return h, repo, "host " + repo.Host + " is in neither COMMIT_STATUS_GITHUB_HOSTS nor COMMIT_STATUS_GITLAB_HOSTS", false
	}
	if f.tokens[h.Provider] == "" {
		return h, repo, "no " + string(h.Provider) + " token", false
	}
	return h, repo, "", true
}

// Set makes one attempt to set st on sha of repo (and, with deployments on
// GitHub, the deployment status). d carries the deployment found or created
// by an earlier attempt, so a retry does not create a second one; pass the
// same *Deployment to every attempt of one commit.
func (f *Forges) Set(ctx context.Context, h ForgeHost, repo Repo, sha string, st CommitStatus, d *Deployment) (retry bool, err error) {
	if h.Provider == GitLab {
		return f.gitlab(ctx, h, repo, sha, st)
	}
	if d == nil || !d.status {
		if retry, err := f.githubStatus(ctx, h, repo, sha, st); err != nil {
			return retry, err
		}
		if d != nil {
			d.status = true
		}
	}
	if !f.deployments || d == nil {
		return false, nil
	}
	return f.githubDeployment(ctx, h, repo, sha, st, d)
}

// Deployment remembers, across the attempts of one commit, what is done.
type Deployment struct {
	status bool  // the commit status is set
	id     int64 // the deployment found or created, 0 before
}

func (f *Forges) githubStatus(ctx context.Context, h ForgeHost, repo Repo, sha string, st CommitStatus) (bool, error) {
	body := map[string]string{
		"state":       githubState(st.State),
		"context":     StatusText(st.Context, contextMax),
		"description": StatusText(st.Description, GitHubDescriptionMax),
	}
	if st.TargetURL != "" {
		body["target_url"] = st.TargetURL
	}
	o := f.call(ctx, h, http.MethodPost, "/repos/"+repo.Path+"/statuses/"+url.PathEscape(sha), body)
	return classifyForge(h, "status", repo, sha, o)
}

// githubDeployment sets a deployment status on the newest deployment of
// sha to the app's environment, creating the deployment the first time.
// https://docs.github.com/rest/deployments/deployments
func (f *Forges) githubDeployment(ctx context.Context, h ForgeHost, repo Repo, sha string, st CommitStatus, d *Deployment) (bool, error) {
	env := StatusText(st.Environment, contextMax)
	if d.id == 0 {
		q := url.Values{"sha": {sha}, "environment": {env}, "per_page": {"1"}}
		o := f.call(ctx, h, http.MethodGet, "/repos/"+repo.Path+"/deployments?"+q.Encode(), nil)
		if retry, err := classifyForge(h, "deployment lookup", repo, sha, o); err != nil {
			return retry, err
		}
		var found []struct {
			ID int64 `json:"id"`
		}
		if json.Unmarshal(o.body, &found) == nil && len(found) > 0 {
			d.id = found[0].ID
		}
	}
	if d.id == 0 {
		o := f.call(ctx, h, http.MethodPost, "/repos/"+repo.Path+"/deployments", map[string]any{
			"ref": sha, "environment": env, "auto_merge": false,
			// No required contexts: a failing CI check must not stop us
			// recording what Argo CD already deployed.
			"required_contexts": []string{},
			"description":       StatusText(st.Description, GitHubDescriptionMax),
		})
		if retry, err := classifyForge(h, "deployment", repo, sha, o); err != nil {
			return retry, err
		}
		var created struct {
			ID int64 `json:"id"`
		}
		if json.Unmarshal(o.body, &created) != nil || created.ID == 0 {
			return false, &ForgeError{Provider: h.Provider, Op: "deployment", Repo: repo.Path, SHA: sha, Status: o.status,
				detail: "the answer names no deployment id"}
		}
		d.id = created.ID
	}
	body := map[string]any{
		"state":         githubDeploymentState(st.State),
		"description":   StatusText(st.Description, GitHubDescriptionMax),
		"auto_inactive": true,
	}
	if st.TargetURL != "" {
		body["log_url"] = st.TargetURL
	}
	o := f.call(ctx, h, http.MethodPost, "/repos/"+repo.Path+"/deployments/"+strconv.FormatInt(d.id, 10)+"/statuses", body)
	return classifyForge(h, "deployment status", repo, sha, o)
}

// gitlab sets a commit status: POST /projects/:id/statuses/:sha with the
// project's path as its id. https://docs.gitlab.com/api/commits/#set-the-pipeline-status-of-a-commit
func (f *Forges) gitlab(ctx context.Context, h ForgeHost, repo Repo, sha string, st CommitStatus) (bool, error) {
	body := map[string]string{
		"state":       gitlabState(st.State),
		"name":        StatusText(st.Context, contextMax),
		"description": StatusText(st.Description, GitLabFieldMax),
	}
	// A URL cut short is a broken link: leave a long one out.
	if st.TargetURL != "" && len([]rune(st.TargetURL)) <= GitLabFieldMax {
		body["target_url"] = st.TargetURL
	}
	o := f.call(ctx, h, http.MethodPost, "/projects/"+url.PathEscape(repo.Path)+"/statuses/"+url.PathEscape(sha), body)
	return classifyForge(h, "status", repo, sha, o)
}

// call sends one request with the provider's auth header and reads the answer.
func (f *Forges) call(ctx context.Context, h ForgeHost, method, path string, body any) outcome {
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return outcome{err: fmt.Errorf("encoding the request: %w", err)}
		}
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	// The path is built by us from a parsed repo URL and a checked SHA;
	// url.Parse only joins it onto the configured base.
	raw := strings.TrimRight(h.APIURL, "/") + path
	redacted := h.APIURL
	req, err := http.NewRequestWithContext(ctx, method, raw, rd)
	if err != nil {
		return outcome{err: errors.New("cannot build the request")}
	}
	token := f.tokens[h.Provider]
	switch h.Provider {
	case GitHub:
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept", "application/vnd.github+json")
		req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	case GitLab:
		req.Header.Set("PRIVATE-TOKEN", token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "syncreport")
	return exchange(f.hc, req, redacted, token)
}

// DeliverCommitStatuses sets st on every target at once, each with its own
// retries under r, and returns the failures joined. A target whose host has
// no forge configured is skipped with a log line, not an error: an app may
// mix repositories syncreport is not asked to report on.
func DeliverCommitStatuses(ctx context.Context, r Retrier, f *Forges, targets []CommitTarget, st CommitStatus, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if len(targets) == 0 {
		log.Info("commit status: no Git source with a resolved commit to set a status on", "destination", CommitStatusName)
		return nil
	}
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	seen := map[string]bool{}
	for i, t := range targets {
		h, repo, why, ok := f.Resolve(t.RepoURL)
		if !ok {
			log.Info("commit status: skipping a source", "destination", CommitStatusName, "repo", RepoForLog(t.RepoURL), "why", why)
			continue
		}
		// https and ssh URLs of one repository are one commit.
		if k := h.APIURL + " " + strings.ToLower(repo.Path) + " " + strings.ToLower(t.SHA); seen[k] {
			continue
		} else {
			seen[k] = true
		}
		wg.Go(func() {
			var d Deployment
			name := CommitStatusName + " " + string(h.Provider) + " " + repo.Path + "@" + short(t.SHA)
			attempts, err := r.Do(ctx, name, func(ctx context.Context) (bool, error) {
				return f.Set(ctx, h, repo, t.SHA, st, &d)
			}, log)
			if err != nil {
				errs[i] = err
				log.Error("report not delivered", "destination", CommitStatusName, "provider", string(h.Provider),
					"repo", repo.String(), "sha", t.SHA, "attempts", attempts, "error", err.Error())
				return
			}
			log.Info("report delivered", "destination", CommitStatusName, "provider", string(h.Provider),
				"repo", repo.String(), "sha", t.SHA, "state", string(st.State), "attempts", attempts)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
