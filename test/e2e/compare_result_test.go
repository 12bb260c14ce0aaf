//go:build linux

package e2e_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/syncreport/syncreport/test/e2e"
)

// The comparison's output: every message judged, written as JSON.

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
	last := len(stack.Slack.Posts()) + len(stack.Slack.Updates())
	quietSince := time.Now()
	for time.Now().Before(deadline) && time.Since(quietSince) < 5*time.Second {
		time.Sleep(500 * time.Millisecond)
		if n := len(stack.Slack.Posts()) + len(stack.Slack.Updates()); n != last {
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
	for _, m := range stack.Slack.Posts() {
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
