package faults_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/syncreport/syncreport/internal/forgetest"
	"github.com/syncreport/syncreport/internal/mailpittest"
)

// appRevision is the commit the test app (syncfail-degraded.yaml) deploys.
const appRevision = "9c0ffee1234567890abcdef1234567890abcdef1"

// forgeFault stages the commit status API: GitHub or GitLab, answers in order.
type forgeFault struct {
	provider string                   // "github" or "gitlab"
	faults   func() []forgetest.Fault // made when the row runs: rate-limit resets are times
	token    string                   // replaces the canary token
}

func fixed(f ...forgetest.Fault) func() []forgetest.Fault {
	return func() []forgetest.Fault { return f }
}

func withTimeout(d time.Duration, sc scenario) scenario {
	sc.timeout = d
	return sc
}

func commitStatus(name, fault string, f forgeFault, outcome string, exit int, attempts [2]int, cause string) scenario {
	return scenario{name: "commit-status-" + name, fault: fault, dest: "commit-status", forge: f, outcome: outcome, exit: exit, attempts: attempts, cause: cause}
}

// otherDest is the email or JSON webhook side of a row: how many attempts
// reached it and how many reports it took.
type otherDest struct {
	mp    *mailpittest.Server
	forge *forgetest.Server

	mu       sync.Mutex
	posts    int
	accepted int
	badSig   int
}

func (o *otherDest) requests() int {
	if o.forge != nil {
		return o.forge.Requests()
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.posts
}

func (o *otherDest) received(t *testing.T) int {
	if o.mp != nil {
		return len(o.mp.Messages(t))
	}
	if o.forge != nil {
		return len(o.forge.Statuses())
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.badSig > 0 {
		t.Errorf("%d posts with a signature that does not verify", o.badSig)
	}
	return o.accepted
}

// stageOther starts the row's mail server or webhook receiver and sets the
// hook's variables for it; no Slack variable is set, so it is the only
// destination.
func (sc scenario) stageOther(t *testing.T, env map[string]string) *otherDest {
	o := &otherDest{}
	switch sc.dest {
	case "email":
		dir := t.TempDir()
		ca, cert, key := mailpittest.NewCA(t, dir)
		env["SMTP_HOST"], env["SMTP_FROM"], env["EMAIL_TO"] = "127.0.0.1", "deploys@example.com", "alice@example.com"
		env["SMTP_USERNAME"], env["SMTP_PASSWORD"] = "hook", or(sc.smtp.password, canarySMTPPassword)
		env["SMTP_CA_FILE"] = ca
		if sc.smtp.unknownCA {
			env["SMTP_CA_FILE"], _, _ = mailpittest.NewCA(t, t.TempDir())
		}
		if sc.smtp.down {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			env["SMTP_PORT"] = strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
			l.Close()
			return o
		}
		if sc.smtp.greylist > 0 {
			// The greylister speaks no TLS: in front of it the hook talks
			// plain SMTP to loopback, as SMTP_TLS=none allows, without AUTH.
			o.mp = mailpittest.Start(t, mailpittest.Options{})
			g := mailpittest.Greylist(t, net.JoinHostPort(o.mp.Host, strconv.Itoa(o.mp.Port)), sc.smtp.greylist)
			env["SMTP_PORT"], env["SMTP_TLS"] = strconv.Itoa(g.Port), "none"
			delete(env, "SMTP_CA_FILE")
			delete(env, "SMTP_USERNAME")
			delete(env, "SMTP_PASSWORD")
			return o
		}
		opts := mailpittest.Options{CertFile: cert, KeyFile: key, RequireSTARTTLS: true, Users: []string{"hook:" + canarySMTPPassword}}
		if sc.smtp.refuse {
			opts.AllowedRecipients = `@elsewhere\.example$`
		}
		o.mp = mailpittest.Start(t, opts)
		env["SMTP_PORT"] = strconv.Itoa(o.mp.Port)
	case "commit-status":
		// The app's repoURL, https://git.example.com/team/web.git, mapped to
		// the test forge: GitHub or GitLab as the row says.
		o.forge = forgetest.Start(t, forgetest.Options{GitHubToken: canaryGitHubToken, GitLabToken: canaryGitLabToken})
		o.forge.AddRepo(sc.forge.provider, "team/web", appRevision)
		if sc.forge.faults != nil {
			o.forge.Fail(sc.forge.faults()...)
		}
		if sc.forge.provider == "gitlab" {
			env["COMMIT_STATUS_GITLAB_TOKEN"] = or(sc.forge.token, canaryGitLabToken)
			env["COMMIT_STATUS_GITLAB_HOSTS"] = "git.example.com=" + o.forge.GitLabURL()
		} else {
			env["COMMIT_STATUS_GITHUB_TOKEN"] = or(sc.forge.token, canaryGitHubToken)
			env["COMMIT_STATUS_GITHUB_HOSTS"] = "git.example.com=" + o.forge.GitHubURL()
		}
	case "json-webhook":
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			o.mu.Lock()
			i := o.posts
			o.posts++
			mac := hmac.New(sha256.New, []byte(canaryJSONSecret))
			mac.Write([]byte(r.Header.Get("X-Syncreport-Timestamp") + "."))
			mac.Write(body)
			if !hmac.Equal([]byte("sha256="+hex.EncodeToString(mac.Sum(nil))), []byte(r.Header.Get("X-Syncreport-Signature"))) {
				o.badSig++
			}
			code := sc.hook.always
			if i < len(sc.hook.answers) {
				code = sc.hook.answers[i]
			}
			if code == 0 {
				code = http.StatusNoContent
				o.accepted++
			}
			o.mu.Unlock()
			if sc.hook.retryAfter != "" && code == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", sc.hook.retryAfter)
			}
			if sc.hook.location != "" {
				w.Header().Set("Location", sc.hook.location)
			}
			w.WriteHeader(code)
		}))
		t.Cleanup(srv.Close)
		env["WEBHOOK_URL"], env["WEBHOOK_SECRET"] = srv.URL+canaryJSONPath, canaryJSONSecret
	}
	return o
}
