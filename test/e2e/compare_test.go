//go:build linux

package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/syncreport/syncreport/test/e2e"
)

// The side-by-side comparison with Argo CD Notifications (ACN): the
// compared scenarios subscribe their Application to ACN's catalog triggers
// too, and watch it; at the end of the run every message of both notifiers
// is judged against what the Application was when the message arrived, and
// the result is written as JSON (docs/compare.md says how to read it).

// envCompareOut names the file the comparison is written to; without it,
// compare.json in the stack's directory (kept with SYNCREPORT_E2E_KEEP).
const envCompareOut = "SYNCREPORT_E2E_COMPARE_OUT"

// stateGrace is how much later than a message the Application version that
// message is judged against may have been seen: the watch event of a change
// and a notifier's post about it race, and the watch is not what is measured.
const stateGrace = 500 * time.Millisecond

// compareSpec is what a compared scenario expects a useful message to say.
type compareSpec struct {
	Order    int    // place in the table
	Scenario string // what happens, for the table
	From     string // what the seconds are counted from
	Resource string // regexp naming the failing resource; "" when nothing fails
	Cause    string // regexp naming the cause
	Notify   string // Slack member ID of --info notify=, "" for none
}

// comparison is one compared scenario while the run goes on.
type comparison struct {
	spec  compareSpec
	test  string
	appNS string
	app   string

	mu     sync.Mutex
	start  time.Time
	states []appState
}

var (
	compareMu    sync.Mutex
	comparisons  []*comparison
	watchCtx     context.Context
	stopWatching context.CancelFunc
)

func init() { watchCtx, stopWatching = context.WithCancel(context.Background()) }

// compare makes s a compared scenario: ACN runs, the Application gets
// ACN's subscriptions when created, and its states are recorded from now.
// Call it before create, and setStart when the measured sync begins.
func (s *scenario) compare(spec compareSpec) {
	s.t.Helper()
	must(s.t, stack.Notifications(s.ctx))
	c := &comparison{spec: spec, test: s.t.Name(), appNS: s.appNS, app: s.app, start: time.Now()}
	s.cmp = c
	compareMu.Lock()
	comparisons = append(comparisons, c)
	compareMu.Unlock()
	ready := make(chan struct{})
	go c.watch(ready)
	<-ready
}

// setStart marks when the measured sync was asked for.
func (s *scenario) setStart(t0 time.Time) {
	if s.cmp != nil {
		s.cmp.mu.Lock()
		s.cmp.start = t0
		s.cmp.mu.Unlock()
	}
}

// acnMessages waits for at least n ACN messages about the app: proof that
// ACN is wired, not a measurement.
func (s *scenario) acnMessages(n int) {
	s.t.Helper()
	var got int
	if err := pollUntil(s.ctx, func() bool { got = len(acnPosts(s.app)); return got >= n }); err != nil {
		s.t.Fatalf("want %d ACN messages about %s, have %d: %v", n, s.app, got, err)
	}
}

// appState is what the verdicts are judged against.
type appState struct {
	At             time.Time
	Phase          string // status.operationState.phase
	Health         string
	Sync           string // status.sync.status
	StartedAt      string
	FailedResource bool // a syncResult resource SyncFailed, or a hook Failed/Error
}

func (a appState) String() string {
	f := ""
	if a.FailedResource {
		f = ", a resource failed"
	}
	return fmt.Sprintf("operation %s, health %s, %s%s", or(a.Phase, "none"), or(a.Health, "none"), or(a.Sync, "sync unknown"), f)
}

func or(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func stateOf(at time.Time, app *unstructured.Unstructured) appState {
	st := appState{At: at}
	st.Phase, _, _ = unstructured.NestedString(app.Object, "status", "operationState", "phase")
	st.Health, _, _ = unstructured.NestedString(app.Object, "status", "health", "status")
	st.Sync, _, _ = unstructured.NestedString(app.Object, "status", "sync", "status")
	st.StartedAt, _, _ = unstructured.NestedString(app.Object, "status", "operationState", "startedAt")
	rs, _, _ := unstructured.NestedSlice(app.Object, "status", "operationState", "syncResult", "resources")
	for _, r := range rs {
		m, _ := r.(map[string]any)
		if m["status"] == "SyncFailed" || m["hookPhase"] == "Failed" || m["hookPhase"] == "Error" {
			st.FailedResource = true
		}
	}
	return st
}

// watch records every version of the Application until the run ends.
func (c *comparison) watch(ready chan struct{}) {
	apps := stack.Dynamic.Resource(e2e.ApplicationsGVR).Namespace(c.appNS)
	for watchCtx.Err() == nil {
		w, err := apps.Watch(watchCtx, metav1.ListOptions{FieldSelector: "metadata.name=" + c.app})
		if ready != nil {
			close(ready)
			ready = nil
		}
		if err != nil {
			time.Sleep(time.Second)
			continue
		}
		for ev := range w.ResultChan() {
			if u, ok := ev.Object.(*unstructured.Unstructured); ok && ev.Type != watch.Deleted {
				c.mu.Lock()
				c.states = append(c.states, stateOf(time.Now(), u))
				c.mu.Unlock()
			}
		}
		w.Stop()
	}
}

// stateAt is the last version seen by t+stateGrace.
func (c *comparison) stateAt(t time.Time) (appState, bool) {
	var last appState
	ok := false
	for _, s := range c.states {
		if s.At.After(t.Add(stateGrace)) {
			break
		}
		last, ok = s, true
	}
	return last, ok
}

// claimTrue says whether a claim held in st: succeeded when the app is
// Healthy and Synced and the operation neither failed nor has a failed
// resource or hook (a PostSync hook posts while the phase is still
// Running); failed when the operation Failed or
// Errored, or the app is Degraded, or a resource or hook of the operation
// failed (a SyncFail hook posts while the phase is still Running);
// running when the operation is Running; degraded when the app is
// Degraded; progressing when the operation is Running or the app
// Progressing. Other claims ("unknown") are not verdicts: nil.
func claimTrue(claim string, st appState) *bool {
	var v bool
	switch claim {
	case "succeeded":
		v = st.Health == "Healthy" && st.Sync == "Synced" && !st.FailedResource && st.Phase != "Failed" && st.Phase != "Error"
	case "failed":
		v = st.Phase == "Failed" || st.Phase == "Error" || st.Health == "Degraded" || st.FailedResource
	case "running":
		v = st.Phase == "Running"
	case "degraded":
		v = st.Health == "Degraded"
	case "progressing":
		v = st.Phase == "Running" || st.Health == "Progressing"
	default:
		return nil
	}
	return &v
}

// acnClaims maps the first words of the catalog's Slack messages (the
// templates' message lines) to the claim and the trigger that sends them.
var acnClaims = []struct{ re, claim, trigger string }{
	{`has been successfully synced`, "succeeded", "on-sync-succeeded"},
	{`is now running new version`, "succeeded", "on-deployed"},
	{`has failed`, "failed", "on-sync-failed"},
	{`has started`, "running", "on-sync-running"},
	{`has degraded`, "degraded", "on-health-degraded"},
}

// acnPosts are ACN's messages about app: the catalog's attachments carry
// the app name as their title.
func acnPosts(app string) []e2e.Message {
	var out []e2e.Message
	for _, m := range stack.Slack.Posts() {
		if !m.IsACN() {
			continue
		}
		var att []map[string]any
		_ = json.Unmarshal([]byte(m.Form.Get("attachments")), &att)
		if len(att) > 0 && att[0]["title"] == app {
			out = append(out, m)
		}
	}
	return out
}

// visibleText is what a reader sees of a message: syncreport's JSON body
// as the other scenarios read it (text, blocks, fields, links); of
// slack-go's forms (ACN) the text and every string of the attachments and
// blocks (titles, field values).
func visibleText(m e2e.Message) string {
	if m.Body != nil {
		return m.AllText()
	}
	var b strings.Builder
	b.WriteString(m.Form.Get("text") + "\n")
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			b.WriteString(v + "\n")
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any:
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if k != "color" {
					walk(v[k])
				}
			}
		}
	}
	for _, k := range []string{"attachments", "blocks"} {
		var v any
		if json.Unmarshal([]byte(m.Form.Get(k)), &v) == nil {
			walk(v)
		}
	}
	return b.String()
}
