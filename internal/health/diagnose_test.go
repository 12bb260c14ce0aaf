package health

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/syncreport/syncreport/internal/argocd"
	"github.com/syncreport/syncreport/internal/testcluster"
)

// cluster is the real kube-apiserver the tests in this package share.
var cluster *testcluster.Cluster

func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	c, err := testcluster.Start(ctx)
	cancel()
	if errors.Is(err, testcluster.ErrToolsUnavailable) {
		fmt.Fprintln(os.Stderr, "SKIP cluster tests:", err)
		os.Exit(m.Run())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cluster = c
	code := m.Run()
	c.Stop() // os.Exit skips deferred calls
	os.Exit(code)
}

func needCluster(t testing.TB) {
	t.Helper()
	if cluster == nil {
		t.Skip("no test cluster")
	}
}

// stage creates objects in one namespace the way controllers would leave
// them: spec through the API, status through the status subresource.
type stage struct {
	t   testing.TB
	ctx context.Context
	c   kubernetes.Interface
	ns  string
}

func newStage(t testing.TB, ns string) *stage {
	t.Helper()
	needCluster(t)
	ctx := context.Background()
	if err := cluster.CreateNamespace(ctx, ns, nil); err != nil {
		t.Fatal(err)
	}
	return &stage{t: t, ctx: ctx, c: cluster.Client, ns: ns}
}

func (s *stage) must(err error) {
	s.t.Helper()
	if err != nil {
		s.t.Fatal(err)
	}
}

func owner(kind, apiVersion string, m metav1.ObjectMeta) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: m.Name, UID: m.UID, Controller: ptr(true)}
}

func podTemplate(app string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": app}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "ghcr.io/acme/" + app + ":v2"}}},
	}
}

// deployment creates a Deployment with one replica and writes status.
func (s *stage) deployment(name string, st appsv1.DeploymentStatus) *appsv1.Deployment {
	s.t.Helper()
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr(int32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: podTemplate(name),
		},
	}
	d, err := s.c.AppsV1().Deployments(s.ns).Create(s.ctx, d, metav1.CreateOptions{})
	s.must(err)
	st.ObservedGeneration = d.Generation
	d.Status = st
	d, err = s.c.AppsV1().Deployments(s.ns).UpdateStatus(s.ctx, d, metav1.UpdateOptions{})
	s.must(err)
	return d
}

func (s *stage) replicaSet(d *appsv1.Deployment, name, revision string) *appsv1.ReplicaSet {
	s.t.Helper()
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Name:            name,
			Annotations:     map[string]string{"deployment.kubernetes.io/revision": revision},
			OwnerReferences: []metav1.OwnerReference{owner("Deployment", "apps/v1", d.ObjectMeta)},
		},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr(int32(1)), Selector: d.Spec.Selector, Template: d.Spec.Template},
	}
	rs, err := s.c.AppsV1().ReplicaSets(s.ns).Create(s.ctx, rs, metav1.CreateOptions{})
	s.must(err)
	return rs
}

// pod creates a pod owned by own, lets spec edit its spec, then writes st.
func (s *stage) pod(name string, own metav1.OwnerReference, spec func(*corev1.PodSpec), st corev1.PodStatus) *corev1.Pod {
	s.t.Helper()
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": strings.Split(name, "-")[0]}},
		Spec:       podTemplate(strings.Split(name, "-")[0]).Spec,
	}
	if own.UID != "" {
		p.OwnerReferences = []metav1.OwnerReference{own}
	}
	if spec != nil {
		spec(&p.Spec)
	}
	p, err := s.c.CoreV1().Pods(s.ns).Create(s.ctx, p, metav1.CreateOptions{})
	s.must(err)
	p.Status = st
	p, err = s.c.CoreV1().Pods(s.ns).UpdateStatus(s.ctx, p, metav1.UpdateOptions{})
	s.must(err)
	return p
}

// event records a Warning (or Normal) event about obj, seen now.
func (s *stage) event(kind string, obj metav1.ObjectMeta, fieldPath, typ, reason, msg string, count int32) {
	s.t.Helper()
	now := metav1.Now()
	e := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{GenerateName: obj.Name + "."},
		InvolvedObject: corev1.ObjectReference{
			Kind: kind, Namespace: s.ns, Name: obj.Name, UID: obj.UID, FieldPath: fieldPath,
		},
		Type: typ, Reason: reason, Message: msg, Count: count,
		FirstTimestamp: now, LastTimestamp: now,
		Source: corev1.EventSource{Component: "kubelet"},
	}
	_, err := s.c.CoreV1().Events(s.ns).Create(s.ctx, e, metav1.CreateOptions{})
	s.must(err)
}

func running() corev1.PodStatus {
	return corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{
		{Type: corev1.PodScheduled, Status: corev1.ConditionTrue},
		{Type: corev1.PodReady, Status: corev1.ConditionFalse},
	}}
}

func waitingStatus(reason, msg, image string) corev1.PodStatus {
	st := corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}}}
	st.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", Image: image,
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}}}
	return st
}

func rolling() appsv1.DeploymentStatus {
	return appsv1.DeploymentStatus{Replicas: 1, UpdatedReplicas: 1, UnavailableReplicas: 1}
}

// stageApp creates one namespace holding every kind Diagnose knows, with
// each pod-level failure it names, and returns the refs an Argo CD app
// would list for it.
func stageApp(t *testing.T, ns string) []argocd.Ref {
	s := newStage(t, ns)
	var refs []argocd.Ref
	add := func(group, kind, name string) {
		refs = append(refs, argocd.Ref{Group: group, Kind: kind, Namespace: ns, Name: name})
	}

	// Crash loop with a termination message.
	d := s.deployment("web", rolling())
	old := s.replicaSet(d, "web-6b5c", "1")
	cur := s.replicaSet(d, "web-7d9f", "2")
	// A pod of the previous revision is never the cause.
	s.pod("web-6b5c-q9", owner("ReplicaSet", "apps/v1", old.ObjectMeta), nil,
		waitingStatus("ImagePullBackOff", `Back-off pulling image "ghcr.io/acme/web:v1"`, "ghcr.io/acme/web:v1"))
	st := running()
	st.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", RestartCount: 3, Image: "ghcr.io/acme/web:v2",
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 40s restarting failed container=app"}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: 1, Reason: "Error", Message: "panic: DATABASE_URL not set\n\ngoroutine 1 [running]:\nmain.main()\n"}}}}
	s.pod("web-7d9f-x2", owner("ReplicaSet", "apps/v1", cur.ObjectMeta), nil, st)
	add("apps", "Deployment", "web")

	// Image that cannot be pulled; the registry's answer is in the event.
	d = s.deployment("img", rolling())
	cur = s.replicaSet(d, "img-5c4d", "1")
	p := s.pod("img-5c4d-a1", owner("ReplicaSet", "apps/v1", cur.ObjectMeta), nil,
		waitingStatus("ImagePullBackOff", `Back-off pulling image "ghcr.io/acme/img:v2"`, "ghcr.io/acme/img:v2"))
	s.event("Pod", p.ObjectMeta, "spec.containers{app}", corev1.EventTypeWarning, "Failed",
		`Failed to pull image "ghcr.io/acme/img:v2": rpc error: code = NotFound desc = failed to resolve reference "ghcr.io/acme/img:v2": not found`, 4)
	add("apps", "Deployment", "img")

	// Missing ConfigMap key.
	d = s.deployment("cfg", rolling())
	cur = s.replicaSet(d, "cfg-77aa", "1")
	s.pod("cfg-77aa-b2", owner("ReplicaSet", "apps/v1", cur.ObjectMeta), nil,
		waitingStatus("CreateContainerConfigError", "couldn't find key DB_URL in ConfigMap "+ns+"/web-config", "ghcr.io/acme/cfg:v2"))
	add("apps", "Deployment", "cfg")

	// Unschedulable.
	d = s.deployment("big", rolling())
	cur = s.replicaSet(d, "big-9f8e", "1")
	s.pod("big-9f8e-c3", owner("ReplicaSet", "apps/v1", cur.ObjectMeta), nil, corev1.PodStatus{Phase: corev1.PodPending,
		Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable",
			Message: "0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."}}})
	add("apps", "Deployment", "big")

	// OOMKilled under a memory limit.
	d = s.deployment("mem", rolling())
	cur = s.replicaSet(d, "mem-4a3b", "1")
	st = running()
	st.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", RestartCount: 2, Image: "ghcr.io/acme/mem:v2",
		State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled"}}}}
	s.pod("mem-4a3b-d4", owner("ReplicaSet", "apps/v1", cur.ObjectMeta), func(ps *corev1.PodSpec) {
		ps.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")}
	}, st)
	add("apps", "Deployment", "mem")

	// Readiness never reached.
	d = s.deployment("ready", rolling())
	cur = s.replicaSet(d, "ready-1b2c", "1")
	st = running()
	st.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", Image: "ghcr.io/acme/ready:v2",
		State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}
	p = s.pod("ready-1b2c-e5", owner("ReplicaSet", "apps/v1", cur.ObjectMeta), nil, st)
	s.event("Pod", p.ObjectMeta, "spec.containers{app}", corev1.EventTypeWarning, "Unhealthy",
		"Readiness probe failed: HTTP probe failed with statuscode: 503", 12)
	add("apps", "Deployment", "ready")

	// Pods that show nothing themselves: a ready one, one still being
	// created, and one that a mount failure explains, in an event without
	// the pod's UID (as older clients write them).
	d = s.deployment("vol", rolling())
	cur = s.replicaSet(d, "vol-3e4f", "1")
	st = running()
	st.Conditions[1].Status = corev1.ConditionTrue
	s.pod("vol-3e4f-a1", owner("ReplicaSet", "apps/v1", cur.ObjectMeta), nil, st)
	s.pod("vol-3e4f-b2", owner("ReplicaSet", "apps/v1", cur.ObjectMeta), nil, waitingStatus("ContainerCreating", "", "ghcr.io/acme/vol:v2"))
	p = s.pod("vol-3e4f-c3", owner("ReplicaSet", "apps/v1", cur.ObjectMeta), nil, waitingStatus("ContainerCreating", "", "ghcr.io/acme/vol:v2"))
	s.event("Pod", metav1.ObjectMeta{Name: p.Name}, "", corev1.EventTypeWarning, "FailedMount",
		`MountVolume.SetUp failed for volume "config" : configmap "vol-config" not found`, 2)
	add("apps", "Deployment", "vol")

	// Healthy: no cause, even with a crashed pod of an old ReplicaSet.
	d = s.deployment("ok", appsv1.DeploymentStatus{Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1})
	cur = s.replicaSet(d, "ok-3c2d", "1")
	s.pod("ok-3c2d-f6", owner("ReplicaSet", "apps/v1", cur.ObjectMeta), nil, corev1.PodStatus{Phase: corev1.PodRunning,
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}})
	add("apps", "Deployment", "ok")
	add("apps", "ReplicaSet", "ok-3c2d")
	add("", "Pod", "ok-3c2d-f6")

	// Job out of retries.
	j, err := s.c.BatchV1().Jobs(ns).Create(s.ctx, &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "migrate"},
		Spec: batchv1.JobSpec{BackoffLimit: ptr(int32(1)), Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "migrate", Image: "ghcr.io/acme/migrate:v2"}}}}},
	}, metav1.CreateOptions{})
	s.must(err)
	start := metav1.NewTime(time.Now().Add(-time.Minute).Truncate(time.Second))
	j.Status = batchv1.JobStatus{StartTime: &start, Failed: 2, Conditions: []batchv1.JobCondition{
		{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit"},
		{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit"},
	}}
	_, err = s.c.BatchV1().Jobs(ns).UpdateStatus(s.ctx, j, metav1.UpdateOptions{})
	s.must(err)
	for i, at := range []time.Time{start.Add(10 * time.Second), start.Add(40 * time.Second)} {
		msg := []string{"connection refused", `ERROR: relation "users" does not exist`}[i]
		s.pod(fmt.Sprintf("migrate-%c", 'a'+i), owner("Job", "batch/v1", j.ObjectMeta), func(ps *corev1.PodSpec) {
			ps.RestartPolicy = corev1.RestartPolicyNever
			ps.Containers[0].Name = "migrate"
		}, corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{{Name: "migrate",
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: int32(2 + i), Reason: "Error", Message: msg,
				StartedAt: metav1.NewTime(at.Add(-5 * time.Second)), FinishedAt: metav1.NewTime(at)}}}}})
	}
	add("batch", "Job", "migrate")

	// PVC that cannot be provisioned.
	pvc, err := s.c.CoreV1().PersistentVolumeClaims(ns).Create(s.ctx, &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "data"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName: ptr("fast"),
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		},
	}, metav1.CreateOptions{})
	s.must(err)
	pvc.Status.Phase = corev1.ClaimPending
	_, err = s.c.CoreV1().PersistentVolumeClaims(ns).UpdateStatus(s.ctx, pvc, metav1.UpdateOptions{})
	s.must(err)
	s.event("PersistentVolumeClaim", pvc.ObjectMeta, "", corev1.EventTypeWarning, "ProvisioningFailed", `storageclass.storage.k8s.io "fast" not found`, 3)
	add("", "PersistentVolumeClaim", "data")

	// The other kinds, so every LIST happens once.
	_, err = s.c.CoreV1().Services(ns).Create(s.ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Port: 80}}}}, metav1.CreateOptions{})
	s.must(err)
	add("", "Service", "web")
	_, err = s.c.NetworkingV1().Ingresses(ns).Create(s.ctx, &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: networkingv1.IngressSpec{DefaultBackend: &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}}}},
		metav1.CreateOptions{})
	s.must(err)
	add("networking.k8s.io", "Ingress", "web")
	_, err = s.c.AutoscalingV2().HorizontalPodAutoscalers(ns).Create(s.ctx, &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{MaxReplicas: 3, ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"}}},
		metav1.CreateOptions{})
	s.must(err)
	add("autoscaling", "HorizontalPodAutoscaler", "web")
	_, err = s.c.AppsV1().StatefulSets(ns).Create(s.ctx, &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db"},
		Spec: appsv1.StatefulSetSpec{Replicas: ptr(int32(1)), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}, Template: podTemplate("db")}},
		metav1.CreateOptions{})
	s.must(err)
	add("apps", "StatefulSet", "db")
	_, err = s.c.AppsV1().DaemonSets(ns).Create(s.ctx, &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "agent"},
		Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "agent"}}, Template: podTemplate("agent")}},
		metav1.CreateOptions{})
	s.must(err)
	add("apps", "DaemonSet", "agent")

	add("", "ConfigMap", "web-config") // no health rule: Unknown, no request
	add("apps", "Deployment", "gone")  // not in the cluster: Missing
	add("apps", "Deployment", "web")   // duplicates are judged once
	return refs
}

func byName(d *Diagnosis) map[string]Result {
	m := map[string]Result{}
	for _, r := range d.Results {
		m[r.Ref.Kind+"/"+r.Ref.Name] = r
	}
	return m
}

func TestDiagnoseCauses(t *testing.T) {
	needCluster(t)
	const ns = "causes"
	refs := stageApp(t, ns)

	diag, err := Diagnose(context.Background(), cluster.Dynamic, refs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if diag.Partial {
		t.Errorf("partial: %s", diag.PartialReason)
	}
	// 8 top kinds + ReplicaSets + pods + Warning events.
	if diag.Requests > 12 {
		t.Errorf("%d requests, want at most 12", diag.Requests)
	}
	t.Logf("%d requests", diag.Requests)
	if len(diag.Results) != len(refs)-1 {
		t.Errorf("%d results for %d refs with one duplicate", len(diag.Results), len(refs))
	}

	got := byName(diag)
	for _, tc := range []struct {
		key, status, cause string
	}{
		{"Deployment/web", StatusProgressing, `pod web-7d9f-x2: container "app" CrashLoopBackOff, exit code 1 (3 restarts): panic: DATABASE_URL not set`},
		{"Deployment/img", StatusProgressing, `pod img-5c4d-a1: container "app" ImagePullBackOff, image "ghcr.io/acme/img:v2": Failed to pull image "ghcr.io/acme/img:v2": rpc error: code = NotFound desc = failed to resolve reference "ghcr.io/acme/img:v2": not found`},
		{"Deployment/cfg", StatusProgressing, `pod cfg-77aa-b2: container "app" CreateContainerConfigError: missing key DB_URL in ConfigMap causes/web-config`},
		{"Deployment/big", StatusProgressing, `pod big-9f8e-c3: unschedulable: 0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.`},
		{"Deployment/mem", StatusProgressing, `pod mem-4a3b-d4: container "app" OOMKilled, exit code 137, memory limit 64Mi (2 restarts)`},
		{"Deployment/ready", StatusProgressing, `pod ready-1b2c-e5: container "app" not ready: Readiness probe failed: HTTP probe failed with statuscode: 503 (12 times)`},
		{"Deployment/vol", StatusProgressing, `pod vol-3e4f-c3: FailedMount: MountVolume.SetUp failed for volume "config" : configmap "vol-config" not found (2 times)`},
		{"Deployment/ok", StatusHealthy, ""},
		{"ReplicaSet/ok-3c2d", StatusProgressing, ""}, // no status written: generation not observed
		{"Pod/ok-3c2d-f6", StatusHealthy, ""},
		{"Job/migrate", StatusDegraded, `BackoffLimitExceeded: pod migrate-b: container "migrate" failed, exit code 3: ERROR: relation "users" does not exist (+1 more pod)`},
		{"PersistentVolumeClaim/data", StatusProgressing, `ProvisioningFailed: storageclass.storage.k8s.io "fast" not found (3 times)`},
		{"Service/web", StatusHealthy, ""},
		{"Ingress/web", StatusProgressing, ""},
		{"HorizontalPodAutoscaler/web", StatusProgressing, ""},
		{"StatefulSet/db", StatusProgressing, ""},
		{"DaemonSet/agent", StatusProgressing, ""},
		{"ConfigMap/web-config", StatusUnknown, ""},
		{"Deployment/gone", StatusMissing, ""},
	} {
		t.Run(tc.key, func(t *testing.T) {
			r, ok := got[tc.key]
			if !ok {
				t.Fatalf("no result")
			}
			if r.Status != tc.status || r.Cause != tc.cause || r.Note != "" {
				t.Errorf("got %s %q note %q\nwant %s %q", r.Status, r.Cause, r.Note, tc.status, tc.cause)
			}
		})
	}
	for i := 1; i < len(diag.Results); i++ {
		if rank(diag.Results[i-1].Status) > rank(diag.Results[i].Status) {
			t.Errorf("results not worst first: %s before %s", diag.Results[i-1].Status, diag.Results[i].Status)
		}
	}

	t.Run("pagination gives the same results", func(t *testing.T) {
		paged, err := Diagnose(context.Background(), cluster.Dynamic, refs, Options{PageSize: 2, MaxRequests: 100})
		if err != nil {
			t.Fatal(err)
		}
		if paged.Partial || paged.Requests <= diag.Requests {
			t.Errorf("paged: partial %v, %d requests (unpaged %d)", paged.Partial, paged.Requests, diag.Requests)
		}
		for k, want := range got {
			if g := byName(paged)[k]; g.Status != want.Status || g.Cause != want.Cause {
				t.Errorf("%s paged: %s %q, unpaged %s %q", k, g.Status, g.Cause, want.Status, want.Cause)
			}
		}
	})

	t.Run("streamed pages give the same results", func(t *testing.T) {
		for _, size := range []int64{2, 1000} {
			streamed, err := Diagnose(context.Background(), cluster.Dynamic, refs, Options{PageSize: size, MaxRequests: 100, Config: cluster.Config})
			if err != nil {
				t.Fatal(err)
			}
			if streamed.Partial {
				t.Fatalf("page size %d: partial: %s", size, streamed.PartialReason)
			}
			for k, want := range got {
				if g := byName(streamed)[k]; g.Status != want.Status || g.Cause != want.Cause || g.Message != want.Message {
					t.Errorf("%s streamed (page %d): %s %q, whole %s %q", k, size, g.Status, g.Cause, want.Status, want.Cause)
				}
			}
		}
	})

	t.Run("request cap makes it partial and claims nothing", func(t *testing.T) {
		capped, err := Diagnose(context.Background(), cluster.Dynamic, refs, Options{MaxRequests: 3})
		if err != nil {
			t.Fatal(err)
		}
		if !capped.Partial || !strings.Contains(capped.PartialReason, "request cap 3 reached") || capped.Requests != 3 {
			t.Fatalf("partial %v %q after %d requests", capped.Partial, capped.PartialReason, capped.Requests)
		}
		for _, r := range byName(capped) {
			if r.Ref.Kind == "Service" || r.Ref.Kind == "Ingress" || r.Ref.Kind == "Pod" {
				if r.Status != StatusUnknown || r.Note != "not inspected (request cap 3 reached)" {
					t.Errorf("%s: %s note %q", r.Ref, r.Status, r.Note)
				}
			}
		}
		// Deployments were read: verdicts stand, causes are owed.
		if r := byName(capped)["Deployment/web"]; r.Status != StatusProgressing || r.Note != "cause not fully inspected (request cap 3 reached)" {
			t.Errorf("Deployment/web: %s %q note %q", r.Status, r.Cause, r.Note)
		}
	})

	t.Run("deadline makes it partial", func(t *testing.T) {
		ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		defer cancel()
		late, err := Diagnose(ctx, cluster.Dynamic, refs, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !late.Partial || !strings.Contains(late.PartialReason, "deadline exceeded") {
			t.Errorf("partial %v %q", late.Partial, late.PartialReason)
		}
		for _, r := range late.Results {
			if r.Status == StatusHealthy || r.Status == StatusMissing {
				t.Errorf("%s claims %s without a read", r.Ref, r.Status)
			}
		}
	})

	t.Run("logs of the crashed container", func(t *testing.T) {
		logs := &fakeLogs{lines: []string{"starting", "panic: DATABASE_URL not set"}}
		withLogs, err := Diagnose(context.Background(), cluster.Dynamic, refs, Options{LogLines: 20, Logs: logs})
		if err != nil {
			t.Fatal(err)
		}
		r := byName(withLogs)["Deployment/web"]
		if len(r.Logs) != 2 || r.Logs[1] != "panic: DATABASE_URL not set" {
			t.Errorf("logs %q", r.Logs)
		}
		want := map[string]bool{"causes/web-7d9f-x2/app/previous": true, "causes/mem-4a3b-d4/app/previous": true, "causes/migrate-b/migrate/": true}
		for _, c := range logs.calls {
			if !want[c] {
				t.Errorf("unexpected log read %s", c)
			}
			delete(want, c)
		}
		if len(want) > 0 {
			t.Errorf("logs not read: %v", want)
		}
	})

	t.Run("logs through the apiserver", func(t *testing.T) {
		// No kubelet here: for a pod without a node the apiserver answers
		// with an empty log.
		src, err := NewLogSource(cluster.Config)
		if err != nil {
			t.Fatal(err)
		}
		d, err := Diagnose(context.Background(), cluster.Dynamic, refs, Options{LogLines: 5, Logs: src})
		if err != nil {
			t.Fatal(err)
		}
		if r := byName(d)["Deployment/web"]; d.Partial || r.Cause == "" || r.Note != "" || len(r.Logs) != 0 {
			t.Errorf("partial %v cause %q note %q logs %q", d.Partial, r.Cause, r.Note, r.Logs)
		}
	})

	t.Run("log errors degrade to a note", func(t *testing.T) {
		// A ServiceAccount that may list everything but not read logs.
		cfg := serviceAccount(t, ns, "nolog", rbacv1.PolicyRule{APIGroups: []string{"", "apps", "batch", "networking.k8s.io", "autoscaling"}, Resources: []string{"*"}, Verbs: []string{"list"}})
		dyn, err := dynamic.NewForConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		src, err := NewLogSource(cfg)
		if err != nil {
			t.Fatal(err)
		}
		d, err := Diagnose(context.Background(), dyn, refs, Options{LogLines: 5, Logs: src})
		if err != nil {
			t.Fatal(err)
		}
		r := byName(d)["Deployment/web"]
		want := "logs not read (forbidden: cannot get pods/log in namespace causes)"
		if d.Partial || r.Cause != got["Deployment/web"].Cause || r.Note != want {
			t.Errorf("partial %v cause %q note %q, want note %q", d.Partial, r.Cause, r.Note, want)
		}
	})
}

// serviceAccount creates ServiceAccount ns/name bound to a Role with rules
// and returns a client config that authenticates as it.
func serviceAccount(t *testing.T, ns, name string, rules ...rbacv1.PolicyRule) *rest.Config {
	t.Helper()
	ctx, c := context.Background(), cluster.Client
	if _, err := c.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: name, Namespace: ns}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cfg, err := cluster.ConfigFor(ctx, ns, name)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

type fakeLogs struct {
	lines []string
	calls []string
}

func (f *fakeLogs) TailLogs(_ context.Context, ns, pod, container string, previous bool, lines int) ([]string, error) {
	prev := ""
	if previous {
		prev = "previous"
	}
	f.calls = append(f.calls, ns+"/"+pod+"/"+container+"/"+prev)
	return f.lines, nil
}

func TestDiagnoseForbidden(t *testing.T) {
	const ns = "limited"
	s := newStage(t, ns)
	s.deployment("web", rolling())
	_, err := s.c.CoreV1().Services(ns).Create(s.ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}, metav1.CreateOptions{})
	s.must(err)

	// A ServiceAccount that may read everything but Deployments and pods.
	cfg := serviceAccount(t, ns, "viewer",
		rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"services", "events"}, Verbs: []string{"list"}},
		rbacv1.PolicyRule{APIGroups: []string{"apps"}, Resources: []string{"replicasets"}, Verbs: []string{"list"}})
	dyn, err := dynamic.NewForConfig(cfg)
	s.must(err)

	refs := []argocd.Ref{
		{Group: "apps", Kind: "Deployment", Namespace: ns, Name: "web"},
		{Kind: "Service", Namespace: ns, Name: "web"},
		{Kind: "Pod", Namespace: ns, Name: "web-1"},
	}
	diag, err := Diagnose(context.Background(), dyn, refs, Options{})
	if err != nil {
		t.Fatalf("forbidden must not be an error: %v", err)
	}
	got := byName(diag)
	for _, tc := range []struct{ key, status, note string }{
		{"Deployment/web", StatusUnknown, "not inspected (forbidden: cannot list deployments.apps in namespace limited)"},
		{"Pod/web-1", StatusUnknown, "not inspected (forbidden: cannot list pods in namespace limited)"},
		{"Service/web", StatusHealthy, ""},
	} {
		if r := got[tc.key]; r.Status != tc.status || r.Note != tc.note {
			t.Errorf("%s: %s note %q, want %s note %q", tc.key, r.Status, r.Note, tc.status, tc.note)
		}
	}
	if diag.Partial {
		t.Errorf("partial: %s", diag.PartialReason)
	}
}
