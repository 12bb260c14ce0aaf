package faults_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/syncreport/syncreport/internal/argocd"
	"github.com/syncreport/syncreport/internal/slacktest"
)

// liveEnv is the environment of a hook run with RETRY_NOTIFY=update (the
// default) posting to channelID.
func liveEnv(t testing.TB, s *slacktest.Server, app string) map[string]string {
	proxy := startProxy(t, kubeFault{}, app)
	return map[string]string{
		"ARGOCD_APP_NAME": app, "ARGOCD_NAMESPACE": appNS,
		"SLACK_TOKEN": canaryToken, "SLACK_CHANNEL": channelID, "SLACK_API_URL": s.URL(),
		"HOOK_TIMEOUT": "20s", "SLACK_ATTEMPT_TIMEOUT": attemptTimeout, "LOG_LEVEL": "debug",
		"KUBECONFIG": kubeconfig(t, proxy.addr, saReader),
	}
}

// replaceApp swaps the Application's status for a fixture's (the same
// operation, a later attempt).
func replaceApp(t *testing.T, name, file string) {
	t.Helper()
	err := cluster.Dynamic.Resource(argocd.ApplicationsGVR).Namespace(appNS).Delete(context.Background(), name, metav1.DeleteOptions{})
	must(t, err)
	createAppFrom(t, name, file)
}

// TestLiveMessage runs the hook binary for three attempts of one retrying
// sync: one message, updated to the final failure, with a reply per
// attempt, the last broadcast.
func TestLiveMessage(t *testing.T) {
	const app = "live-retries"
	createAppFrom(t, app, "first-attempt.yaml")
	s := slacktest.Start(t)
	s.SetValidToken(canaryToken)
	for i, file := range []string{"first-attempt.yaml", "retrying.yaml", "final-attempt.yaml"} {
		if i > 0 {
			replaceApp(t, app, file)
		}
		res := runHook(t, liveEnv(t, s, app))
		if res.exit != 0 || strings.Contains(res.stderr, canary) || strings.Contains(res.stderr, `"level":"WARN"`) {
			t.Fatalf("%s: exit %d\n%s", file, res.exit, scrub(res.stderr))
		}
	}
	top := s.TopLevel(channelID)
	if len(top) != 1 {
		t.Fatalf("%d top-level messages, want 1", len(top))
	}
	if !strings.Contains(top[0].Text, "live-retries sync failed after 6 attempts") || top[0].Edits != 2 {
		t.Errorf("message after %d edits reads %q", top[0].Edits, top[0].Text)
	}
	replies := s.Thread(channelID, top[0].TS)
	if len(replies) != 3 {
		t.Fatalf("%d replies, want 3", len(replies))
	}
	for i, want := range []string{"attempt 1 of 6", "attempt 3 of 6", "attempt 6 of 6"} {
		if !strings.Contains(replies[i].Text, want) || replies[i].Broadcast != (i == 2) {
			t.Errorf("reply %d: %q broadcast %v", i+1, replies[i].Text, replies[i].Broadcast)
		}
	}
}

// TestLiveFallbacks: the fault-matrix rows of the live message. A first
// run posts the sync's message; the second meets the fault and must post a
// new message with its reply, exit 0, and warn once naming the cause.
func TestLiveFallbacks(t *testing.T) {
	rows := []struct {
		name, cause string
		fault       func(s *slacktest.Server)
	}{
		{"history-missing-scope", "missing_scope", func(s *slacktest.Server) {
			s.Always(slacktest.EndpointHistory, slacktest.MissingScope("channels:history"))
		}},
		{"history-ratelimited", "ratelimited", func(s *slacktest.Server) {
			s.Always(slacktest.EndpointHistory, slacktest.Fault{RetryAfter: 60})
		}},
		{"message-deleted", "message_not_found", func(s *slacktest.Server) {
			s.Always(slacktest.EndpointUpdate, slacktest.Fault{OKFalse: "message_not_found"})
		}},
		{"cant-update-message", "cant_update_message", func(s *slacktest.Server) {
			s.Always(slacktest.EndpointUpdate, slacktest.Fault{OKFalse: "cant_update_message"})
		}},
		{"edit-window-closed", "edit_window_closed", func(s *slacktest.Server) {
			s.SetEditWindow(time.Nanosecond)
		}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			app := "live-" + row.name
			createAppFrom(t, app, "first-attempt.yaml")
			s := slacktest.Start(t)
			s.SetValidToken(canaryToken)
			if res := runHook(t, liveEnv(t, s, app)); res.exit != 0 {
				t.Fatalf("first run: exit %d\n%s", res.exit, scrub(res.stderr))
			}
			row.fault(s)
			replaceApp(t, app, "retrying.yaml")
			start := time.Now()
			res := runHook(t, liveEnv(t, s, app))
			if strings.Contains(res.stdout+res.stderr, canary) {
				t.Errorf("a canary secret leaked")
			}
			lines := parseLog(res.stderr)
			warn := 0
			for _, l := range lines {
				if l.level == "WARN" {
					warn++
				}
			}
			top := s.TopLevel(channelID)
			if res.exit != 0 || len(top) != 2 || warn != 1 || !strings.Contains(visible(lines), row.cause) {
				t.Fatalf("exit %d, %d top-level messages, %d warnings (want 0, 2, 1 naming %s)\n%s",
					res.exit, len(top), warn, row.cause, scrub(res.stderr))
			}
			if !strings.Contains(top[1].Text, "attempt 3 of 6") || len(s.Thread(channelID, top[1].TS)) != 1 {
				t.Errorf("new message %q with %d replies", top[1].Text, len(s.Thread(channelID, top[1].TS)))
			}
			t.Logf("%s: new message with one warning in %s", row.name, time.Since(start).Round(time.Millisecond))
		})
	}
}

// BenchmarkLiveFanIn: a shared base changes and 50 apps report to one
// channel at once, against Slack's one chat.postMessage a second per
// channel (no burst). Each of the 50 hook processes, started within a
// second, must post its app's message exactly once before HOOK_TIMEOUT
// (2m, the default). Reports delivered, duplicates and the last hook's
// wall time. SYNCREPORT_BENCH=1 (make bench).
func BenchmarkLiveFanIn(b *testing.B) {
	if os.Getenv("SYNCREPORT_BENCH") == "" {
		b.Skip("SYNCREPORT_BENCH=1 runs it (make bench)")
	}
	const apps = 50
	// A success is one post per app; SYNCREPORT_FANIN_FIXTURE=
	// syncfail-degraded.yaml measures failures: the message and its reply.
	fixture := or(os.Getenv("SYNCREPORT_FANIN_FIXTURE"), "postsync-healthy.yaml")
	for n := range b.N {
		s := slacktest.Start(b)
		s.SetValidToken(canaryToken)
		s.LimitPosts(1, 1)
		envs := make([]map[string]string, apps)
		for i := range apps {
			name := fmt.Sprintf("fanin-%d-%02d", n, i)
			createAppFrom(b, name, fixture)
			envs[i] = liveEnv(b, s, name)
			envs[i]["HOOK_TIMEOUT"] = "2m"
		}
		results := make([]result, apps)
		var wg sync.WaitGroup
		start := time.Now()
		for i := range apps {
			wg.Go(func() { results[i] = runHook(b, envs[i]) })
		}
		wg.Wait()
		last := time.Since(start)
		perApp := map[string]int{}
		for _, p := range s.TopLevel(channelID) {
			app, _ := p.MetadataPayload()["app"].(string)
			perApp[app]++
		}
		failed, dup := 0, 0
		for i := range apps {
			if results[i].exit != 0 {
				if failed == 0 {
					b.Logf("hook %d: exit %d\n%s", i, results[i].exit, scrub(results[i].stderr))
				}
				failed++
			}
			switch c := perApp[fmt.Sprintf("%s/fanin-%d-%02d", appNS, n, i)]; {
			case c > 1:
				dup += c - 1
			}
		}
		posts := len(s.RequestsTo(slacktest.EndpointPostMessage))
		b.ReportMetric(float64(len(perApp)), "delivered")
		b.ReportMetric(float64(dup), "duplicates")
		b.ReportMetric(last.Seconds(), "s-last")
		b.ReportMetric(float64(posts-len(s.Posts())), "posts-429")
		if len(perApp) != apps || dup != 0 || failed != 0 {
			b.Errorf("%d of %d apps delivered, %d duplicates, %d hooks failed", len(perApp), apps, dup, failed)
		}
		if strings.Contains(results[apps-1].stderr, canary) {
			b.Error("a canary secret leaked")
		}
	}
}
