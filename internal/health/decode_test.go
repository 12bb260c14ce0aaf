package health

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utiljson "k8s.io/apimachinery/pkg/util/json"
)

// listed returns obj as an item of a LIST page: JSON, with the server's
// managedFields and a client-side apply's last-applied-configuration.
func listed(t *testing.T, obj any) []byte {
	t.Helper()
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	md := m["metadata"].(map[string]any)
	ann, _ := md["annotations"].(map[string]any)
	if ann == nil {
		ann = map[string]any{}
	}
	ann["kubectl.kubernetes.io/last-applied-configuration"] = strings.Repeat(`{"big":"manifest"}`, 5000)
	md["annotations"] = ann
	md["managedFields"] = []any{map[string]any{"manager": "kube-controller-manager", "fieldsV1": map[string]any{"f:status": map[string]any{}}}}
	m["unknownField"] = map[string]any{"deep": []any{1, 2.5, "x", nil}}
	b, err = json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDecodeAsBefore checks that objects decoded straight from JSON equal
// what the dynamic client's maps and the unstructured converter gave
// before, once labels and annotations are trimmed alike.
func TestDecodeAsBefore(t *testing.T) {
	now := metav1.NewTime(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	owner := []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-7d9f", UID: "uid-rs", Controller: ptr(true), BlockOwnerDeletion: ptr(true)}}
	objs := []struct {
		name string
		obj  any
		into func() object
	}{
		{"pod", &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "web-7d9f-x2", Namespace: "shop", UID: "uid-p", OwnerReferences: owner, CreationTimestamp: now,
				Labels: map[string]string{"app": "web", revisionHashLabel: "web-5f6"}},
			Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyAlways, Containers: []corev1.Container{{Name: "app", Image: "ghcr.io/acme/web:v2",
				Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")}}}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning,
				Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse, LastTransitionTime: now}},
				ContainerStatuses: []corev1.ContainerStatus{{Name: "app", RestartCount: 3, Image: "ghcr.io/acme/web:v2",
					State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
					LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled", FinishedAt: now}}}}},
		}, func() object { return &Pod{} }},
		{"replicaset", &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Name: "web-7d9f", Namespace: "shop", UID: "uid-rs", Generation: 3,
				Annotations:     map[string]string{revisionAnnotation: "12", "deployment.kubernetes.io/desired-replicas": "3"},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "web", UID: "uid-d"}}},
			Spec: appsv1.ReplicaSetSpec{Replicas: ptr(int32(3))},
			Status: appsv1.ReplicaSetStatus{ObservedGeneration: 3, Replicas: 3, AvailableReplicas: 1,
				Conditions: []appsv1.ReplicaSetCondition{{Type: "ReplicaFailure", Status: corev1.ConditionTrue, Reason: "FailedCreate", Message: "quota"}}},
		}, func() object { return &ReplicaSet{} }},
		{"deployment", &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", UID: "uid-d", Generation: 4, DeletionTimestamp: &now},
			Spec:       appsv1.DeploymentSpec{Replicas: ptr(int32(3)), Paused: true},
			Status: appsv1.DeploymentStatus{ObservedGeneration: 4, Replicas: 3, UpdatedReplicas: 2, UnavailableReplicas: 1,
				Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded", LastTransitionTime: now}}},
		}, func() object { return &Deployment{} }},
		{"event", &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Name: "web-7d9f-x2.1", Namespace: "shop"},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "web-7d9f-x2", UID: "uid-p", FieldPath: "spec.containers{app}"},
			Type:           corev1.EventTypeWarning, Reason: "Unhealthy", Message: "Readiness probe failed", Count: 7,
			LastTimestamp: now, EventTime: metav1.NewMicroTime(now.Time), Series: &corev1.EventSeries{Count: 2, LastObservedTime: metav1.NewMicroTime(now.Time)},
		}, func() object { return &Event{} }},
	}
	var dec decoder
	for _, tc := range objs {
		t.Run(tc.name, func(t *testing.T) {
			raw := listed(t, tc.obj)
			got := tc.into()
			if err := dec.decode(raw, got); err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := utiljson.Unmarshal(raw, &m); err != nil {
				t.Fatal(err)
			}
			prev := tc.into()
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, prev); err != nil {
				t.Fatal(err)
			}
			pm := prev.meta()
			pm.Labels = trimmed(pm.Labels, revisionHashLabel, templateGenerationLabel)
			pm.Annotations = trimmed(pm.Annotations, revisionAnnotation, templateGenerationAnnotation)
			if !reflect.DeepEqual(got, prev) {
				t.Errorf("decoded\n %+v\nconverter gave\n %+v", got, prev)
			}
			if _, ok := got.meta().Annotations["kubectl.kubernetes.io/last-applied-configuration"]; ok {
				t.Error("last-applied-configuration kept")
			}
		})
	}
}

func trimmed(m map[string]string, keys ...string) map[string]string {
	var out map[string]string
	for _, k := range keys {
		if v, ok := m[k]; ok {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}

func TestDecodeDetails(t *testing.T) {
	t.Run("keys match case-sensitively, as with the converter", func(t *testing.T) {
		var dec decoder
		var p Pod
		if err := dec.decode([]byte(`{"Metadata":{"name":"a"},"metadata":{"NAME":"b","uid":"u"},"status":{"Phase":"Running"}}`), &p); err != nil {
			t.Fatal(err)
		}
		if p.Name != "" || p.UID != "u" || p.Status.Phase != "" {
			t.Errorf("name %q uid %q phase %q", p.Name, p.UID, p.Status.Phase)
		}
	})
	t.Run("a wrong type is an error", func(t *testing.T) {
		var dec decoder
		var d Deployment
		if err := dec.decode([]byte(`{"metadata":{"name":"web"},"spec":{"replicas":"three"}}`), &d); err == nil {
			t.Error("no error")
		}
	})
	t.Run("equal trimmed maps are shared", func(t *testing.T) {
		var dec decoder
		var a, b, c ReplicaSet
		for _, x := range []struct {
			rs  *ReplicaSet
			raw string
		}{
			{&a, `{"metadata":{"name":"a","labels":{"app":"a"},"annotations":{"deployment.kubernetes.io/revision":"1","x":"y"}}}`},
			{&b, `{"metadata":{"name":"b","annotations":{"deployment.kubernetes.io/revision":"1"}}}`},
			{&c, `{"metadata":{"name":"c","annotations":{"deployment.kubernetes.io/revision":"2"}}}`},
		} {
			if err := dec.decode([]byte(x.raw), x.rs); err != nil {
				t.Fatal(err)
			}
		}
		if a.Labels != nil || !reflect.DeepEqual(a.Annotations, map[string]string{revisionAnnotation: "1"}) {
			t.Errorf("a: labels %v annotations %v", a.Labels, a.Annotations)
		}
		if reflect.ValueOf(a.Annotations).UnsafePointer() != reflect.ValueOf(b.Annotations).UnsafePointer() {
			t.Error("equal annotations not shared")
		}
		if c.Annotations[revisionAnnotation] != "2" {
			t.Errorf("c: annotations %v", c.Annotations)
		}
	})
	t.Run("contents that would read alike run together are told apart", func(t *testing.T) {
		var dec decoder
		var x, y DaemonSet
		if err := dec.decode([]byte(`{"metadata":{"annotations":{"deployment.kubernetes.io/revision":"1deprecated.daemonset.template.generation2"}}}`), &x); err != nil {
			t.Fatal(err)
		}
		if err := dec.decode([]byte(`{"metadata":{"annotations":{"deployment.kubernetes.io/revision":"1","deprecated.daemonset.template.generation":"2"}}}`), &y); err != nil {
			t.Fatal(err)
		}
		if len(x.Annotations) != 1 || len(y.Annotations) != 2 {
			t.Errorf("x %v, y %v", x.Annotations, y.Annotations)
		}
	})
}

func TestReadHead(t *testing.T) {
	h := readHead([]byte(`{"metadata":{"name":"web-1","ownerReferences":[{"uid":"a"},{"uid":"b"}],"annotations":{"huge":"x"}},"spec":{}}`))
	if h.Metadata.Name != "web-1" || !h.ownedBy(map[types.UID]bool{"b": true}) || h.ownedBy(map[types.UID]bool{"c": true}) {
		t.Errorf("head %+v", h)
	}
	if h := readHead([]byte(`{"metadata":{"name":7}}`)); h.Metadata.Name != "" {
		t.Errorf("undecodable metadata gave name %q", h.Metadata.Name)
	}
}
