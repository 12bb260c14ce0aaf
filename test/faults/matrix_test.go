package faults_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syncreport/syncreport/internal/forgetest"
	"github.com/syncreport/syncreport/internal/slacktest"
)

var update = flag.Bool("update", false, "rewrite docs/fault-matrix.md from this run")

// The secrets every scenario uses: none of them may appear in anything the
// hook prints, nor in this test's output.
const (
	canary             = "CANARY"
	canaryToken        = "xoxb-CANARY-5e1f0c2a9b7d4e63"
	canaryWebhookPath  = "/services/TCANARY00/BCANARY00/CANARYhookSECRET1234"
	canarySMTPPassword = "CANARY-smtp-5e1f0c2a"
	canaryJSONPath     = "/in/CANARY-json-hook-path"
	canaryJSONSecret   = "CANARY-json-hmac-secret"
	canaryGitHubToken  = "ghp_CANARY0github0token0123456789"
	canaryGitLabToken  = "glpat-CANARY0gitlab0token0"
)

const (
	// channelID is SLACK_CHANNEL: an ID, so the duplicate check can read history.
	channelID = "C0DEPLOYS"
	// margin is how far past HOOK_TIMEOUT a run may end: process start and
	// exit, not another attempt.
	margin = 1500 * time.Millisecond
	// attemptTimeout is SLACK_ATTEMPT_TIMEOUT; slow answers take longer.
	attemptTimeout = "2s"
	slow           = 4 * time.Second

	docPath = "../../docs/fault-matrix.md"
	regen   = "SYNCREPORT_TOOLS_BIN=~/.cache/syncreport/tools/bin go test ./test/faults -run TestFaultMatrix -update"
)

// Outcomes, as the matrix states them.
const (
	delivered      = "delivered"
	deliveredRetry = "delivered after retry"
	deliveredDedup = "delivered once (duplicate check)"
	deliveredTwice = "delivered twice (at least once)"
	notPermanent   = "not delivered: permanent error"
	notDeadline    = "not delivered: gave up at the deadline"
	notRetryAfter  = "not delivered: Retry-After past the deadline"
	unreadableDead = "app unreadable: gave up at the deadline"
	unreadableForb = "app unreadable: forbidden"
	unreadable404  = "app unreadable: not found"
)

// scenario is one row of the matrix: a fault, and what the hook must do.
type scenario struct {
	name  string
	fault string // what goes wrong, for the doc

	kube kubeFault
	sa   string // the hook's ServiceAccount; saReader when empty

	webhook     bool
	webhookPath string            // given to the hook; canaryWebhookPath when empty
	channel     string            // SLACK_CHANNEL; channelID when empty
	apiURL      string            // SLACK_API_URL; the slacktest server when empty
	token       string            // SLACK_TOKEN; canaryToken when empty
	slack       []slacktest.Fault // queued on the delivery endpoint
	always      *slacktest.Fault  // on the delivery endpoint once slack runs out
	history     *slacktest.Fault  // on conversations.history, always
	strict      bool              // FAIL_ON_DELIVERY_ERROR=true
	timeout     time.Duration     // HOOK_TIMEOUT; 5s when zero

	// dest is the only destination: "" (Slack), "email" or "json-webhook".
	dest  string
	smtp  smtpFault
	hook  hookFault
	forge forgeFault

	outcome  string
	exit     int
	attempts [2]int // delivery attempts, min and max; {1, 1} when zero
	gets     [2]int // GETs of the Application, min and max; {1, 1} when zero
	cause    string // in a log line at info or above, or in the final error
}

func transient(code string) scenario {
	return scenario{name: "slack-" + code, fault: `ok:false "` + code + `" once`,
		slack: []slacktest.Fault{{OKFalse: code}}, outcome: deliveredRetry, attempts: [2]int{2, 2}, cause: code}
}

func permanent(code string, strict bool) scenario {
	sc := scenario{name: "slack-" + code, fault: `ok:false "` + code + `"`,
		always: &slacktest.Fault{OKFalse: code}, outcome: notPermanent, cause: code}
	if strict {
		sc.name += "-strict"
		sc.fault += ", FAIL_ON_DELIVERY_ERROR=true"
		sc.strict, sc.exit = true, 4
	}
	return sc
}

func webhookCode(code string) scenario {
	return scenario{name: "webhook-" + code, fault: `webhook answers "` + code + `"`, webhook: true,
		always: &slacktest.Fault{OKFalse: code}, outcome: notPermanent, cause: code}
}

func fiveHundred(status int) scenario {
	return scenario{name: fmt.Sprintf("slack-%d-once", status), fault: fmt.Sprintf("HTTP %d once", status),
		slack: []slacktest.Fault{{Status: status}}, outcome: deliveredRetry, attempts: [2]int{2, 2},
		cause: fmt.Sprintf("HTTP %d", status)}
}

// smtpFault stages the mail server (mailpit, STARTTLS with a test CA, AUTH).
type smtpFault struct {
	greylist  int32 // connections answered 451 at RCPT first
	password  string
	refuse    bool // the recipient is refused (550)
	unknownCA bool // SMTP_CA_FILE holds another CA
	down      bool // nothing listens
}

// hookFault stages the JSON webhook receiver: answers in order, then 204.
type hookFault struct {
	answers    []int
	always     int
	retryAfter string
	location   string
}

func email(name, fault string, f smtpFault, outcome string, exit int, attempts [2]int, cause string) scenario {
	return scenario{name: "email-" + name, fault: fault, dest: "email", smtp: f, outcome: outcome, exit: exit, attempts: attempts, cause: cause}
}

func jsonHook(name, fault string, f hookFault, outcome string, exit int, attempts [2]int, cause string) scenario {
	return scenario{name: "json-webhook-" + name, fault: fault, dest: "json-webhook", hook: f, outcome: outcome, exit: exit, attempts: attempts, cause: cause}
}

var scenarios = []scenario{
	// The Kubernetes API, through the fault proxy.
	{name: "kube-ok", fault: "none (control)", outcome: delivered},
	{name: "kube-down-at-start", fault: "API refuses connections for the first 1.5s",
		kube: kubeFault{downFor: 1500 * time.Millisecond}, outcome: delivered, cause: "connection refused"},
	{name: "kube-down", fault: "API refuses connections throughout (HOOK_TIMEOUT 3s)", kube: kubeFault{down: true}, timeout: 3 * time.Second,
		outcome: unreadableDead, exit: 3, attempts: [2]int{0, 0}, gets: [2]int{0, 0}, cause: "connection refused"},
	// client-go itself waits out a Retry-After from the apiserver and logs it
	// only at klog V(4): nothing names the cause in these two rows (reported).
	{name: "kube-429-retry-after", fault: "429 with Retry-After: 1, twice",
		kube: kubeFault{answers: []int{429, 429}, retryAfter: 1}, outcome: delivered, gets: [2]int{3, 3}},
	{name: "kube-429-past-deadline", fault: "429 with Retry-After: 30 on every GET (HOOK_TIMEOUT 3s)",
		kube: kubeFault{always: 429, retryAfter: 30}, timeout: 3 * time.Second,
		outcome: unreadableDead, exit: 3, attempts: [2]int{0, 0}, gets: [2]int{1, 1}},
	{name: "kube-429", fault: "429 without Retry-After, twice",
		kube: kubeFault{answers: []int{429, 429}}, outcome: delivered, gets: [2]int{3, 3}, cause: "(HTTP 429)"},
	{name: "kube-500", fault: "500 twice", kube: kubeFault{answers: []int{500, 500}},
		outcome: delivered, gets: [2]int{3, 3}, cause: "(HTTP 500)"},
	{name: "kube-503", fault: "503 twice", kube: kubeFault{answers: []int{503, 503}},
		outcome: delivered, gets: [2]int{3, 3}, cause: "(HTTP 503)"},
	{name: "kube-500-always", fault: "500 on every GET (HOOK_TIMEOUT 3s)", kube: kubeFault{always: 500}, timeout: 3 * time.Second,
		outcome: unreadableDead, exit: 3, attempts: [2]int{0, 0}, gets: [2]int{2, 20}, cause: "(HTTP 500)"},
	{name: "kube-forbidden", fault: "ServiceAccount without the Role (real RBAC)", sa: saNobody,
		outcome: unreadableForb, exit: 3, attempts: [2]int{0, 0}, cause: `grant verb "get" on applications.argoproj.io`},
	{name: "kube-app-deleted", fault: "Application deleted mid-run: 503, then a real 404",
		kube:    kubeFault{answers: []int{503}, deleteApp: true},
		outcome: unreadable404, exit: 3, attempts: [2]int{0, 0}, gets: [2]int{2, 2}, cause: "not found"},

	// Slack's Web API (bot token, channel given by ID).
	{name: "slack-ok", fault: "none (control)", outcome: delivered},
	{name: "slack-429-once", fault: "429 with Retry-After: 1, once", slack: []slacktest.Fault{{RetryAfter: 1}},
		outcome: deliveredRetry, attempts: [2]int{2, 2}, cause: "HTTP 429"},
	{name: "slack-429-thrice", fault: "429 with Retry-After: 1, three times (HOOK_TIMEOUT 6s)", timeout: 6 * time.Second,
		slack:   []slacktest.Fault{{RetryAfter: 1}, {RetryAfter: 1}, {RetryAfter: 1}},
		outcome: deliveredRetry, attempts: [2]int{4, 4}, cause: "HTTP 429"},
	{name: "slack-429-past-deadline", fault: "429 with Retry-After: 30 (HOOK_TIMEOUT 3s)", timeout: 3 * time.Second,
		always: &slacktest.Fault{RetryAfter: 30}, outcome: notRetryAfter, cause: "Slack asked to retry after 30s"},
	fiveHundred(500),
	fiveHundred(502),
	fiveHundred(503),
	fiveHundred(504),
	{name: "slack-503-always-strict", fault: "HTTP 503 throughout, FAIL_ON_DELIVERY_ERROR=true (HOOK_TIMEOUT 3s)", timeout: 3 * time.Second,
		always: &slacktest.Fault{Status: 503}, strict: true,
		outcome: notDeadline, exit: 4, attempts: [2]int{2, 10}, cause: "HTTP 503"},
	{name: "slack-reset-once", fault: "connection reset before an answer, once", slack: []slacktest.Fault{{Reset: true}},
		outcome: deliveredRetry, attempts: [2]int{2, 2}, cause: "chat.postMessage"},
	{name: "slack-slow-once", fault: "answer slower than SLACK_ATTEMPT_TIMEOUT, once (not posted)",
		slack: []slacktest.Fault{{Delay: slow}}, outcome: deliveredRetry, attempts: [2]int{2, 2}, cause: "attempt timed out"},
	{name: "slack-posted-then-timeout", fault: "posted, but the answer is slower than SLACK_ATTEMPT_TIMEOUT",
		slack: []slacktest.Fault{{Accept: true, Delay: slow}}, outcome: deliveredDedup, attempts: [2]int{2, 2}, cause: "attempt timed out"},
	{name: "slack-posted-then-503-no-history-scope", fault: "posted, then 503; token without channels:history",
		slack: []slacktest.Fault{{Accept: true, Status: 503}}, history: &slacktest.Fault{OKFalse: "missing_scope", Needed: "channels:history"},
		outcome: deliveredTwice, attempts: [2]int{2, 2}, cause: "channels:history"},
	{name: "slack-posted-then-reset-channel-name", fault: "posted, then reset; SLACK_CHANNEL=#deploys (a name)", channel: "#deploys",
		slack: []slacktest.Fault{{Accept: true, Reset: true}}, outcome: deliveredTwice, attempts: [2]int{2, 2}, cause: "needs a channel ID"},
	transient("internal_error"),
	transient("fatal_error"),
	transient("service_unavailable"),
	transient("request_timeout"),
	transient("ratelimited"),
	{name: "slack-invalid_auth", fault: "a token Slack does not know", token: "xoxb-CANARY-unknown-token",
		outcome: notPermanent, cause: "invalid_auth"},
	permanent("token_revoked", false),
	permanent("channel_not_found", true),
	permanent("not_in_channel", false),
	permanent("is_archived", false),
	permanent("msg_too_long", false),
	permanent("invalid_blocks", false),
	permanent("missing_scope", true),
	{name: "slack-dns-failure", fault: "SLACK_API_URL host does not resolve (.invalid; HOOK_TIMEOUT 3s)", apiURL: "https://slack.invalid/api/",
		timeout: 3 * time.Second, outcome: notDeadline, attempts: [2]int{1, 20}, cause: "slack.invalid"},

	// Incoming webhooks.
	{name: "webhook-503-once", fault: "HTTP 503 once", webhook: true, slack: []slacktest.Fault{{Status: 503}},
		outcome: deliveredRetry, attempts: [2]int{2, 2}, cause: "HTTP 503"},
	webhookCode("invalid_payload"),
	{name: "webhook-no_service", fault: "a webhook URL Slack does not know (404 no_service)", webhook: true,
		webhookPath: "/services/TCANARY00/BCANARY00/CANARYunknown00000", outcome: notPermanent, cause: "no_service"},
	webhookCode("channel_not_found"),
	webhookCode("channel_is_archived"),

	// Email (mailpit: STARTTLS with a test CA, AUTH; EMAIL_TO one address).
	email("ok", "none (control)", smtpFault{}, delivered, 0, [2]int{}, ""),
	email("greylisted-once", "451 at RCPT (greylisting), once", smtpFault{greylist: 1}, deliveredRetry, 0, [2]int{2, 2}, "SMTP 451 (temporary)"),
	email("wrong-password", "535: wrong SMTP_PASSWORD", smtpFault{password: "CANARY-wrong"}, notPermanent, 0, [2]int{}, "SMTP 535 (permanent)"),
	email("wrong-password-strict", "535: wrong SMTP_PASSWORD, FAIL_ON_DELIVERY_ERROR=true", smtpFault{password: "CANARY-wrong"}, notPermanent, 4, [2]int{}, "SMTP 535 (permanent)"),
	email("recipient-refused", "550 at RCPT", smtpFault{refuse: true}, notPermanent, 0, [2]int{}, "SMTP 550 (permanent)"),
	email("unknown-ca", "certificate signed by a CA not in SMTP_CA_FILE", smtpFault{unknownCA: true}, notPermanent, 0, [2]int{}, "SMTP_CA_FILE"),
	{name: "email-server-down", fault: "nothing listens on SMTP_PORT (HOOK_TIMEOUT 3s)", dest: "email", smtp: smtpFault{down: true},
		timeout: 3 * time.Second, outcome: notDeadline, attempts: [2]int{2, 20}, cause: "connection refused"},

	// The signed JSON webhook (WEBHOOK_URL, WEBHOOK_SECRET).
	jsonHook("ok", "none (control)", hookFault{}, delivered, 0, [2]int{}, ""),
	jsonHook("500-once", "HTTP 500 once", hookFault{answers: []int{500}}, deliveredRetry, 0, [2]int{2, 2}, "HTTP 500"),
	jsonHook("429-once", "429 with Retry-After: 1, once", hookFault{answers: []int{429}, retryAfter: "1"}, deliveredRetry, 0, [2]int{2, 2}, "HTTP 429"),
	{name: "json-webhook-429-past-deadline", fault: "429 with Retry-After: 30 (HOOK_TIMEOUT 3s)", dest: "json-webhook",
		hook: hookFault{always: 429, retryAfter: "30"}, timeout: 3 * time.Second, outcome: notRetryAfter, cause: "asked to retry after 30s"},
	jsonHook("400", "HTTP 400", hookFault{always: 400}, notPermanent, 0, [2]int{}, "HTTP 400"),
	jsonHook("400-strict", "HTTP 400, FAIL_ON_DELIVERY_ERROR=true", hookFault{always: 400}, notPermanent, 4, [2]int{}, "HTTP 400"),
	jsonHook("redirect", "307 to another host (not followed)", hookFault{always: 307, location: "https://elsewhere.example/in/CANARY"},
		notPermanent, 0, [2]int{}, "not followed"),

	// Commit statuses (forgetest: GitHub's and GitLab's documented answers).
	commitStatus("github-ok", "none (control), GitHub", forgeFault{provider: "github"}, delivered, 0, [2]int{}, ""),
	commitStatus("gitlab-ok", "none (control), GitLab", forgeFault{provider: "gitlab"}, delivered, 0, [2]int{}, ""),
	commitStatus("github-rate-limit", "GitHub 403, x-ratelimit-remaining: 0, reset in 1s, once",
		forgeFault{provider: "github", faults: func() []forgetest.Fault {
			return []forgetest.Fault{forgetest.PrimaryRateLimit(time.Now().Add(time.Second))}
		}},
		deliveredRetry, 0, [2]int{2, 2}, "API rate limit exceeded"),
	commitStatus("github-secondary-rate-limit", "GitHub 429 secondary rate limit, retry-after: 1, once",
		forgeFault{provider: "github", faults: fixed(forgetest.SecondaryRateLimit(429, 1))},
		deliveredRetry, 0, [2]int{2, 2}, "secondary rate limit"),
	withTimeout(3*time.Second, commitStatus("github-rate-limit-past-deadline", "GitHub 403, x-ratelimit-remaining: 0, reset in 1h (HOOK_TIMEOUT 3s)",
		forgeFault{provider: "github", faults: func() []forgetest.Fault {
			return []forgetest.Fault{forgetest.PrimaryRateLimit(time.Now().Add(time.Hour))}
		}},
		notRetryAfter, 0, [2]int{}, "the Git provider asked to retry after")),
	commitStatus("gitlab-429", "GitLab 429, Retry-After: 1, RateLimit-Remaining: 0, once",
		forgeFault{provider: "gitlab", faults: func() []forgetest.Fault { return []forgetest.Fault{forgetest.GitLabRateLimit(1, time.Now())} }},
		deliveredRetry, 0, [2]int{2, 2}, "HTTP 429"),
	commitStatus("github-502-once", "GitHub 502 once", forgeFault{provider: "github", faults: fixed(forgetest.Fault{Status: 502})},
		deliveredRetry, 0, [2]int{2, 2}, "HTTP 502"),
	commitStatus("gitlab-reset-once", "GitLab connection dropped before an answer, once",
		forgeFault{provider: "gitlab", faults: fixed(forgetest.Fault{Drop: true})}, deliveredRetry, 0, [2]int{2, 2}, "EOF"),
	commitStatus("github-bad-token", "GitHub 401 Bad credentials", forgeFault{provider: "github", token: "ghp_CANARY-unknown"},
		notPermanent, 0, [2]int{}, "Bad credentials"),
	commitStatus("github-bad-token-strict", "GitHub 401 Bad credentials, FAIL_ON_DELIVERY_ERROR=true", forgeFault{provider: "github", token: "ghp_CANARY-unknown"},
		notPermanent, 4, [2]int{}, "Bad credentials"),
	commitStatus("github-forbidden", "GitHub 403 Resource not accessible (token without commit statuses: write)",
		forgeFault{provider: "github", faults: fixed(forgetest.Fault{Status: 403, Body: `{"message":"Resource not accessible by personal access token","documentation_url":"https://docs.github.com/rest/commits/statuses#create-a-commit-status","status":"403"}`})},
		notPermanent, 0, [2]int{}, "Resource not accessible"),
	commitStatus("gitlab-404", "GitLab 404 Project Not Found (no such project, or the token cannot see it)",
		forgeFault{provider: "gitlab", faults: fixed(forgetest.Fault{Status: 404, Body: `{"message":"404 Project Not Found"}`})},
		notPermanent, 0, [2]int{}, "404 Project Not Found"),
	commitStatus("github-422", "GitHub 422 Validation Failed", forgeFault{provider: "github", faults: fixed(forgetest.Fault{Status: 422,
		Body: `{"message":"Validation Failed","errors":[{"resource":"Status","code":"custom","field":"description","message":"description is too long (maximum is 140 characters)"}],"documentation_url":"https://docs.github.com/rest/commits/statuses#create-a-commit-status","status":"422"}`})},
		notPermanent, 0, [2]int{}, "description is too long"),
}

// row is what one scenario did.
type row struct {
	name, fault, attempts, outcome string
	exit                           int
	elapsed                        time.Duration
}

// TestFaultMatrix runs every scenario against the built binary and checks
// docs/fault-matrix.md against the results (scenario, outcome, exit code);
// -update rewrites it.
func TestFaultMatrix(t *testing.T) {
	var mu sync.Mutex
	rows := map[string]row{}
	t.Run("scenario", func(t *testing.T) {
		for _, sc := range scenarios {
			t.Run(sc.name, func(t *testing.T) {
				t.Parallel()
				r := sc.run(t)
				mu.Lock()
				rows[sc.name] = r
				mu.Unlock()
			})
		}
	})
	if t.Failed() {
		return
	}
	if *update {
		if len(rows) != len(scenarios) {
			t.Fatalf("-update needs the whole matrix; %d of %d scenarios ran", len(rows), len(scenarios))
		}
		must(t, os.MkdirAll(filepath.Dir(docPath), 0o755))
		must(t, os.WriteFile(docPath, renderDoc(rows), 0o644))
		return
	}
	checkDoc(t, rows)
}

// run stages the scenario, runs the hook and checks everything but the doc.
func (sc scenario) run(t *testing.T) row {
	timeout := sc.timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	wantAttempts, wantGets := sc.attempts, sc.gets
	if wantAttempts == [2]int{} && sc.exit != 3 {
		wantAttempts = [2]int{1, 1}
	}
	if wantGets == [2]int{} && sc.outcome != unreadableDead {
		wantGets = [2]int{1, 1}
	}

	app := strings.ReplaceAll(sc.name, "_", "-") // a DNS subdomain
	createApp(t, app)
	s := slacktest.Start(t)
	s.SetValidToken(canaryToken)
	s.SetWebhookPath(canaryWebhookPath)
	ep := slacktest.EndpointPostMessage
	if sc.webhook {
		ep = slacktest.EndpointWebhook
	}
	s.Fail(ep, sc.slack...)
	if sc.always != nil {
		s.Always(ep, *sc.always)
	}
	if sc.history != nil {
		s.Always(slacktest.EndpointHistory, *sc.history)
	}

	env := map[string]string{
		"ARGOCD_APP_NAME": app, "ARGOCD_NAMESPACE": appNS,
		"HOOK_TIMEOUT": timeout.String(), "SLACK_ATTEMPT_TIMEOUT": attemptTimeout,
		"FAIL_ON_DELIVERY_ERROR": fmt.Sprint(sc.strict), "LOG_LEVEL": "debug",
		// One message per run, as the matrix counts them; the live
		// message's fallbacks are TestLiveFallbacks.
		"RETRY_NOTIFY": "first",
	}
	var other *otherDest
	switch {
	case sc.dest != "":
		env["FAIL_ON_DELIVERY_ERROR"] = fmt.Sprint(sc.exit == 4)
		other = sc.stageOther(t, env)
	case sc.webhook:
		path := or(sc.webhookPath, canaryWebhookPath)
		env["SLACK_WEBHOOK_URL"] = strings.TrimSuffix(s.WebhookURL(), canaryWebhookPath) + path
	default:
		env["SLACK_TOKEN"] = or(sc.token, canaryToken)
		env["SLACK_CHANNEL"] = or(sc.channel, channelID)
		env["SLACK_API_URL"] = or(sc.apiURL, s.URL())
	}
	proxy := startProxy(t, sc.kube, app)
	env["KUBECONFIG"] = kubeconfig(t, proxy.addr, or(sc.sa, saReader))
	res := runHook(t, env)

	// The secrets first: nothing below may print them.
	if strings.Contains(res.stdout+res.stderr, canary) {
		t.Errorf("a canary secret leaked into the hook's output")
	}
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("FAULTS_DEBUG") != "" {
			t.Logf("exit %d after %s\nstderr:\n%s", res.exit, res.elapsed, scrub(res.stderr))
		}
	})

	lines := parseLog(res.stderr)
	d := deliveryLine(lines)
	attempts := 0
	if d != nil {
		attempts = int(num(d.fields["attempts"]))
	}
	dedupHits := countMsg(lines, "not posting again: the failed attempt was posted after all")
	history := len(s.RequestsTo(slacktest.EndpointHistory))
	requests := len(s.RequestsTo(ep))
	if sc.webhook {
		requests = len(s.Requests()) // an unknown webhook path is no endpoint
	}
	posts := len(s.Posts())
	if other != nil {
		requests, posts = other.requests(), other.received(t)
	}
	got := outcomeOf(res, lines, d, dedupHits, posts)

	if got != sc.outcome {
		t.Errorf("outcome %q; want %q", got, sc.outcome)
	}
	if res.exit != sc.exit {
		t.Errorf("exit %d; want %d", res.exit, sc.exit)
	}
	if want := postsFor(sc.outcome); posts != want {
		t.Errorf("Slack holds %d messages; want %d", posts, want)
	}
	if attempts < wantAttempts[0] || attempts > wantAttempts[1] {
		t.Errorf("%d delivery attempts; want %d to %d", attempts, wantAttempts[0], wantAttempts[1])
	}
	// Every attempt reached Slack, except the one answered from history.
	if sc.apiURL == "" && sc.dest != "email" && requests != attempts-dedupHits {
		t.Errorf("Slack saw %d delivery requests; the hook reports %d attempts (%d found in history)", requests, attempts, dedupHits)
	}
	if g := proxy.appGets(); g < wantGets[0] || g > wantGets[1] {
		t.Errorf("%d GETs of the Application; want %d to %d", g, wantGets[0], wantGets[1])
	}
	if res.elapsed > timeout+margin {
		t.Errorf("took %s; HOOK_TIMEOUT is %s", res.elapsed.Round(time.Millisecond), timeout)
	}
	if sc.cause != "" && !strings.Contains(visible(lines), sc.cause) {
		t.Errorf("no log line at info or above names the cause %q", sc.cause)
	}
	if strings.HasPrefix(got, "not delivered") && countMsg(lines, "report not delivered") != 1 {
		t.Errorf("want one error line saying the report was not delivered")
	}

	return row{name: sc.name, fault: sc.fault, outcome: got, exit: res.exit, elapsed: res.elapsed,
		attempts: attemptsText(proxy.appGets(), attempts, history, sc)}
}

func or(v, def string) string {
	if v != "" {
		return v
	}
	return def
}

// postsFor is how many messages Slack must hold after an outcome: exactly
// one whenever the report got through, unless at-least-once is documented.
func postsFor(outcome string) int {
	switch {
	case outcome == deliveredTwice:
		return 2
	case strings.HasPrefix(outcome, "delivered"):
		return 1
	}
	return 0
}

type result struct {
	exit           int
	stdout, stderr string
	elapsed        time.Duration
}

// runHook runs the built binary with env only (no inherited variables:
// in particular no in-cluster service host).
func runHook(t testing.TB, env map[string]string) result {
	t.Helper()
	// A stuck hook is killed well after its own HOOK_TIMEOUT.
	limit := time.Minute
	if d, err := time.ParseDuration(env["HOOK_TIMEOUT"]); err == nil {
		limit = max(limit, d+30*time.Second)
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, hookBin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String(), elapsed: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.exit = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return r
}

// logLine is one line of the hook's stderr: a JSON log record, or plain
// text (the final "hook: …" error).
type logLine struct {
	level, msg string
	fields     map[string]any
	raw        string
}

func parseLog(stderr string) []logLine {
	var out []logLine
	sc := bufio.NewScanner(strings.NewReader(stderr))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := logLine{raw: sc.Text()}
		if json.Unmarshal(sc.Bytes(), &l.fields) == nil {
			l.level, _ = l.fields["level"].(string)
			l.msg, _ = l.fields["msg"].(string)
		}
		out = append(out, l)
	}
	return out
}

// visible is what an operator sees at the default log level: records at
// info and above, and plain lines.
func visible(lines []logLine) string {
	var b strings.Builder
	for _, l := range lines {
		if l.level != "DEBUG" {
			b.WriteString(l.raw)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func countMsg(lines []logLine, msg string) int {
	n := 0
	for _, l := range lines {
		if l.msg == msg {
			n++
		}
	}
	return n
}

// deliveryLine is the record that ends delivery to the one channel.
func deliveryLine(lines []logLine) *logLine {
	for i := range lines {
		if lines[i].msg == "report delivered" || lines[i].msg == "report not delivered" {
			return &lines[i]
		}
	}
	return nil
}

func num(v any) float64 {
	f, _ := v.(float64)
	return f
}

// outcomeOf says what happened, from the exit code, the log and Slack.
func outcomeOf(res result, lines []logLine, d *logLine, dedupHits, posts int) string {
	if res.exit == 3 && len(lines) > 0 {
		final := lines[len(lines)-1].raw
		switch {
		case strings.Contains(final, "forbidden"):
			return unreadableForb
		case strings.Contains(final, "not found"):
			return unreadable404
		case strings.Contains(final, "gave up") || strings.Contains(final, "deadline"):
			return unreadableDead
		}
		return "app unreadable: " + scrub(final)
	}
	if d == nil {
		return fmt.Sprintf("exit %d without a delivery record", res.exit)
	}
	if d.msg == "report delivered" {
		switch {
		case posts > 1:
			return deliveredTwice
		case dedupHits > 0:
			return deliveredDedup
		case num(d.fields["attempts"]) == 1:
			return delivered
		}
		return deliveredRetry
	}
	msg, _ := d.fields["error"].(string)
	switch {
	case strings.Contains(msg, "failed permanently"):
		return notPermanent
	case strings.Contains(msg, "asked to retry after"):
		return notRetryAfter
	}
	return notDeadline
}

func attemptsText(gets, attempts, history int, sc scenario) string {
	var parts []string
	if gets != 1 {
		parts = append(parts, fmt.Sprintf("API %d", gets))
	}
	what := "Slack"
	switch {
	case sc.dest != "":
		what = sc.dest
	case sc.webhook:
		what = "webhook"
	}
	parts = append(parts, fmt.Sprintf("%s %d", what, attempts))
	if history > 0 {
		parts = append(parts, fmt.Sprintf("history %d", history))
	}
	return strings.Join(parts, ", ")
}

// scrub keeps a canary out of the test's own output even when it leaked.
func scrub(s string) string { return strings.ReplaceAll(s, canary, "C*NARY") }

const docHead = `# Fault matrix

Regenerate: ` + "`" + regen + "`" + `

Generated by ` + "`test/faults`" + `: each row runs the built hook binary against a real kube-apiserver
(faults injected by a reverse proxy in front of it) and the Slack test server (` + "`internal/slacktest`" + `),
and, for the email and JSON webhook rows, mailpit (` + "`internal/mailpittest`" + `) and an httptest receiver that
checks the signature, with a canary token, webhook paths, SMTP password and webhook secret that must
never appear in any output. ` + "`go test ./test/faults`" + `
fails when the scenario, outcome or exit columns differ from this file; attempts and time vary from
run to run and are not compared. Attempts: Application GETs that reached the API server (when not 1),
delivery attempts, and ` + "`conversations.history`" + ` reads of the duplicate check. ` + "`SLACK_ATTEMPT_TIMEOUT`" + ` is 2s
and ` + "`HOOK_TIMEOUT`" + ` 5s unless the fault says otherwise; exit codes are the README's.

| scenario | fault | attempts | outcome | exit | time |
| --- | --- | --- | --- | --- | --- |
`

func renderDoc(rows map[string]row) []byte {
	var b bytes.Buffer
	b.WriteString(docHead)
	for _, sc := range scenarios {
		r := rows[sc.name]
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %d | %.1fs |\n", r.name, r.fault, r.attempts, r.outcome, r.exit, r.elapsed.Seconds())
	}
	return b.Bytes()
}

// checkDoc compares the stable columns of the committed matrix with this run.
func checkDoc(t *testing.T, rows map[string]row) {
	b, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatalf("%v; generate it with %s", err, regen)
	}
	if bytes.Contains(b, []byte(canary)) {
		t.Errorf("%s holds a canary secret", docPath)
	}
	type stable struct{ outcome, exit string }
	doc := map[string]stable{}
	var order []string
	for _, line := range strings.Split(string(b), "\n") {
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if !strings.HasPrefix(line, "| ") || len(cells) != 6 || cells[0] == "scenario" || cells[0] == "---" {
			continue
		}
		doc[cells[0]] = stable{cells[3], cells[4]}
		order = append(order, cells[0])
	}
	var want []string
	for _, sc := range scenarios {
		want = append(want, sc.name)
	}
	if strings.Join(order, ",") != strings.Join(want, ",") {
		t.Errorf("%s lists scenarios %v; the test has %v; regenerate it with %s", docPath, order, want, regen)
	}
	for name, r := range rows {
		if got, d := (stable{r.outcome, fmt.Sprint(r.exit)}), doc[name]; got != d {
			t.Errorf("%s: %s says %q, exit %s; this run: %q, exit %s; regenerate it with %s",
				name, docPath, d.outcome, d.exit, got.outcome, got.exit, regen)
		}
	}
}
