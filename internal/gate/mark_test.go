package gate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	clienttesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/syncreport/syncreport/internal/argocd"
	"github.com/syncreport/syncreport/internal/health"
)

var webRef = argocd.Ref{Group: "apps", Kind: "Deployment", Namespace: ns, Name: "web"}

// liveDeployment is Deployment web as the API server returns it mid-rollout.
func liveDeployment(conds ...any) *unstructured.Unstructured {
	d := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "web", "namespace": ns, "generation": int64(2), "resourceVersion": "41"},
		"spec":     map[string]any{"replicas": int64(1), "progressDeadlineSeconds": int64(600)},
		"status":   map[string]any{"observedGeneration": int64(2), "replicas": int64(1), "updatedReplicas": int64(1), "unavailableReplicas": int64(1)},
	}}
	if conds != nil {
		_ = unstructured.SetNestedSlice(d.Object, conds, "status", "conditions")
	}
	return d
}

func condition(typ, status, reason, ltt string) map[string]any {
	return map[string]any{"type": typ, "status": status, "reason": reason, "message": reason + " says so",
		"lastUpdateTime": ltt, "lastTransitionTime": ltt}
}

const earlier = "2026-03-01T11:50:00Z"

// TestDegradedPatch: the patch replaces the Progressing condition (or adds
// it) with the controller's timed-out one, keeps every other condition as
// it was, carries the resourceVersion read, and refuses when the mark
// would not hold.
func TestDegradedPatch(t *testing.T) {
	now := t0.Add(90 * time.Second)
	nowTS := now.UTC().Format(time.RFC3339)
	available := condition("Available", "False", "MinimumReplicasUnavailable", earlier)
	b := brokenDeployment{ref: webRef, generation: 2, cause: "pod web-2-x: container \"app\" CrashLoopBackOff,\n exit code 1 (2 restarts)"}
	wantMsg := `syncreport gate: pod web-2-x: container "app" CrashLoopBackOff, exit code 1 (2 restarts)`
	for _, tc := range []struct {
		name    string
		d       *unstructured.Unstructured
		b       brokenDeployment
		want    []map[string]any // the conditions patched in
		wantErr string
	}{
		{
			name: "replaces Progressing, keeps Available",
			d:    liveDeployment(available, condition("Progressing", "True", "ReplicaSetUpdated", earlier)),
			b:    b,
			want: []map[string]any{available, {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
				"message": wantMsg, "lastUpdateTime": nowTS, "lastTransitionTime": nowTS}},
		},
		{
			name: "adds Progressing",
			d:    liveDeployment(available),
			b:    b,
			want: []map[string]any{available, {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
				"message": wantMsg, "lastUpdateTime": nowTS, "lastTransitionTime": nowTS}},
		},
		{
			name: "no conditions yet",
			d:    liveDeployment(),
			b:    b,
			want: []map[string]any{{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
				"message": wantMsg, "lastUpdateTime": nowTS, "lastTransitionTime": nowTS}},
		},
		{
			name: "already False: transition time kept",
			d:    liveDeployment(condition("Progressing", "False", "ReplicaSetCreateError", earlier), available),
			b:    b,
			want: []map[string]any{{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
				"message": wantMsg, "lastUpdateTime": nowTS, "lastTransitionTime": earlier}, available},
		},
		{
			name:    "already past the deadline",
			d:       liveDeployment(condition("Progressing", "False", "ProgressDeadlineExceeded", earlier)),
			b:       b,
			wantErr: errAlreadyMarked.Error(),
		},
		{
			name: "progress deadline disabled",
			d: func() *unstructured.Unstructured {
				d := liveDeployment(available)
				_ = unstructured.SetNestedField(d.Object, int64(math.MaxInt32), "spec", "progressDeadlineSeconds")
				return d
			}(),
			b:       b,
			wantErr: "progressDeadlineSeconds unset or disabled",
		},
		{
			name:    "a newer generation",
			d:       liveDeployment(available),
			b:       brokenDeployment{ref: webRef, generation: 1, cause: "x"},
			wantErr: "at generation 2, not the broken 1",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			patch, err := degradedPatch(tc.d, tc.b, now)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Metadata struct {
					ResourceVersion string `json:"resourceVersion"`
				} `json:"metadata"`
				Status struct {
					Conditions []map[string]any `json:"conditions"`
				} `json:"status"`
				Spec any `json:"spec"`
			}
			if err := json.Unmarshal(patch, &got); err != nil {
				t.Fatal(err)
			}
			if got.Metadata.ResourceVersion != "41" {
				t.Errorf("resourceVersion %q, want the one read (41)", got.Metadata.ResourceVersion)
			}
			if got.Spec != nil {
				t.Errorf("the patch touches spec: %s", patch)
			}
			gj, _ := json.Marshal(got.Status.Conditions)
			wj, _ := json.Marshal(tc.want)
			if !bytes.Equal(gj, wj) {
				t.Errorf("conditions\n got %s\nwant %s", gj, wj)
			}
		})
	}
}

func TestMarkMessage(t *testing.T) {
	long := markMessage(strings.Repeat("é", 1000)) // 2000 bytes
	if len(long) > maxMarkMessage || !utf8.ValidString(long) || !strings.HasSuffix(long, "…") || !strings.HasPrefix(long, markPrefix) {
		t.Errorf("long cause: %d bytes, valid %v", len(long), utf8.ValidString(long))
	}
	if got := markMessage("a\n  b"); got != "syncreport gate: a b" {
		t.Errorf("got %q", got)
	}
}

// markRollout is the fixture's world on a fake API server, with web's
// progress deadline and conditions as the controller leaves them mid-rollout.
func markRollout(t *testing.T, f *fixture) *dynamicfake.FakeDynamicClient {
	t.Helper()
	dyn := liveRollout(t, f)
	res := dyn.Resource(kDeployment.gvr).Namespace(ns)
	d, err := res.Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_ = unstructured.SetNestedField(d.Object, int64(600), "spec", "progressDeadlineSeconds")
	_ = unstructured.SetNestedSlice(d.Object, []any{
		condition("Available", "False", "MinimumReplicasUnavailable", earlier),
		condition("Progressing", "True", "ReplicaSetUpdated", earlier),
	}, "status", "conditions")
	if _, err := res.Update(context.Background(), d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	return dyn
}

func runMarking(t *testing.T, f *fixture, dyn *dynamicfake.FakeDynamicClient) (Result, string) {
	t.Helper()
	var logs bytes.Buffer
	clk := clocktesting.NewFakeClock(t0)
	g, err := New(Options{
		Client: dyn, Self: self, Thresholds: testThresholds, Clock: clk, MarkDegraded: true,
		App: func(context.Context) (*argocd.Application, error) { return f.app, nil },
		Log: slog.New(slog.NewJSONHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := g.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res, logs.String()
}

// TestRunMarksDegraded: a crash loop fails the rollout, and the Deployment's
// status now says what the controller says at the progress deadline, through
// a merge patch of the status subresource; Argo CD's rule (AssessDeployment)
// judges it Degraded.
func TestRunMarksDegraded(t *testing.T) {
	f := newFixture(t)
	f.pod("web-2-x", "web-2", crashed(2, true))
	dyn := markRollout(t, f)
	res, logs := runMarking(t, f, dyn)
	if res.Healthy || len(res.Marked) != 1 || res.Marked[0] != webRef {
		t.Fatalf("got %+v\n%s", res, logs)
	}
	var patched bool
	for _, a := range dyn.Actions() {
		if p, ok := a.(clienttesting.PatchAction); ok {
			patched = true
			if p.GetSubresource() != "status" || p.GetPatchType() != types.MergePatchType || p.GetResource().Resource != "deployments" {
				t.Errorf("patch %s %s/%s, want a merge patch of deployments/status", p.GetPatchType(), p.GetResource().Resource, p.GetSubresource())
			}
		}
	}
	if !patched {
		t.Fatal("no patch sent")
	}
	u, err := dyn.Resource(kDeployment.gvr).Namespace(ns).Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var d health.Deployment
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Status.Conditions) != 2 || d.Status.Conditions[0].Type != "Available" || d.Status.Conditions[0].Reason != "MinimumReplicasUnavailable" {
		t.Errorf("conditions %+v: Available not kept", d.Status.Conditions)
	}
	p := d.Status.Conditions[len(d.Status.Conditions)-1]
	if p.Type != "Progressing" || p.Status != "False" || p.Reason != "ProgressDeadlineExceeded" ||
		!strings.HasPrefix(p.Message, `syncreport gate: pod web-2-x: container "app" CrashLoopBackOff`) {
		t.Errorf("Progressing condition %+v", p)
	}
	if r := health.AssessDeployment(&d, nil, nil, nil); r.Status != health.StatusDegraded {
		t.Errorf("marked Deployment judged %s, want %s", r.Status, health.StatusDegraded)
	}
	if !strings.Contains(logs, "marked the Deployment Degraded") {
		t.Errorf("the mark is not logged:\n%s", logs)
	}
}

// TestRunMarkRetriesConflict: a status write between the read and the patch
// (409) makes the gate read again and patch again.
func TestRunMarkRetriesConflict(t *testing.T) {
	f := newFixture(t)
	f.pod("web-2-x", "web-2", crashed(2, true))
	dyn := markRollout(t, f)
	conflicts := 0
	dyn.PrependReactor("patch", "deployments", func(clienttesting.Action) (bool, runtime.Object, error) {
		if conflicts == 0 {
			conflicts++
			return true, nil, apierrors.NewConflict(schema.GroupResource{Group: "apps", Resource: "deployments"}, "web", errors.New("the object has been modified"))
		}
		return false, nil, nil
	})
	res, logs := runMarking(t, f, dyn)
	if len(res.Marked) != 1 || conflicts != 1 {
		t.Fatalf("marked %v after %d conflicts\n%s", res.Marked, conflicts, logs)
	}
}

// TestRunMarkForbidden: without the permission the verdict stands, and the
// log says the mark was not possible and what to grant.
func TestRunMarkForbidden(t *testing.T) {
	f := newFixture(t)
	f.pod("web-2-x", "web-2", crashed(2, true))
	dyn := markRollout(t, f)
	dyn.PrependReactor("patch", "deployments", func(clienttesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments/status"}, "web", errors.New("RBAC: no"))
	})
	res, logs := runMarking(t, f, dyn)
	if res.Healthy || res.Cause == "" || len(res.Marked) != 0 {
		t.Fatalf("got %+v", res)
	}
	if !strings.Contains(logs, "cannot mark the Deployment Degraded") || !strings.Contains(logs, "grant patch on deployments/status in namespace "+ns) {
		t.Errorf("log lacks the failed mark:\n%s", logs)
	}
}

// TestRunMarkOnlyDeployments: a failure that is not a Deployment's pods
// (here an apply Argo CD recorded as failed) marks nothing.
func TestRunMarkOnlyDeployments(t *testing.T) {
	f := newFixture(t)
	f.app.Status.OperationState.SyncResult.Resources[0].Status = "SyncFailed"
	f.app.Status.OperationState.SyncResult.Resources[0].Message = "admission webhook denied"
	dyn := markRollout(t, f)
	res, logs := runMarking(t, f, dyn)
	if res.Healthy || !strings.Contains(res.Cause, "apply failed") || len(res.Marked) != 0 {
		t.Fatalf("got %+v", res)
	}
	for _, a := range dyn.Actions() {
		if a.GetVerb() == "patch" {
			t.Errorf("patched: %v", a)
		}
	}
	if !strings.Contains(logs, "no Deployment to mark Degraded") {
		t.Errorf("log lacks why nothing was marked:\n%s", logs)
	}
}
