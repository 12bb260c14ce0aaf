package gate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	clienttesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/syncreport/syncreport/internal/argocd"
)

// The tests below run Gate.Run on a fake dynamic client and a fake clock:
// they cover the wiring (watches feeding the judge, grace periods and the
// timeout firing without any event). test/gate runs the built binary on a
// real API server.

func unstructuredOf(t *testing.T, apiVersion, kind string, obj any) *unstructured.Unstructured {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	return u
}

// liveRollout is the fixture's world on a fake API server.
func liveRollout(t *testing.T, f *fixture) *dynamicfake.FakeDynamicClient {
	sp := f.st.space(ns)
	objs := []runtime.Object{unstructuredOf(t, "apps/v1", "Deployment", sp.deployments["web"])}
	for _, rs := range sp.replicaSets {
		objs = append(objs, unstructuredOf(t, "apps/v1", "ReplicaSet", rs))
	}
	for _, p := range sp.pods {
		objs = append(objs, unstructuredOf(t, "v1", "Pod", p))
	}
	lists := map[schema.GroupVersionResource]string{}
	for _, k := range []*kind{kDeployment, kStatefulSet, kDaemonSet, kReplicaSet, kJob, kPod, kEvent} {
		lists[k.gvr] = k.name + "List"
	}
	return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), lists, objs...)
}

type run struct {
	res Result
	err error
}

func startRun(t *testing.T, f *fixture, dyn *dynamicfake.FakeDynamicClient, clk *clocktesting.FakeClock, deadline ...time.Time) chan run {
	t.Helper()
	var d time.Time
	if len(deadline) > 0 {
		d = deadline[0]
	}
	g, err := New(Options{
		Client: dyn, Self: self, Thresholds: testThresholds, Clock: clk, Deadline: d,
		App: func(context.Context) (*argocd.Application, error) { return f.app, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	done := make(chan run, 1)
	go func() {
		res, err := g.Run(ctx)
		done <- run{res, err}
	}()
	return done
}

// stepUntil moves the fake clock by step until Run returns.
func stepUntil(t *testing.T, clk *clocktesting.FakeClock, step time.Duration, done chan run) run {
	t.Helper()
	for range 100 {
		select {
		case r := <-done:
			return r
		case <-time.After(20 * time.Millisecond):
			clk.Step(step)
		}
	}
	t.Fatal("Run did not return")
	return run{}
}

func TestRunHealthy(t *testing.T) {
	f := newFixture(t)
	f.pod("web-2-x", "web-2", running(true))
	f.available()
	clk := clocktesting.NewFakeClock(t0)
	r := stepUntil(t, clk, 0, startRun(t, f, liveRollout(t, f), clk))
	if r.err != nil || !r.res.Healthy || len(r.res.Watched) != 1 {
		t.Fatalf("got %+v, %v", r.res, r.err)
	}
}

// TestRunGraceTimer: an image pull failure fails the rollout when its grace
// ends, with no other event to wake the gate.
func TestRunGraceTimer(t *testing.T) {
	f := newFixture(t)
	f.pod("web-2-x", "web-2", waitingIn("ImagePullBackOff", `Back-off pulling image "ghcr.io/acme/web:v2"`))
	clk := clocktesting.NewFakeClock(t0)
	r := stepUntil(t, clk, 10*time.Second, startRun(t, f, liveRollout(t, f), clk))
	if r.err != nil || r.res.Healthy || r.res.TimedOut || !strings.Contains(r.res.Cause, "ImagePullBackOff") {
		t.Fatalf("got %+v, %v", r.res, r.err)
	}
}

// TestRunWatch: a status write reaches the judge through the watch.
func TestRunWatch(t *testing.T) {
	f := newFixture(t)
	dyn := liveRollout(t, f)
	clk := clocktesting.NewFakeClock(t0)
	done := startRun(t, f, dyn, clk)
	p := *f.st.space(ns).pods["web-2-x"]
	p.Status = crashed(2, true)
	u := unstructuredOf(t, "v1", "Pod", &p)
	// Once the gate watches pods, the write can only reach it as an event.
	for !watching(dyn, "pods") {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // the fake records the watch just before it starts it
	if _, err := dyn.Resource(kPod.gvr).Namespace(ns).UpdateStatus(context.Background(), u, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.err != nil || !strings.HasPrefix(r.res.Cause, `Deployment web: pod web-2-x: container "app" CrashLoopBackOff, exit code 1 (2 restarts)`) {
			t.Fatalf("got %+v, %v", r.res, r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the gate did not act on the watched change")
	}
}

func watching(dyn *dynamicfake.FakeDynamicClient, resource string) bool {
	for _, a := range dyn.Actions() {
		if a.GetVerb() == "watch" && a.GetResource().Resource == resource {
			return true
		}
	}
	return false
}

// TestRunTimeout: a rollout that never ends fails at the timeout with what
// it waits for.
func TestRunTimeout(t *testing.T) {
	f := newFixture(t)
	clk := clocktesting.NewFakeClock(t0)
	r := stepUntil(t, clk, time.Minute, startRun(t, f, liveRollout(t, f), clk))
	if r.err != nil || !r.res.TimedOut || r.res.Cause != "not healthy after 10m0s: Deployment web: 0/1 new pods ready; Waiting for rollout to finish: 0 of 1 updated replicas are available..." {
		t.Fatalf("got %+v, %v", r.res, r.err)
	}
}

// TestRunJobDeadline: a gate Job whose activeDeadlineSeconds ends before
// GATE_TIMEOUT would be killed with no cause written; the gate ends its
// watch first, leaving time to mark and write, and says why.
func TestRunJobDeadline(t *testing.T) {
	f := newFixture(t)
	clk := clocktesting.NewFakeClock(t0)
	r := stepUntil(t, clk, 10*time.Second, startRun(t, f, liveRollout(t, f), clk, t0.Add(5*time.Minute)))
	want := fmt.Sprintf("not healthy after %s (the gate Job's activeDeadlineSeconds", 5*time.Minute-finishReserve)
	if r.err != nil || !r.res.TimedOut || !strings.HasPrefix(r.res.Cause, want) {
		t.Fatalf("got %+v, %v; want a cause starting %q", r.res, r.err, want)
	}
	if end := t0.Add(r.res.Elapsed); end.After(t0.Add(5*time.Minute - finishReserve)) {
		t.Fatalf("ended at %s, after the deadline less %s", end, finishReserve)
	}
}

// TestJobDeadline: the defaults of the shipped manifests (HOOK_TIMEOUT 2m,
// GATE_TIMEOUT 10m) need 15 minutes.
func TestJobDeadline(t *testing.T) {
	if got := JobDeadline(2*time.Minute, 10*time.Minute); got != 15*time.Minute {
		t.Fatalf("JobDeadline = %s", got)
	}
}

func TestRunAppUnreadable(t *testing.T) {
	g, err := New(Options{
		Client: dynamicfake.NewSimpleDynamicClient(runtime.NewScheme()), Thresholds: testThresholds,
		App: func(context.Context) (*argocd.Application, error) {
			return nil, errors.New("applications.argoproj.io \"web\" is forbidden")
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Run(context.Background()); !errors.Is(err, ErrApplication) {
		t.Fatalf("err %v, want ErrApplication", err)
	}
}

func TestNewValidates(t *testing.T) {
	app := func(context.Context) (*argocd.Application, error) { return nil, nil }
	dyn := dynamicfake.NewSimpleDynamicClient(runtime.NewScheme())
	for _, o := range []Options{
		{App: app, Thresholds: testThresholds},
		{Client: dyn, Thresholds: testThresholds},
		{Client: dyn, App: app, Thresholds: Thresholds{Restarts: 0, Timeout: time.Minute}},
		{Client: dyn, App: app, Thresholds: Thresholds{Restarts: 2}},
		{Client: dyn, App: app, Thresholds: Thresholds{Restarts: 2, Timeout: time.Minute, ImagePullGrace: -1}},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}

// TestStoreBounds: a shared namespace's Warning events are kept up to
// maxEvents, newest first, and only those about what the gate judges; a
// ready pod is kept as a small record.
func TestStoreBounds(t *testing.T) {
	st := newStore()
	for i := range maxEvents + 100 {
		e := map[string]any{"apiVersion": "v1", "kind": "Event", "type": "Warning", "reason": "BackOff",
			"metadata":       map[string]any{"name": fmt.Sprintf("e%04d", i), "namespace": ns},
			"involvedObject": map[string]any{"kind": "Pod", "name": fmt.Sprintf("p%04d", i)},
			"lastTimestamp":  t0.Add(time.Duration(i) * time.Second).Format(time.RFC3339)}
		if err := st.put(kEvent, ns, fmt.Sprintf("e%04d", i), &unstructured.Unstructured{Object: e}); err != nil {
			t.Fatal(err)
		}
	}
	cm := map[string]any{"metadata": map[string]any{"name": "cm"}, "involvedObject": map[string]any{"kind": "ConfigMap", "name": "x"}}
	_ = st.put(kEvent, ns, "cm", &unstructured.Unstructured{Object: cm})
	sp := st.space(ns)
	if len(sp.events) != maxEvents || sp.events["e0099"] != nil || sp.events[fmt.Sprintf("e%04d", maxEvents+99)] == nil || sp.events["cm"] != nil {
		t.Fatalf("%d events kept; oldest e0099 kept %v, ConfigMap's kept %v", len(sp.events), sp.events["e0099"] != nil, sp.events["cm"] != nil)
	}
}

// TestRunPanicIsInternal: a panic in a watch loop or in the Application
// poller (goroutines that run's recover does not see) ends Run with
// ErrInternal instead of killing the process with the runtime's exit 2.
func TestRunPanicIsInternal(t *testing.T) {
	t.Run("watch loop", func(t *testing.T) {
		f := newFixture(t)
		f.pod("web-2-x", "web-2", running(false))
		dyn := liveRollout(t, f)
		dyn.PrependReactor("list", "pods", func(clienttesting.Action) (bool, runtime.Object, error) {
			panic("boom in a list")
		})
		clk := clocktesting.NewFakeClock(t0)
		r := stepUntil(t, clk, time.Second, startRun(t, f, dyn, clk))
		if !errors.Is(r.err, ErrInternal) || !strings.Contains(r.err.Error(), "boom in a list") {
			t.Fatalf("err %v, want ErrInternal naming the panic", r.err)
		}
	})
	t.Run("application poller", func(t *testing.T) {
		f := newFixture(t)
		f.pod("web-2-x", "web-2", running(false))
		reads := 0
		clk := clocktesting.NewFakeClock(t0)
		g, err := New(Options{
			Client: liveRollout(t, f), Self: self, Thresholds: testThresholds, Clock: clk,
			App: func(context.Context) (*argocd.Application, error) {
				if reads++; reads > 1 {
					panic("boom in a read")
				}
				return f.app, nil
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan run, 1)
		go func() {
			res, err := g.Run(context.Background())
			done <- run{res, err}
		}()
		r := stepUntil(t, clk, DefaultAppInterval, done)
		if !errors.Is(r.err, ErrInternal) || !strings.Contains(r.err.Error(), "boom in a read") {
			t.Fatalf("err %v, want ErrInternal naming the panic", r.err)
		}
	})
}
