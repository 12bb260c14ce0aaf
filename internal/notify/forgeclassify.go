package notify

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ForgeError is one failed call to GitHub or GitLab, classified.
type ForgeError struct {
	Provider Provider
	// Op is what was being set: "status", "deployment", "deployment status",
	// "deployment lookup".
	Op   string
	Repo string // owner/name or group/…/name
	SHA  string
	// Status is the HTTP status, 0 when no answer arrived.
	Status int
	// Temporary reports whether another attempt may succeed.
	Temporary bool
	// RetryAfter is how long the provider asked us to wait (Retry-After, or
	// until its rate limit resets), 0 if it did not say.
	RetryAfter time.Duration

	detail string
	err    error
}

// Error names the provider, the repository, the commit and what the
// answer said; never the token.
func (e *ForgeError) Error() string {
	s := fmt.Sprintf("%s %s on %s@%s: ", e.Provider, e.Op, e.Repo, short(e.SHA))
	if e.err != nil {
		return s + e.err.Error()
	}
	if e.Status == 0 {
		return s + e.detail
	}
	s += fmt.Sprintf("HTTP %d %s", e.Status, http.StatusText(e.Status))
	if e.detail != "" {
		s += " (" + e.detail + ")"
	}
	return s
}

// Unwrap returns the transport error.
func (e *ForgeError) Unwrap() error { return e.err }

// forgeAnswer is both providers' error bodies: GitHub's
// {"message","documentation_url","errors":[{"resource","field","code","message"}]},
// GitLab's {"message": "…" or {"field": ["…"]}} and Grape's {"error": "…"}.
type forgeAnswer struct {
	Message json.RawMessage `json:"message"`
	Error   string          `json:"error"`
	Errors  []struct {
		Field   string `json:"field"`
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"errors"`
}

// text is the answer's message in one line.
func (a forgeAnswer) text() string {
	var parts []string
	var s string
	if json.Unmarshal(a.Message, &s) == nil && s != "" {
		parts = append(parts, s)
	} else if len(a.Message) > 0 && a.Message[0] == '{' {
		// GitLab validation: {"name":["is too long"]}
		var m map[string][]string
		if json.Unmarshal(a.Message, &m) == nil {
			for k, v := range m {
				parts = append(parts, k+" "+strings.Join(v, ", "))
			}
		}
	}
	if a.Error != "" {
		parts = append(parts, a.Error)
	}
	for _, e := range a.Errors[:min(len(a.Errors), 3)] {
		switch {
		case e.Message != "":
			parts = append(parts, e.Message)
		case e.Field != "":
			parts = append(parts, e.Field+" "+e.Code)
		}
	}
	return oneLine(strings.Join(parts, "; "))
}

// classifyForge decides what one answer from GitHub or GitLab means:
//   - 2xx: done. GitLab's 400 "Cannot transition status via :run from
//     :running" is done too: the commit already has that state (a second
//     run of the hook, or a retry whose first answer was lost).
//   - rate limits, transient: GitHub answers 403 or 429 with
//     x-ratelimit-remaining: 0 (wait until x-ratelimit-reset), or with
//     retry-after, or a "secondary rate limit" message without either (wait
//     a minute, as its docs ask); GitLab answers 429 with Retry-After and
//     RateLimit-Reset.
//     https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit
//     https://docs.gitlab.com/security/rate_limits/
//   - 408, GitLab's 409 (two statuses for one commit at once), 5xx and no
//     answer: transient.
//   - 401, other 403, 404 (GitHub answers 404 for a repository the token
//     cannot see), 422 and other 4xx: permanent; redirects are refused.
func classifyForge(h ForgeHost, op string, repo Repo, sha string, o outcome) (bool, error) {
	e := &ForgeError{Provider: h.Provider, Op: op, Repo: repo.Path, SHA: sha, Status: o.status}
	if o.err != nil {
		e.err = o.err
		e.Temporary = transientTransport(o.err)
		return e.Temporary, e
	}
	if o.status >= 200 && o.status <= 299 {
		return false, nil
	}
	var a forgeAnswer
	if json.Unmarshal(o.body, &a) == nil {
		e.detail = a.text()
	} else {
		e.detail = snippet(o.body)
	}
	if strings.EqualFold(e.detail, http.StatusText(o.status)) || e.detail == strconv.Itoa(o.status)+" "+http.StatusText(o.status) {
		e.detail = ""
	}
	now := time.Now()
	switch {
	case h.Provider == GitLab && o.status == http.StatusBadRequest && strings.Contains(e.detail, "Cannot transition status"):
		return false, nil
	case o.status >= 300 && o.status <= 399:
		e.detail = "a redirect, not followed (it would take the token along)"
		if loc := o.header.Get("Location"); loc != "" {
			e.detail = "a redirect to " + RedactWebhookURL(loc) + ", not followed (it would take the token along)"
		}
	case o.status == http.StatusForbidden || o.status == http.StatusTooManyRequests:
		if wait, limited := rateLimited(h.Provider, o, e.detail, now); limited {
			e.Temporary, e.RetryAfter = true, wait
			if e.detail == "" {
				e.detail = "rate limited"
			}
			break
		}
		if o.status == http.StatusTooManyRequests {
			e.Temporary = true
			break
		}
		e.detail = strings.TrimSuffix("the token may not set statuses on this repository: "+e.detail, ": ")
	case o.status == http.StatusUnauthorized:
		e.detail = strings.TrimSuffix("the token is invalid or expired: "+e.detail, ": ")
	case o.status == http.StatusNotFound:
		e.detail = strings.TrimSuffix("no such repository or commit, or the token cannot see the repository: "+e.detail, ": ")
	case o.status == http.StatusRequestTimeout, o.status >= 500,
		o.status == http.StatusConflict && h.Provider == GitLab:
		e.Temporary = true
		e.RetryAfter = retryAfter(o.header, now)
	}
	return e.Temporary, e
}

// rateLimited reads the providers' rate-limit answers; wait is 0 when the
// answer is a rate limit without a usable time (the retrier backs off).
func rateLimited(p Provider, o outcome, detail string, now time.Time) (wait time.Duration, limited bool) {
	if ra := retryAfter(o.header, now); ra > 0 {
		return ra, true
	}
	remaining := o.header.Get("X-Ratelimit-Remaining")
	reset := o.header.Get("X-Ratelimit-Reset")
	if p == GitLab {
		remaining, reset = o.header.Get("RateLimit-Remaining"), o.header.Get("RateLimit-Reset")
	}
	if remaining == "0" {
		if sec, err := strconv.ParseInt(reset, 10, 64); err == nil {
			if d := time.Unix(sec, 0).Sub(now) + time.Second; d > 0 {
				return d, true
			}
		}
		return 0, true
	}
	if p == GitHub && strings.Contains(strings.ToLower(detail), "secondary rate limit") {
		return time.Minute, true
	}
	return 0, o.status == http.StatusTooManyRequests
}
