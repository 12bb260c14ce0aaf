package apiserver_test

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/syncreport/syncreport/internal/argocd"

	"github.com/syncreport/syncreport/internal/slacktest"
)

// onePost asserts the hook exited 0 and Slack received exactly one message
// containing every want string (in the text or the blocks).
func onePost(t *testing.T, r result, s *slacktest.Server, want ...string) slacktest.Post {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d, want 0", r.code)
	}
	posts := s.Posts()
	if len(posts) != 1 {
		t.Fatalf("Slack received %d messages; want exactly 1", len(posts))
	}
	p := posts[0]
	all := p.Text + blocks(p)
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("message lacks %q:\ntext: %s\nblocks: %s", w, p.Text, p.Blocks)
		}
	}
	return p
}

func TestPostSyncSucceeded(t *testing.T) {
	s := slacktest.Start(t)
	dest, kc := stage(t, scenario{fixture: "postsync-healthy", app: "web-ok", appNS: "argocd", hookJob: "syncreport-postsync"})
	r := runHook(t, dest, kc, slackEnv(s))
	p := onePost(t, r, s, "web-ok synced and healthy", "alice@example.com", "4f2a1c9",
		"https://argocd.example.com/applications/argocd/web-ok?operation=true", "pipelines/4711")
	if p.Channel != "#deploys" {
		t.Errorf("channel %q", p.Channel)
	}
	if !strings.Contains(r.stderr, `"via":"tracking-id annotation"`) {
		t.Errorf("log does not say how the app was found")
	}
}

// TestPostSyncWaitsForItsEntry: a PostSync hook that reads the Application
// before Argo CD saved its own syncResult entry waits for it, and posts the
// success instead of a muted "progressing".
func TestPostSyncWaitsForItsEntry(t *testing.T) {
	s := slacktest.Start(t)
	sc := scenario{fixture: "postsync-healthy", app: "web-early", appNS: "argocd", hookJob: "syncreport-postsync", hook: "PostSync"}
	dest, kc := stage(t, sc)
	// Take the own entry out now and put it back 2 s into the run.
	var own any
	apps := cluster.Dynamic.Resource(argocd.ApplicationsGVR).Namespace(sc.appNS)
	u, err := apps.Get(context.Background(), sc.app, metav1.GetOptions{})
	must(t, err)
	rs, _, _ := unstructured.NestedSlice(u.Object, "status", "operationState", "syncResult", "resources")
	own, rs = rs[len(rs)-1], rs[:len(rs)-1]
	must(t, unstructured.SetNestedSlice(u.Object, rs, "status", "operationState", "syncResult", "resources"))
	_, err = apps.Update(context.Background(), u, metav1.UpdateOptions{})
	must(t, err)
	later(t, 2*time.Second, sc, func(rs []any) { rs[len(rs)-1] = own })
	r := runHook(t, dest, kc, slackEnv(s))
	onePost(t, r, s, "web-early synced and healthy")
	if !strings.Contains(r.stderr, "has not recorded this hook") {
		t.Error("the wait is not logged")
	}
}

// TestPostSyncWaitsForSibling: a smoke test in the same PostSync wave is
// still running when the report starts, and fails: the report says failed,
// never "synced and healthy" first.
func TestPostSyncWaitsForSibling(t *testing.T) {
	s := slacktest.Start(t)
	sc := scenario{fixture: "postsync-sibling-running", app: "web-smoke", appNS: "argocd", hookJob: "syncreport-postsync", hook: "PostSync"}
	dest, kc := stage(t, sc)
	later(t, 2*time.Second, sc, func(rs []any) {
		for _, e := range rs {
			if m := e.(map[string]any); m["name"] == "smoke-test" {
				m["hookPhase"], m["message"] = "Failed", "Job has reached the specified backoff limit"
			}
		}
	})
	r := runHook(t, dest, kc, slackEnv(s))
	p := onePost(t, r, s, "web-smoke sync failed", "smoke-test", "backoff limit")
	if strings.Contains(p.Text+blocks(p), "synced and healthy") {
		t.Error("a success was posted before the smoke test ended")
	}
}

func TestSyncFailDegraded(t *testing.T) {
	s := slacktest.Start(t)
	dest, kc := stage(t, scenario{fixture: "syncfail-degraded", app: "web-bad", appNS: "argocd", hookJob: "syncreport-syncfail"})
	r := runHook(t, dest, kc, slackEnv(s))
	onePost(t, r, s, "web-bad sync failed", "Deployment "+dest+"/web", "exceeded its progress deadline", ":x:")
}

// TestPreSyncFailedAppInAnyNamespace: a failed PreSync hook, for an app
// outside the Argo CD namespace (tracking id "<ns>_<name>").
func TestPreSyncFailedAppInAnyNamespace(t *testing.T) {
	s := slacktest.Start(t)
	dest, kc := stage(t, scenario{fixture: "presync-failed", app: "api", appNS: "team-a", hookJob: "syncreport-syncfail"})
	r := runHook(t, dest, kc, slackEnv(s))
	onePost(t, r, s, "api sync failed", "db-migrate (PreSync hook)", "backoff limit", "team-a/api")
}

// TestRetryNotifyFirst: with RETRY_NOTIFY=first, or update (the default)
// to a channel given by name, which cannot be a live message, the first
// failed attempt and the final one are posted; the ones between are not.
func TestRetryNotifyFirst(t *testing.T) {
	for _, tt := range []struct {
		fixture string
		posts   int
		want    string
	}{
		{"first-attempt", 1, "attempt 1 of 6, Argo CD will retry"},
		{"retrying", 0, ""},
		{"final-attempt", 1, "sync failed after 6 attempts"},
	} {
		t.Run(tt.fixture, func(t *testing.T) {
			s := slacktest.Start(t)
			dest, kc := stage(t, scenario{fixture: tt.fixture, app: "auto-" + tt.fixture, appNS: "argocd", hookJob: "syncreport-syncfail"})
			r := runHook(t, dest, kc, slackEnv(s))
			if r.code != 0 {
				t.Fatalf("exit %d", r.code)
			}
			posts := s.Posts()
			if len(posts) != tt.posts {
				t.Fatalf("%d posts; want %d", len(posts), tt.posts)
			}
			if tt.posts == 1 && !strings.Contains(posts[0].Text+blocks(posts[0]), tt.want) {
				t.Errorf("post lacks %q: %s", tt.want, posts[0].Blocks)
			}
			if tt.posts == 0 && !strings.Contains(r.stderr, "RETRY_NOTIFY") {
				t.Errorf("silence is not explained in the log")
			}
		})
	}
}

func TestWebhookTransport(t *testing.T) {
	s := slacktest.Start(t)
	dest, kc := stage(t, scenario{fixture: "syncfail-degraded", app: "web-hook", appNS: "argocd", hookJob: "syncreport-syncfail"})
	r := runHook(t, dest, kc, map[string]string{"SLACK_WEBHOOK_URL": s.WebhookURL(), "SLACK_API_URL": s.URL()})
	p := onePost(t, r, s, "web-hook sync failed")
	if p.Endpoint != slacktest.EndpointWebhook {
		t.Errorf("delivered through %s", p.Endpoint)
	}
	if strings.Contains(r.stderr, "XXXXXXXX") {
		t.Errorf("webhook URL leaked into the log")
	}
}

func TestForbidden(t *testing.T) {
	s := slacktest.Start(t)
	dest, kc := stage(t, scenario{fixture: "postsync-healthy", app: "web-forbidden", appNS: "argocd", hookJob: "syncreport-postsync", noRBAC: true})
	r := runHook(t, dest, kc, slackEnv(s))
	if r.code != 3 {
		t.Fatalf("exit %d; want 3", r.code)
	}
	for _, w := range []string{`forbidden: grant verb "get" on applications.argoproj.io in namespace "argocd"`, "system:serviceaccount:" + dest + ":syncreport"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks %q", w)
		}
	}
	if len(s.Posts()) != 0 {
		t.Error("posted although the app was unreadable")
	}
}

func TestNotFound(t *testing.T) {
	s := slacktest.Start(t)
	dest, kc := stage(t, scenario{fixture: "postsync-healthy", app: "web-present", appNS: "argocd", hookJob: "syncreport-postsync", trackingApp: "web-absent",
		readable: []string{"web-present", "web-absent"}})
	r := runHook(t, dest, kc, slackEnv(s))
	if r.code != 3 {
		t.Fatalf("exit %d; want 3", r.code)
	}
	if !strings.Contains(r.stderr, `applications argocd/web-absent not found in namespace "argocd"`) {
		t.Errorf("stderr lacks the not-found message")
	}
}

// TestSlackOutage: a notifier outage never fails the sync unless the user
// opted in with FAIL_ON_DELIVERY_ERROR.
func TestSlackOutage(t *testing.T) {
	for _, tt := range []struct {
		failOn string
		code   int
	}{{"false", 0}, {"true", 4}} {
		t.Run("FAIL_ON_DELIVERY_ERROR="+tt.failOn, func(t *testing.T) {
			s := slacktest.Start(t)
			s.Always(slacktest.EndpointPostMessage, slacktest.Fault{Status: 503})
			dest, kc := stage(t, scenario{fixture: "syncfail-degraded", app: "web-outage-" + tt.failOn, appNS: "argocd", hookJob: "syncreport-syncfail"})
			env := slackEnv(s)
			env["HOOK_TIMEOUT"] = "4s"
			env["FAIL_ON_DELIVERY_ERROR"] = tt.failOn
			r := runHook(t, dest, kc, env)
			if r.code != tt.code {
				t.Fatalf("exit %d; want %d", r.code, tt.code)
			}
			if !strings.Contains(r.stderr, "report not delivered") || len(s.RequestsTo(slacktest.EndpointPostMessage)) < 2 {
				t.Errorf("want retries and a loud log line")
			}
		})
	}
}

// TestSecretsNeverLogged: a canary token rejected by Slack must not appear
// in anything the hook prints.
func TestSecretsNeverLogged(t *testing.T) {
	s := slacktest.Start(t)
	dest, kc := stage(t, scenario{fixture: "syncfail-degraded", app: "web-canary", appNS: "argocd", hookJob: "syncreport-syncfail"})
	env := slackEnv(s)
	env["SLACK_TOKEN"] = "xoxb-CANARY-1234567890"
	env["LOG_LEVEL"] = "debug"
	r := runHook(t, dest, kc, env)
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	if !strings.Contains(r.stderr, "invalid_auth") {
		t.Errorf("the cause is not logged")
	}
	if strings.Contains(r.stderr+r.stdout, "CANARY") {
		t.Errorf("the token leaked")
	}
}

// TestRecipients: the pipeline's --info notify, the SSO user and the app's
// annotations become mentions, extra channels and DMs; an unknown email
// stays plain text.
func TestRecipients(t *testing.T) {
	s := slacktest.Start(t)
	s.SetUsers(map[string]string{"alice@example.com": "UALICE001", "oncall@example.com": "UONCALL01"})
	// The first lookup is rate limited: it is retried after Retry-After.
	s.Fail(slacktest.EndpointLookupByEmail, slacktest.Fault{Status: 429, RetryAfter: 1})
	dest, kc := stage(t, scenario{fixture: "syncfail-degraded", app: "web-people", appNS: "argocd", hookJob: "syncreport-syncfail",
		annotations: map[string]string{
			"syncreport.dev/notify":           "ghost@example.com",
			"syncreport.dev/notify.failed":    "oncall@example.com,#incidents",
			"syncreport.dev/notify.succeeded": "#wins",
		}})
	env := slackEnv(s)
	env["SLACK_DM"] = "true"
	r := runHook(t, dest, kc, env)
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	// The DM is by ID: a live message, with this failure in its thread.
	byChannel := map[string]slacktest.Post{}
	top := 0
	for _, p := range s.Posts() {
		if p.ThreadTS != "" {
			continue
		}
		top++
		byChannel[p.Channel] = p
	}
	for _, ch := range []string{"#incidents", "#deploys", "DONCALL01"} {
		p, ok := byChannel[ch]
		if !ok {
			t.Errorf("nothing posted to %s; posts: %v", ch, keys(byChannel))
			continue
		}
		if !strings.Contains(blocks(p), "<@UONCALL01>") || !strings.Contains(blocks(p), "ghost@example.com") {
			t.Errorf("%s: mentions missing: %s", ch, p.Blocks)
		}
	}
	if dm, ok := byChannel["DONCALL01"]; ok && len(s.Thread(dm.ChannelID, dm.TS)) != 1 {
		t.Errorf("the DM's thread has %d replies, want the report's", len(s.Thread(dm.ChannelID, dm.TS)))
	}
	if len(byChannel) != 3 || top != 3 {
		t.Errorf("posts to %v; want #incidents, #deploys and one DM (bob is not an email, ghost is unknown)", keys(byChannel))
	}
	if !strings.Contains(r.stderr, "recipient stays plain text") {
		t.Error("unknown email not logged")
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
