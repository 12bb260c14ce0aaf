package gate

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/syncreport/syncreport/internal/argocd"
	"github.com/syncreport/syncreport/internal/health"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const ns = "shop"

var testThresholds = Thresholds{
	Restarts: 2, ImagePullGrace: 30 * time.Second, ConfigErrorGrace: 30 * time.Second,
	UnschedulableGrace: 2 * time.Minute, Timeout: 10 * time.Minute,
}

var self = &argocd.Ref{Group: "batch", Kind: "Job", Namespace: ns, Name: "web-gate"}

// fixture is one rollout: an Application syncing Deployment web (wave 0)
// with the gate as a wave-0 Sync hook, and the live objects a controller
// would have written: web at generation 2, observed, its current
// ReplicaSet web-2 and pod web-2-x, which each step edits.
type fixture struct {
	t   *testing.T
	app *argocd.Application
	st  *store
	j   *judge
	// initSpec is the init containers of the pods put.
	initSpec []health.Container
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{t: t, st: newStore(), j: newJudge(testThresholds, 0, self)}
	f.app = &argocd.Application{
		Metadata: argocd.Metadata{Name: "web", Namespace: "argocd"},
		Spec:     argocd.Spec{Destination: argocd.Destination{Namespace: ns}},
		Status: argocd.Status{
			Resources: []argocd.ResourceStatus{{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: ns, Name: "web", Status: "Synced"}},
			OperationState: &argocd.OperationState{Phase: "Running", SyncResult: &argocd.SyncResult{Resources: []argocd.ResourceResult{
				{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: ns, Name: "web", Status: "Synced", SyncPhase: "Sync"},
				{Group: "batch", Version: "v1", Kind: "Job", Namespace: ns, Name: "web-gate", HookType: "Sync", HookPhase: "Running", SyncPhase: "Sync"},
			}}},
		},
	}
	sp := f.st.space(ns)
	for _, k := range kDeployment.needs() {
		sp.synced[k] = true
	}
	sp.deployments["web"] = &health.Deployment{
		ObjectMeta: health.ObjectMeta{Name: "web", Namespace: ns, UID: "uid-web", Generation: 2},
		Spec:       health.DeploymentSpec{Replicas: ptr(int32(1))},
		Status:     health.DeploymentStatus{ObservedGeneration: 2, Replicas: 1, UpdatedReplicas: 1, UnavailableReplicas: 1},
	}
	sp.replicaSets["web-1"] = rs("web-1", "1", t0.Add(-time.Hour))
	sp.replicaSets["web-2"] = rs("web-2", "2", t0)
	f.pod("web-2-x", "web-2", running(false))
	return f
}

func ptr[T any](v T) *T { return &v }

func rs(name, revision string, created time.Time) *health.ReplicaSet {
	return &health.ReplicaSet{ObjectMeta: health.ObjectMeta{
		Name: name, Namespace: ns, UID: types.UID("uid-" + name), Generation: 1,
		Annotations:       map[string]string{"deployment.kubernetes.io/revision": revision},
		CreationTimestamp: metav1.NewTime(created),
		OwnerReferences:   []metav1.OwnerReference{{Kind: "Deployment", Name: "web", UID: "uid-web", Controller: ptr(true)}},
	}}
}

// pod puts a pod of ReplicaSet owner with status st.
func (f *fixture) pod(name, owner string, st health.PodStatus) {
	f.st.space(ns).pods[name] = &health.Pod{
		ObjectMeta: health.ObjectMeta{Name: name, Namespace: ns, UID: types.UID("uid-" + name),
			OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: owner, UID: types.UID("uid-" + owner), Controller: ptr(true)}}},
		Spec:   health.PodSpec{RestartPolicy: "Always", InitContainers: f.initSpec, Containers: []health.Container{{Name: "app", Image: "ghcr.io/acme/web:v2"}}},
		Status: st,
	}
}

// available makes web's status say the rollout is complete.
func (f *fixture) available() {
	d := f.st.space(ns).deployments["web"]
	d.Status.ReadyReplicas, d.Status.AvailableReplicas, d.Status.UnavailableReplicas = 1, 1, 0
}

func (f *fixture) at(sec int) verdict {
	f.st.mu.Lock()
	defer f.st.mu.Unlock()
	return f.j.evaluate(t0.Add(time.Duration(sec)*time.Second), f.app, f.st)
}

func scheduled() []health.Condition {
	return []health.Condition{{Type: "PodScheduled", Status: "True"}}
}

func running(ready bool) health.PodStatus {
	st := health.PodStatus{Phase: "Running", Conditions: scheduled()}
	r := "False"
	if ready {
		r = "True"
	}
	st.Conditions = append(st.Conditions, health.Condition{Type: "Ready", Status: r})
	st.ContainerStatuses = []health.ContainerStatus{{Name: "app", Ready: ready,
		State: health.ContainerState{Running: &health.ContainerStateRunning{}}}}
	return st
}

// crashed is the pod after its container crashed restarts+1 times, in
// back-off (waiting) or restarted (running, not ready).
func crashed(restarts int32, backOff bool) health.PodStatus {
	st := running(false)
	cs := &st.ContainerStatuses[0]
	cs.RestartCount = restarts
	cs.LastTerminationState = health.ContainerState{Terminated: &health.ContainerStateTerminated{ExitCode: 1, Reason: "Error", Message: "panic: DATABASE_URL not set"}}
	if backOff {
		cs.State = health.ContainerState{Waiting: &health.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 10s restarting failed container"}}
	}
	return st
}

func waitingIn(reason, msg string) health.PodStatus {
	return health.PodStatus{Phase: "Pending", Conditions: scheduled(), ContainerStatuses: []health.ContainerStatus{{
		Name: "app", Image: "ghcr.io/acme/web:v2", State: health.ContainerState{Waiting: &health.ContainerStateWaiting{Reason: reason, Message: msg}}}}}
}

func unschedulable(since time.Time) health.PodStatus {
	return health.PodStatus{Phase: "Pending", Conditions: []health.Condition{{Type: "PodScheduled", Status: "False", Reason: "Unschedulable",
		Message: "0/3 nodes are available: 3 Insufficient memory.", LastTransitionTime: metav1.NewTime(since)}}}
}

// withInit adds init container statuses to a pod status.
func withInit(st health.PodStatus, init ...health.ContainerStatus) health.PodStatus {
	st.InitContainerStatuses = init
	return st
}

// initState is init container wait-db after restarts failures (exit 1),
// now in state s.
func initState(restarts int32, s health.ContainerState) health.ContainerStatus {
	return health.ContainerStatus{Name: "wait-db", RestartCount: restarts, State: s,
		LastTerminationState: health.ContainerState{Terminated: &health.ContainerStateTerminated{ExitCode: 1, Reason: "Error"}}}
}

// initDone is wait-db completed after restarts failures, as the kubelet
// reports it once the database it waited for is up.
func initDone(restarts int32) health.ContainerStatus {
	return initState(restarts, health.ContainerState{Terminated: &health.ContainerStateTerminated{ExitCode: 0, Reason: "Completed"}})
}

// sidecarRunning is wait-db as a restartable sidecar, running after
// restarts failures.
func sidecarRunning(restarts int32, ready bool) health.ContainerStatus {
	cs := initState(restarts, health.ContainerState{Running: &health.ContainerStateRunning{}})
	cs.Ready = ready
	return cs
}

// sidecar makes every pod put from now on declare wait-db as a sidecar
// (an init container with restartPolicy Always).
func (f *fixture) sidecar() {
	f.initSpec = []health.Container{{Name: "wait-db", RestartPolicy: "Always"}}
}

// step is one instant of a rollout: edit the world, then judge.
type step struct {
	sec  int
	edit func(*fixture)
	want outcome
	// cause (for failed) or line (for waiting) must contain this.
	has string
}

func TestJudge(t *testing.T) {
	podIs := func(st health.PodStatus) func(*fixture) { return func(f *fixture) { f.pod("web-2-x", "web-2", st) } }
	for _, tc := range []struct {
		name  string
		setup func(*fixture)
		steps []step
	}{
		{"first crash, back-off, second crash: fails when the 2nd restart crashes", nil, []step{
			{0, nil, waiting, "0/1 new pods ready"},
			{5, podIs(crashed(0, true)), waiting, "CrashLoopBackOff"},
			{15, podIs(crashed(1, false)), waiting, "restarting"},
			{16, podIs(crashed(1, true)), waiting, "CrashLoopBackOff"},
			// Running again is another attempt, which may well succeed: a
			// dependency applied in the same sync can be up by now.
			{36, podIs(crashed(2, false)), waiting, "restarting"},
			{37, podIs(crashed(2, true)), failed, `Deployment web: pod web-2-x: container "app" CrashLoopBackOff, exit code 1 (2 restarts): panic: DATABASE_URL not set`},
		}},
		{"crashed while a dependency came up, then running and turning ready", nil, []step{
			{0, podIs(crashed(1, true)), waiting, "CrashLoopBackOff"},
			{20, podIs(crashed(2, false)), waiting, "restarting"},
			{30, podIs(crashed(2, false)), waiting, "restarting"},
			{31, podIs(func() health.PodStatus {
				st := running(true)
				st.ContainerStatuses[0].RestartCount = 2
				return st
			}()), waiting, "1/1 new pods ready"},
		}},
		{"repeated OOMKilled", nil, []step{
			{0, podIs(func() health.PodStatus {
				st := crashed(2, true)
				st.ContainerStatuses[0].LastTerminationState.Terminated.Reason = "OOMKilled"
				return st
			}()), failed, "OOMKilled, exit code 1, no memory limit (2 restarts)"},
		}},
		{"image pull failure persisting past grace", nil, []step{
			{0, podIs(waitingIn("ErrImagePull", "not found")), waiting, "ErrImagePull"},
			{10, podIs(waitingIn("ImagePullBackOff", `Back-off pulling image "ghcr.io/acme/web:v2"`)), waiting, "ImagePullBackOff"},
			{29, nil, waiting, ""},
			{30, nil, failed, `Deployment web: pod web-2-x: container "app" ImagePullBackOff, image "ghcr.io/acme/web:v2": Back-off pulling image "ghcr.io/acme/web:v2" (for 30s)`},
		}},
		{"image pull failure that resolves within grace", nil, []step{
			{0, podIs(waitingIn("ErrImagePull", "timeout")), waiting, ""},
			{20, podIs(running(true)), waiting, ""},
			{21, podIs(waitingIn("ErrImagePull", "timeout")), waiting, ""},
			{50, nil, waiting, ""}, // a new problem: grace counts from 21s
			{51, nil, failed, "(for 30s)"},
		}},
		{"invalid image name fails at once", nil, []step{
			{0, podIs(waitingIn("InvalidImageName", "invalid reference format")), failed, "InvalidImageName"},
		}},
		{"missing ConfigMap key past grace", nil, []step{
			{0, podIs(waitingIn("CreateContainerConfigError", "couldn't find key DB_URL in ConfigMap shop/web")), waiting, ""},
			{30, nil, failed, "missing key DB_URL in ConfigMap shop/web (for 30s)"},
		}},
		{"unschedulable before and after grace, from the condition's time", nil, []step{
			{0, podIs(unschedulable(t0.Add(-time.Minute))), waiting, "unschedulable"},
			{59, nil, waiting, ""},
			{60, nil, failed, "pod web-2-x: unschedulable: 0/3 nodes are available: 3 Insufficient memory. (for 2m0s)"},
		}},
		{"unschedulable without a transition time counts from first sight", nil, []step{
			{10, podIs(unschedulable(time.Time{})), waiting, ""},
			{129, nil, waiting, ""},
			{130, nil, failed, "(for 2m0s)"},
		}},
		{"slow but healthy start", nil, []step{
			{0, podIs(waitingIn("ContainerCreating", "")), waiting, ""},
			{60, podIs(running(false)), waiting, "0/1 new pods ready"},
			{300, podIs(running(true)), waiting, "1/1 new pods ready"},
			{301, func(f *fixture) { f.available() }, healthy, ""},
		}},
		{"one transient restart, then Ready", nil, []step{
			{5, podIs(crashed(0, true)), waiting, ""},
			{15, podIs(crashed(1, false)), waiting, ""},
			{20, podIs(func() health.PodStatus { st := crashed(1, false); st.ContainerStatuses[0].Ready = true; return st }()), waiting, ""},
			{21, func(f *fixture) { f.available() }, healthy, ""},
		}},
		{"ready again after crashes is not a crash loop", nil, []step{
			{0, podIs(func() health.PodStatus {
				st := crashed(3, false)
				st.ContainerStatuses[0].Ready = true
				return st
			}()), waiting, ""},
		}},
		{"init container that failed, then completed: not a crash loop", nil, []step{
			{0, podIs(withInit(running(false), initDone(2))), waiting, "0/1 new pods ready"},
			{5, podIs(withInit(running(true), initDone(2))), waiting, "1/1 new pods ready"},
			{6, func(f *fixture) { f.available() }, healthy, ""},
		}},
		{"init container on its third attempt after two failures: waits", nil, []step{
			{0, podIs(withInit(waitingIn("PodInitializing", ""), initState(2, health.ContainerState{Running: &health.ContainerStateRunning{}}))), waiting, ""},
			{60, podIs(withInit(waitingIn("PodInitializing", ""), initState(3, health.ContainerState{Waiting: &health.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}))), failed, `init container "wait-db" CrashLoopBackOff`},
		}},
		{"init container failed again, before its back-off", nil, []step{
			{0, podIs(withInit(waitingIn("PodInitializing", ""), initState(2, health.ContainerState{Terminated: &health.ContainerStateTerminated{ExitCode: 1, Reason: "Error"}}))), failed, `init container "wait-db" failed, exit code 1`},
		}},
		{"sidecar running and ready after restarts", func(f *fixture) { f.sidecar() }, []step{
			{0, podIs(withInit(running(true), sidecarRunning(4, true))), waiting, "1/1 new pods ready"},
			{1, func(f *fixture) { f.available() }, healthy, ""},
		}},
		{"sidecar crash loop", func(f *fixture) { f.sidecar() }, []step{
			{0, podIs(withInit(running(false), sidecarRunning(2, false))), waiting, ""},
			{5, podIs(withInit(running(false), initState(2, health.ContainerState{Waiting: &health.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}))), failed, `init container "wait-db" CrashLoopBackOff, exit code 1`},
		}},
		{"app container exiting 0 in a crash loop", nil, []step{
			{0, podIs(func() health.PodStatus {
				st := crashed(2, false)
				st.ContainerStatuses[0].LastTerminationState.Terminated = &health.ContainerStateTerminated{ExitCode: 0, Reason: "Completed"}
				return st
			}()), waiting, ""},
			{10, podIs(func() health.PodStatus {
				st := crashed(2, true)
				st.ContainerStatuses[0].LastTerminationState.Terminated = &health.ContainerStateTerminated{ExitCode: 0, Reason: "Completed"}
				return st
			}()), failed, `container "app" CrashLoopBackOff, exit code 0 (2 restarts)`},
		}},
		{"later-wave resource ignored", func(f *fixture) {
			f.app.Status.Resources = append(f.app.Status.Resources,
				argocd.ResourceStatus{Group: "apps", Kind: "Deployment", Namespace: ns, Name: "late", SyncWave: 1})
			f.available()
		}, []step{
			{0, nil, healthy, ""},
		}},
		{"observedGeneration behind: old pods' crashes do not count", func(f *fixture) {
			d := f.st.space(ns).deployments["web"]
			d.Generation = 3
			f.pod("web-2-x", "web-2", crashed(7, true))
		}, []step{
			{0, nil, waiting, "waiting for the controller to observe generation 3"},
			{1, func(f *fixture) {
				sp := f.st.space(ns)
				sp.deployments["web"].Status.ObservedGeneration = 3
				sp.replicaSets["web-3"] = rs("web-3", "3", t0.Add(time.Second))
				f.pod("web-3-y", "web-3", running(false))
			}, waiting, "0/1 new pods ready"},
			{2, func(f *fixture) {
				f.pod("web-3-y", "web-3", running(true))
				f.available()
			}, healthy, ""},
		}},
		{"new generation seen before its ReplicaSet: the previous revision's crash loop does not count", func(f *fixture) {
			// The sync of a fix: revision 2 crash-loops, revision 3 is the
			// fix. The Deployment's watch delivers generation 3, observed
			// and at revision 3, before the ReplicaSets' watch delivers
			// web-3.
			d := f.st.space(ns).deployments["web"]
			d.Generation, d.Status.ObservedGeneration = 3, 3
			d.Annotations = map[string]string{"deployment.kubernetes.io/revision": "3"}
			f.pod("web-2-x", "web-2", crashed(7, true))
		}, []step{
			{0, nil, waiting, "waiting for the ReplicaSet of revision 3"},
			{1, func(f *fixture) {
				f.st.space(ns).replicaSets["web-3"] = rs("web-3", "3", t0.Add(time.Second))
				f.pod("web-3-y", "web-3", running(false))
			}, waiting, "0/1 new pods ready"},
			{2, func(f *fixture) {
				f.pod("web-3-y", "web-3", running(true))
				f.available()
			}, healthy, ""},
		}},
		{"rollback to an old template: its ReplicaSet is current once renumbered", func(f *fixture) {
			// Rolling back re-uses web-1 and gives it the next revision.
			d := f.st.space(ns).deployments["web"]
			d.Generation, d.Status.ObservedGeneration = 3, 3
			d.Annotations = map[string]string{"deployment.kubernetes.io/revision": "3"}
			f.pod("web-2-x", "web-2", crashed(7, true))
			f.pod("web-1-z", "web-1", running(false))
		}, []step{
			{0, nil, waiting, "waiting for the ReplicaSet of revision 3"},
			{1, func(f *fixture) {
				f.st.space(ns).replicaSets["web-1"].Annotations = map[string]string{"deployment.kubernetes.io/revision": "3"}
			}, waiting, "0/1 new pods ready"},
		}},
		{"workload not yet in syncResult: wait until the sync records this hook", func(f *fixture) {
			f.app.Status.OperationState.SyncResult.Resources = nil
			f.available()
		}, []step{
			{0, nil, waiting, "waiting for Argo CD to record this hook"},
			{2, func(f *fixture) {
				f.app.Status.OperationState.SyncResult.Resources = newFixture(f.t).app.Status.OperationState.SyncResult.Resources
			}, healthy, ""},
		}},
		{"stale read of the previous operation", func(f *fixture) {
			f.app.Status.OperationState.Phase = "Succeeded"
			f.app.Status.OperationState.SyncResult.Resources[1].HookPhase = "Succeeded"
			f.available()
		}, []step{
			{0, nil, waiting, "running sync operation"},
			{1, func(f *fixture) { f.app.Status.OperationState.Phase = "Running" }, waiting, "record this hook"},
			{2, func(f *fixture) { f.app.Status.OperationState.SyncResult.Resources[1].HookPhase = "Running" }, healthy, ""},
		}},
		{"not recorded in this operation although the hook is: not part of the sync", func(f *fixture) {
			f.app.Status.Resources = append(f.app.Status.Resources,
				argocd.ResourceStatus{Group: "apps", Kind: "Deployment", Namespace: ns, Name: "unchanged"})
			f.available()
		}, []step{
			{0, nil, healthy, ""},
		}},
		{"progress deadline exceeded", func(f *fixture) {
			f.st.space(ns).deployments["web"].Status.Conditions = []health.Condition{{Type: "Progressing", Status: "False", Reason: "ProgressDeadlineExceeded"}}
		}, []step{
			{0, nil, failed, `Deployment web: Deployment "web" exceeded its progress deadline`},
		}},
		{"apply rejected", func(f *fixture) {
			e := &f.app.Status.OperationState.SyncResult.Resources[0]
			e.Status, e.Message = "SyncFailed", "Deployment.apps \"web\" is invalid: spec.template.spec.containers[0].image: Required value"
		}, []step{
			{0, nil, failed, "Deployment web: apply failed: Deployment.apps"},
		}},
		{"operation ended", nil, []step{
			{0, nil, waiting, ""},
			{1, func(f *fixture) {
				f.app.Status.OperationState.Phase, f.app.Status.OperationState.Message = "Failed", "one or more objects failed to apply"
			}, failed, "the sync operation ended (Failed): one or more objects failed to apply"},
		}},
		// Between two attempts Argo CD sets the phase back to Running and
		// keeps the failed attempt's finishedAt: this attempt is over.
		{"attempt failed, Argo CD will retry", nil, []step{
			{0, nil, waiting, ""},
			{1, func(f *fixture) {
				op := f.app.Status.OperationState
				op.FinishedAt, op.RetryCount = ptr(t0.Add(time.Second)), 1
				op.Message = "one or more objects failed to apply. Retrying attempt #1 at 12:00PM."
			}, failed, "the sync attempt failed, Argo CD will retry: one or more objects failed to apply. Retrying attempt #1"},
		}},
		{"read between attempts: the failed attempt is not this one", func(f *fixture) {
			f.app.Status.OperationState.FinishedAt = ptr(t0.Add(-time.Second))
			f.available()
		}, []step{
			{0, nil, waiting, "running sync operation"},
			{1, func(f *fixture) { f.app.Status.OperationState.FinishedAt = nil }, healthy, ""},
		}},
		{"lists not in yet", func(f *fixture) {
			f.st.space(ns).synced[kPod] = false
		}, []step{
			{0, nil, waiting, "not read yet (pods)"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			if tc.setup != nil {
				tc.setup(f)
			}
			for _, s := range tc.steps {
				if s.edit != nil {
					s.edit(f)
				}
				v := f.at(s.sec)
				got := strings.Join(v.lines, " | ")
				if v.outcome == failed {
					got = v.cause
				}
				if v.outcome != s.want || !strings.Contains(got, s.has) {
					t.Fatalf("at %ds: outcome %d %q; want %d containing %q", s.sec, v.outcome, got, s.want, s.has)
				}
			}
		})
	}
}

// TestJudgeGraceWakeup: a running grace period asks to be woken when it
// ends, so a failure needs no other event to be noticed.
func TestJudgeGraceWakeup(t *testing.T) {
	f := newFixture(t)
	f.pod("web-2-x", "web-2", waitingIn("ImagePullBackOff", "x"))
	if v := f.at(5); !v.next.Equal(t0.Add(35 * time.Second)) {
		t.Fatalf("next = %v, want t0+35s", v.next)
	}
}

// TestJudgeWithoutSelf: without its own Job the gate waits for each
// workload's entry in the sync result.
func TestJudgeWithoutSelf(t *testing.T) {
	f := newFixture(t)
	f.j = newJudge(testThresholds, 0, nil)
	f.app.Status.OperationState.SyncResult.Resources = f.app.Status.OperationState.SyncResult.Resources[1:]
	f.available()
	if v := f.at(0); v.outcome != waiting || !strings.Contains(strings.Join(v.lines, ""), "not yet applied by this sync") {
		t.Fatalf("got %d %q", v.outcome, v.lines)
	}
	f.app.Status.OperationState.SyncResult.Resources = newFixture(t).app.Status.OperationState.SyncResult.Resources
	if v := f.at(1); v.outcome != healthy {
		t.Fatalf("got %d %q", v.outcome, v.lines)
	}
}

func TestJudgeOtherKinds(t *testing.T) {
	add := func(f *fixture, kind, group, name string) {
		f.app.Status.Resources = []argocd.ResourceStatus{{Group: group, Kind: kind, Namespace: ns, Name: name}}
		f.app.Status.OperationState.SyncResult.Resources[0] = argocd.ResourceResult{Group: group, Kind: kind, Namespace: ns, Name: name, Status: "Synced"}
		for _, k := range kindOf(group, kind).needs() {
			f.st.space(ns).synced[k] = true
		}
	}
	t.Run("failed Job", func(t *testing.T) {
		f := newFixture(t)
		add(f, "Job", "batch", "migrate")
		f.st.space(ns).jobs["migrate"] = &health.Job{ObjectMeta: health.ObjectMeta{Name: "migrate", Namespace: ns, UID: "uid-migrate"},
			Status: health.JobStatus{Conditions: []health.Condition{{Type: "Failed", Status: "True", Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit"}}}}
		if v := f.at(0); v.outcome != failed || !strings.HasPrefix(v.cause, "Job migrate: Job has reached the specified backoff limit: BackoffLimitExceeded") {
			t.Fatalf("got %d %q", v.outcome, v.cause)
		}
	})
	t.Run("bare Pod that failed", func(t *testing.T) {
		f := newFixture(t)
		add(f, "Pod", "", "once")
		f.pod("once", "nobody", health.PodStatus{Phase: "Failed", Reason: "Evicted", Message: "The node was low on resource: memory."})
		if v := f.at(0); v.outcome != failed || v.cause != "Pod once: pod once: Evicted: The node was low on resource: memory." {
			t.Fatalf("got %d %q", v.outcome, v.cause)
		}
	})
	t.Run("Job pods retry: restarts do not fail it", func(t *testing.T) {
		f := newFixture(t)
		add(f, "Job", "batch", "migrate")
		f.st.space(ns).jobs["migrate"] = &health.Job{ObjectMeta: health.ObjectMeta{Name: "migrate", Namespace: ns, UID: "uid-migrate"}, Status: health.JobStatus{Active: 1}}
		f.pod("migrate-a", "migrate", crashed(4, true))
		f.st.space(ns).pods["migrate-a"].OwnerReferences[0].Kind = "Job"
		if v := f.at(0); v.outcome != waiting {
			t.Fatalf("got %d %q %q", v.outcome, v.cause, v.lines)
		}
	})
	t.Run("StatefulSet crash loop in the update revision", func(t *testing.T) {
		f := newFixture(t)
		add(f, "StatefulSet", "apps", "db")
		f.st.space(ns).statefulSets["db"] = &health.StatefulSet{ObjectMeta: health.ObjectMeta{Name: "db", Namespace: ns, UID: "uid-db", Generation: 1},
			Spec:   health.StatefulSetSpec{Replicas: ptr(int32(1))},
			Status: health.StatefulSetStatus{ObservedGeneration: 1, UpdateRevision: "db-2", CurrentRevision: "db-1"}}
		f.pod("db-0", "db", crashed(2, true))
		p := f.st.space(ns).pods["db-0"]
		p.OwnerReferences[0].Kind, p.Labels = "StatefulSet", map[string]string{"controller-revision-hash": "db-2"}
		if v := f.at(0); v.outcome != failed || !strings.HasPrefix(v.cause, "StatefulSet db: pod db-0") {
			t.Fatalf("got %d %q %q", v.outcome, v.cause, v.lines)
		}
	})
}
