package argocd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// Annotations and labels Argo CD puts on the objects it manages. Argo CD sets
// them on the hook Job only, never on its pod template.
const (
	TrackingIDAnnotation = "argocd.argoproj.io/tracking-id"
	InstanceLabel        = "app.kubernetes.io/instance"
	// HookAnnotation makes a resource an Argo CD hook: "PostSync", "SyncFail", …
	HookAnnotation = "argocd.argoproj.io/hook"
)

var (
	podsGVR = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	jobsGVR = schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}
)

// Where says how to find the app: by name, or from the hook's own Pod.
type Where struct {
	AppName, AppNamespace string
	ArgoCDNamespace       string
	PodName, PodNamespace string
}

// Target is the located Application and, when found, the hook's own Job.
type Target struct {
	Name, Namespace string
	Self            *Ref
	// SelfImages are the images of the own Job's pod template. Argo CD
	// counts them in status.summary.images like any workload's, but they
	// are not what was deployed.
	SelfImages []string
	// SelfHook is the own Job's hook annotation: set when this run is an
	// Argo CD hook, empty for a Job made by hand or from the CronJob.
	SelfHook string
	Via      string // "ARGOCD_APP_NAME", "tracking-id annotation", "instance label"
}

// ErrNotLocatable means neither ARGOCD_APP_NAME nor the hook's own Pod
// could name the app.
var ErrNotLocatable = errors.New("cannot tell which Application to report on")

// Locate finds the Application: ARGOCD_APP_NAME when set, else the hook's
// Pod → its owner Job → the Job's tracking-id annotation or instance label.
// The own Job is looked up even when the name is given, because its
// syncResult entry says whether this run is the PostSync or SyncFail hook.
func Locate(ctx context.Context, dyn dynamic.Interface, w Where, log *slog.Logger) (Target, error) {
	var job *unstructured.Unstructured
	var jobErr error
	if w.PodName != "" {
		job, jobErr = ownJob(ctx, dyn, w.PodNamespace, w.PodName, log)
	}
	t := Target{}
	if job != nil {
		t.Self = &Ref{Group: "batch", Kind: "Job", Namespace: job.GetNamespace(), Name: job.GetName()}
		t.SelfImages = templateImages(job)
		t.SelfHook = job.GetAnnotations()[HookAnnotation]
	}
	if w.AppName != "" {
		if jobErr != nil && log != nil {
			log.Warn("cannot find the hook's own Job; the hook type is guessed from the sync result", "error", jobErr.Error())
		}
		t.Name, t.Namespace, t.Via = w.AppName, w.AppNamespace, "ARGOCD_APP_NAME"
		if t.Namespace == "" {
			t.Namespace = w.ArgoCDNamespace
		}
		return t, nil
	}
	if w.PodName == "" {
		return t, fmt.Errorf("%w: set ARGOCD_APP_NAME, or POD_NAME and POD_NAMESPACE from the downward API", ErrNotLocatable)
	}
	if jobErr != nil {
		return t, fmt.Errorf("%w: %w", ErrNotLocatable, jobErr)
	}
	id, via := job.GetAnnotations()[TrackingIDAnnotation], "tracking-id annotation"
	if id == "" {
		id, via = job.GetLabels()[InstanceLabel], "instance label"
	}
	if id == "" {
		return t, fmt.Errorf("%w: Job %s/%s has neither the %s annotation nor the %s label (an ad hoc Job? set ARGOCD_APP_NAME)",
			ErrNotLocatable, job.GetNamespace(), job.GetName(), TrackingIDAnnotation, InstanceLabel)
	}
	t.Name, t.Namespace = ParseAppID(id, w.ArgoCDNamespace)
	t.Via = via
	return t, nil
}

// ParseAppID reads the app out of a tracking id
// ("<app>:<group>/<kind>:<ns>/<name>") or an instance label. Apps outside
// the Argo CD namespace are written "<namespace>_<name>".
func ParseAppID(id, argocdNamespace string) (name, namespace string) {
	app, _, _ := strings.Cut(id, ":")
	if ns, n, ok := strings.Cut(app, "_"); ok {
		return n, ns
	}
	return app, argocdNamespace
}

// ownJob follows the Pod's controller reference to its Job.
func ownJob(ctx context.Context, dyn dynamic.Interface, ns, podName string, log *slog.Logger) (*unstructured.Unstructured, error) {
	get := func(gvr schema.GroupVersionResource, name string) (*unstructured.Unstructured, error) {
		var u *unstructured.Unstructured
		err := Retry(ctx, log, 200*time.Millisecond, "get "+gvr.Resource+" "+ns+"/"+name, func() error {
			var err error
			u, err = dyn.Resource(gvr).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
			return err
		})
		if err != nil {
			return nil, explain(err, "get", gvr.Resource, gvr.Group, ns, name, "")
		}
		return u, nil
	}
	pod, err := get(podsGVR, podName)
	if err != nil {
		return nil, err
	}
	for _, o := range pod.GetOwnerReferences() {
		if o.Kind == "Job" && strings.HasPrefix(o.APIVersion, "batch/") {
			return get(jobsGVR, o.Name)
		}
	}
	return nil, fmt.Errorf("pod %s/%s is not owned by a Job", ns, podName)
}

// templateImages lists the images of a Job's pod template.
func templateImages(job *unstructured.Unstructured) []string {
	var out []string
	for _, field := range []string{"initContainers", "containers"} {
		cs, _, _ := unstructured.NestedSlice(job.Object, "spec", "template", "spec", field)
		for _, c := range cs {
			if m, ok := c.(map[string]any); ok {
				if img, ok := m["image"].(string); ok && img != "" {
					out = append(out, img)
				}
			}
		}
	}
	return out
}
