//go:build linux

package e2e_test

import (
	"strings"
	"testing"
)

// What the compared scenarios' seconds are counted from.
const (
	fromSync   = "argocd app sync"
	fromCreate = "Application created (automated sync; the Git push just before)"
)

// What a useful failure message names: the failing resource and the cause
// (docs/compare.md).
const (
	deploymentWeb   = `(?i)deployment[^\n]{0,40}\bweb\b`
	causeBadImage   = `ImagePullBackOff|ErrImagePull`
	causeCrashLoop  = `CrashLoopBackOff|[Bb]ack-off restarting failed container`
	causeHookFailed = `(?i)backoff ?limit|exit(ed)? (with )?(code|status) 1`
	causeStuck      = `(?i)unschedulable|didn't match Pod's node affinity/selector`
)

// Scenario 3b: the crash loop of scenario 3 without the gate: nothing fails
// the sync until the Deployment's progress deadline (15 s here, 600 s by
// default), when Argo CD calls it Degraded and fails the sync.
func TestCrashLoopWithoutGate(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "s3b-crashloop", "", nil)
	s.compare(compareSpec{Order: 4, Scenario: "crash loop, no gate (progress deadline 15 s)", From: fromSync, Resource: deploymentWeb, Cause: causeCrashLoop})
	s.commit("web 1.2.0 crashes", map[string]string{"web.yaml": deployment("web", "registry.e2e.test/web:1.2.0", "crashloop", 15)})
	s.create(nil)
	t0 := s.sync()
	s.setStart(t0)
	app := s.waitFinished(t0)
	wantOperation(t, app, "Failed", "Degraded")
	msgs := s.messages(1)
	t.Logf("sync → report %.1fs", msgs[0].Time.Sub(t0).Seconds())
	wantReport(t, msgs[0], "failed", 1, "s3b-crashloop sync failed", "Deployment", "web")
	s.logShapes()
}

// Scenario 11: stuck Progressing: the pods can never be scheduled (a node
// selector no node matches), so the Deployment stays Progressing until its
// progress deadline (20 s here, 600 s by default), then Degraded.
func TestStuckProgressing(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "s11-stuck", "", nil)
	s.compare(compareSpec{Order: 8, Scenario: "stuck Progressing (pods unschedulable, deadline 20 s)", From: fromSync, Resource: deploymentWeb, Cause: causeStuck})
	web := strings.Replace(deployment("web", "registry.e2e.test/web:1.0.0", "", 20),
		"    spec:\n      containers:", "    spec:\n      nodeSelector:\n        e2e.syncreport.dev/no-such-node: \"true\"\n      containers:", 1)
	s.commit("web 1.0.0 on a node that does not exist", map[string]string{"web.yaml": web})
	s.create(nil)
	t0 := s.sync()
	s.setStart(t0)
	app := s.waitFinished(t0)
	wantOperation(t, app, "Failed", "Degraded")
	msgs := s.messages(1)
	t.Logf("sync → report %.1fs", msgs[0].Time.Sub(t0).Seconds())
	wantReport(t, msgs[0], "failed", 1, "s11-stuck sync failed", "Deployment", "web")
	s.logShapes()
}
