//go:build linux

package e2e_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
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
	for _, m := range stack.Slack.Messages() {
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

// Result types: the JSON hack/comparetable reads (its copy of them must
// match; it rejects unknown fields).
type compareFile struct {
	Run       compareRun        `json:"run"`
	Rule      string            `json:"rule"`
	Scenarios []compareScenario `json:"scenarios"`
}

type compareRun struct {
	Date    string `json:"date"`
	Command string `json:"command"`
	ArgoCD  string `json:"argocd"`
	Catalog string `json:"catalog"`
}

type compareScenario struct {
	Scenario  string            `json:"scenario"`
	Test      string            `json:"test"`
	From      string            `json:"from"`
	Outcome   string            `json:"outcome"`
	Resource  string            `json:"resource,omitempty"`
	Cause     string            `json:"cause,omitempty"`
	Notify    string            `json:"notify,omitempty"`
	Notifiers []compareNotifier `json:"notifiers"`
	order     int
}

type compareNotifier struct {
	Name          string           `json:"name"`
	TopLevel      int              `json:"top_level"`
	Replies       int              `json:"replies"`
	Updates       int              `json:"updates"`
	Messages      []compareMessage `json:"messages"`
	NamesResource *bool            `json:"names_resource,omitempty"`
	NamesCause    *bool            `json:"names_cause,omitempty"`
	Reached       *bool            `json:"reached,omitempty"`
}

type compareMessage struct {
	Kind    string  `json:"kind"` // top-level, reply, update
	Channel string  `json:"channel"`
	After   float64 `json:"after_s"`
	Claim   string  `json:"claim"`
	Trigger string  `json:"trigger,omitempty"`
	Attempt int     `json:"attempt,omitempty"` // syncreport's attempt number
	True    *bool   `json:"true,omitempty"`
	State   string  `json:"state"`
	Summary string  `json:"summary"`
	Text    string  `json:"text"` // all of visibleText, to check the table's judgements by eye
}

const truthRule = "A message's verdict is judged against the last version of the Application the test's watch had " +
	"seen by 0.5 s after the message arrived. \"succeeded\": health Healthy, sync status Synced, " +
	"status.operationState.phase neither Failed nor Error, and no resource or hook of the operation failed (a PostSync " +
	"hook posts while the phase is still Running). \"failed\": the phase is Failed or Error, or health is Degraded, or " +
	"a resource or hook of the operation failed (syncResult status SyncFailed, hookPhase Failed/Error: a SyncFail hook " +
	"posts while the phase is still Running). \"running\" (ACN on-sync-running): the phase is Running. \"degraded\": " +
	"health is Degraded. \"progressing\": the phase is Running or health Progressing."

// finishCompare waits for the notifiers to fall quiet, judges every
// message and writes the comparison. It returns where, or "" when no
// scenario was compared.
func finishCompare() (string, error) {
	compareMu.Lock()
	cs := append([]*comparison(nil), comparisons...)
	compareMu.Unlock()
	if len(cs) == 0 {
		stopWatching()
		return "", nil
	}
	// Quiet: nothing new for 5 s (at most a minute).
	deadline := time.Now().Add(time.Minute)
	last := len(stack.Slack.Messages()) + len(stack.Slack.Updates())
	quietSince := time.Now()
	for time.Now().Before(deadline) && time.Since(quietSince) < 5*time.Second {
		time.Sleep(500 * time.Millisecond)
		if n := len(stack.Slack.Messages()) + len(stack.Slack.Updates()); n != last {
			last, quietSince = n, time.Now()
		}
	}
	stopWatching()

	_, version, _ := strings.Cut(filepath.Base(stack.Tools.ArgoModule), "@")
	command := "cd test/e2e && go test ./... (every scenario)"
	if f := flag.Lookup("test.run"); f != nil && f.Value.String() != "" {
		command = "cd test/e2e && go test -run '" + f.Value.String() + "' ./..."
	}
	out := compareFile{
		Run: compareRun{
			Date:    time.Now().UTC().Format("2006-01-02 15:04 MST"),
			Command: command,
			ArgoCD:  version,
			Catalog: "the release's catalog (notifications_catalog/install.yaml of argo-cd " + version + ", unchanged)",
		},
		Rule: truthRule,
	}
	for _, c := range cs {
		out.Scenarios = append(out.Scenarios, c.result())
	}
	sort.SliceStable(out.Scenarios, func(i, j int) bool { return out.Scenarios[i].order < out.Scenarios[j].order })
	path := os.Getenv(envCompareOut)
	if path == "" {
		path = filepath.Join(stack.Dir, "compare.json")
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return "", err
	}
	return path, os.WriteFile(path, append(b, '\n'), 0o644)
}

func (c *comparison) result() compareScenario {
	c.mu.Lock()
	defer c.mu.Unlock()
	sp := c.spec
	r := compareScenario{Scenario: sp.Scenario, Test: c.test, From: sp.From, Resource: sp.Resource, Cause: sp.Cause, Notify: sp.Notify, order: sp.Order}
	if n := len(c.states); n > 0 {
		r.Outcome = c.states[n-1].String()
	}
	sr := compareNotifier{Name: "syncreport"}
	acn := compareNotifier{Name: "Argo CD Notifications"}
	for _, n := range []*compareNotifier{&sr, &acn} {
		for _, km := range c.messagesOf(n == &sr) {
			claim, trigger, attempt := "", "", 0
			if n == &sr {
				_, claim, attempt = km.m.Report()
			} else {
				claim = "other"
				for _, k := range acnClaims {
					if strings.Contains(km.m.Form.Get("text"), k.re) {
						claim, trigger = k.claim, k.trigger
						break
					}
				}
			}
			cm := c.judge(km.m, km.kind, claim, trigger)
			cm.Attempt = attempt
			n.Messages = append(n.Messages, cm)
		}
	}
	for _, n := range []*compareNotifier{&sr, &acn} {
		sort.SliceStable(n.Messages, func(i, j int) bool { return n.Messages[i].After < n.Messages[j].After })
		var texts []string
		reached := false
		for _, m := range n.Messages {
			switch m.Kind {
			case "top-level":
				n.TopLevel++
			case "reply":
				n.Replies++
			case "update":
				n.Updates++
			}
		}
		for _, km := range c.messagesOf(n == &sr) {
			m := km.m
			t := visibleText(m)
			texts = append(texts, t)
			if sp.Notify != "" && (m.Channel == "D"+strings.TrimPrefix(sp.Notify, "U") || strings.Contains(t, "<@"+sp.Notify+">")) {
				reached = true
			}
		}
		all := strings.Join(texts, "\n")
		if sp.Resource != "" {
			n.NamesResource = boolp(regexp.MustCompile(sp.Resource).MatchString(all))
			n.NamesCause = boolp(regexp.MustCompile(sp.Cause).MatchString(all))
		}
		if sp.Notify != "" {
			n.Reached = boolp(reached)
		}
	}
	r.Notifiers = []compareNotifier{sr, acn}
	return r
}

type kindMessage struct {
	m    e2e.Message
	kind string // top-level, reply, update
}

// messagesOf are the notifier's messages since the start: syncreport's
// posts whose metadata names the app, replies in their threads, and
// updates of either; ACN's posts about the app.
func (c *comparison) messagesOf(syncreport bool) []kindMessage {
	since := c.start.Truncate(time.Second) // a post in the same second as the sync is the sync's
	kind := func(m e2e.Message) string {
		if m.ThreadTS != "" {
			return "reply"
		}
		return "top-level"
	}
	var out []kindMessage
	if !syncreport {
		for _, m := range acnPosts(c.app) {
			if !m.Time.Before(since) {
				out = append(out, kindMessage{m, kind(m)})
			}
		}
		return out
	}
	key := c.appNS + "/" + c.app
	ours := map[string]bool{}
	for _, m := range stack.Slack.Messages() {
		if app, _, _ := m.Report(); !m.IsACN() && !m.Time.Before(since) && (app == key || ours[m.ThreadTS]) {
			ours[m.TS] = true
			out = append(out, kindMessage{m, kind(m)})
		}
	}
	for _, m := range stack.Slack.Updates() {
		if ours[m.ThreadTS] && !m.Time.Before(since) {
			out = append(out, kindMessage{m, "update"})
		}
	}
	return out
}

func (c *comparison) judge(m e2e.Message, kind, claim, trigger string) compareMessage {
	cm := compareMessage{Kind: kind, Channel: m.Channel, After: round1(m.Time.Sub(c.start).Seconds()), Claim: or(claim, "none"), Trigger: trigger}
	if st, ok := c.stateAt(m.Time); ok {
		cm.State = st.String()
		cm.True = claimTrue(claim, st)
	}
	cm.Text = visibleText(m)
	cm.Summary = firstLine(cm.Text)
	return cm
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return clip(s, 90)
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }

func boolp(b bool) *bool { return &b }
