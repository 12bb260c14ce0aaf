//go:build linux

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/syncreport/syncreport/test/ship"
)

// ApplicationsGVR is Argo CD's Application resource.
var ApplicationsGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}

// Annotations Argo CD puts on (or reads from) hook resources.
const (
	HookAnnotation     = "argocd.argoproj.io/hook"
	TrackingAnnotation = "argocd.argoproj.io/tracking-id"
)

// HookRun is one run of the hook binary for a pod labelled PodLabel=hook.
type HookRun struct {
	Cluster             string // the API server of the pod's cluster
	Namespace, Pod, Job string
	HookType            string // the Job's argocd.argoproj.io/hook
	AppNamespace, App   string // from the Job's tracking id
	// AppAtStart and AppAtEnd are the Application just before the hook ran
	// and right after it exited: what a hook sees, for the record.
	AppAtStart, AppAtEnd *unstructured.Unstructured
	Start, End           time.Time
	ExitCode             int
	Stdout, Stderr       string
	// TerminationMessage is what the hook wrote to its terminationMessagePath.
	TerminationMessage string
	Err                error // the harness failed to run it
}

// terminationLog stands in for the kubelet's mount of the container's
// terminationMessagePath (default /dev/termination-log): the hook runs on
// this machine, where that path must not be written, so the variable the
// hook takes the path from (GATE_TERMINATION_LOG, whose default is the
// Kubernetes default) is pointed at file when it is unset or names the
// pod's path.
func terminationLog(env []string, podPath, file string) []string {
	if podPath == "" {
		podPath = corev1.TerminationMessagePathDefault
	}
	const name = "GATE_TERMINATION_LOG="
	for i, e := range env {
		if v, ok := strings.CutPrefix(e, name); ok {
			if v == podPath {
				env[i] = name + file
			}
			return env
		}
	}
	return append(env, name+file)
}

// HookRunner plays the kubelet for the hook pods of one cluster: kwok runs
// no containers. For each scheduled pod labelled PodLabel=hook it resolves
// the container's environment as the kubelet would (test/ship.ContainerEnv:
// envFrom, fieldRef, secretKeyRef, resourceFieldRef), gets a token for the
// pod's ServiceAccount from that cluster's TokenRequest API, runs the built
// hook binary with that identity, a kubeconfig for that cluster and the
// container's args, and writes the container's running and terminated
// states and the pod phase to the pod's status.
type HookRunner struct {
	client kubernetes.Interface // the pods' cluster
	cfg    *rest.Config
	// apps reads Applications in Argo CD's cluster, which is not the pods'
	// when they run in a remote destination cluster.
	apps    dynamic.Interface
	hookBin string
	dir     string
	cancel  context.CancelFunc

	mu      sync.Mutex
	started map[string]bool // pod UIDs
	runs    []*HookRun
	wg      sync.WaitGroup
}

// startHookRunner runs c's hook pods until stop.
func startHookRunner(c *Cluster, apps dynamic.Interface, hookBin, dir string) *HookRunner {
	ctx, cancel := context.WithCancel(context.Background())
	r := &HookRunner{client: c.Client, cfg: c.Config, apps: apps, hookBin: hookBin, dir: dir, cancel: cancel, started: map[string]bool{}}
	f := informers.NewSharedInformerFactoryWithOptions(c.Client, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.LabelSelector = PodLabel + "=hook"
	}))
	inf := f.Core().V1().Pods().Informer()
	handle := func(obj any) {
		pod, ok := obj.(*corev1.Pod)
		if !ok || pod.Spec.NodeName == "" || pod.DeletionTimestamp != nil || pod.Status.Phase != corev1.PodPending {
			return
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.started[string(pod.UID)] {
			return
		}
		r.started[string(pod.UID)] = true
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.run(ctx, pod.DeepCopy())
		}()
	}
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    handle,
		UpdateFunc: func(_, obj any) { handle(obj) },
	})
	f.Start(ctx.Done())
	return r
}

// Runs returns the runs so far (finished or not), in start order.
func (r *HookRunner) Runs() []*HookRun {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*HookRun(nil), r.runs...)
}

// Wait waits for the runs in progress.
func (r *HookRunner) Wait() { r.wg.Wait() }

// stop stops watching pods and kills the runs in progress.
func (r *HookRunner) stop() { r.cancel() }

func (r *HookRunner) run(ctx context.Context, pod *corev1.Pod) {
	run := &HookRun{Cluster: r.cfg.Host, Namespace: pod.Namespace, Pod: pod.Name, Start: time.Now()}
	r.mu.Lock()
	r.runs = append(r.runs, run)
	r.mu.Unlock()
	out := filepath.Join(r.dir, "hooks", pod.Namespace, pod.Name)
	_ = os.MkdirAll(out, 0o755)
	defer func() {
		b, _ := json.MarshalIndent(map[string]any{
			"cluster": run.Cluster, "hookType": run.HookType, "job": run.Job, "exitCode": run.ExitCode,
			"start": run.Start, "end": run.End, "err": fmt.Sprint(run.Err),
		}, "", "  ")
		_ = os.WriteFile(filepath.Join(out, "run.json"), b, 0o644)
	}()

	if err := r.setRunning(ctx, pod); err != nil {
		run.Err = err
		return
	}
	for _, o := range pod.OwnerReferences {
		if o.Kind == "Job" {
			run.Job = o.Name
		}
	}
	if job, err := r.client.BatchV1().Jobs(pod.Namespace).Get(ctx, run.Job, metav1.GetOptions{}); err == nil {
		run.HookType = job.Annotations[HookAnnotation]
		run.AppNamespace, run.App = appFromTracking(job.Annotations[TrackingAnnotation])
	}
	run.AppAtStart = r.snapshot(ctx, run, filepath.Join(out, "app-at-start.json"))

	env, err := r.env(ctx, pod, filepath.Join(out, "mounts"))
	if err == nil {
		var kubeconfig string
		if kubeconfig, err = r.kubeconfig(ctx, pod, out); err == nil {
			env = append(env, "KUBECONFIG="+kubeconfig, "HOME="+out, "PATH="+os.Getenv("PATH"))
			env = terminationLog(env, pod.Spec.Containers[0].TerminationMessagePath, filepath.Join(out, "termination-log"))
			var stdout, stderr bytes.Buffer
			rctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
			cmd := exec.CommandContext(rctx, r.hookBin, pod.Spec.Containers[0].Args...)
			cmd.Env = env
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err = cmd.Run()
			cancel()
			run.Stdout, run.Stderr = stdout.String(), stderr.String()
			_ = os.WriteFile(filepath.Join(out, "stdout"), stdout.Bytes(), 0o644)
			_ = os.WriteFile(filepath.Join(out, "stderr"), stderr.Bytes(), 0o644)
			if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
				run.ExitCode, err = ee.ExitCode(), nil
			}
			if b, rerr := os.ReadFile(filepath.Join(out, "termination-log")); rerr == nil {
				run.TerminationMessage = string(b)
			}
		}
	}
	run.End = time.Now()
	run.AppAtEnd = r.snapshot(ctx, run, filepath.Join(out, "app-at-end.json"))
	if err != nil {
		// CreateContainerConfigError and the like: the container never ran.
		run.Err, run.ExitCode = err, 128
		run.Stderr = err.Error()
	}
	if err := r.setTerminated(ctx, pod, run); err != nil && run.Err == nil {
		run.Err = err
	}
}

// appFromTracking splits a tracking id "<app>:<group>/<kind>:<ns>/<name>";
// "<ns>_<name>" is an app outside the Argo CD namespace.
func appFromTracking(id string) (namespace, name string) {
	app, _, _ := strings.Cut(id, ":")
	if ns, n, ok := strings.Cut(app, "_"); ok {
		return ns, n
	}
	return ArgoNamespace, app
}

func (r *HookRunner) snapshot(ctx context.Context, run *HookRun, file string) *unstructured.Unstructured {
	if run.App == "" {
		return nil
	}
	app, err := r.apps.Resource(ApplicationsGVR).Namespace(run.AppNamespace).Get(ctx, run.App, metav1.GetOptions{})
	if err != nil {
		return nil
	}
	if b, err := json.MarshalIndent(app.Object, "", "  "); err == nil {
		_ = os.WriteFile(file, b, 0o644)
	}
	return app
}

// env is the container's environment as the kubelet would set it. A
// variable that points into a Secret volume (ARGOCD_AUTH_TOKEN_FILE, say) is
// moved under mounts, where the Secret's key is written as the kubelet would
// mount it; an optional volume whose Secret or key is missing leaves the file
// out.
func (r *HookRunner) env(ctx context.Context, pod *corev1.Pod, mounts string) ([]string, error) {
	var objs []*unstructured.Unstructured
	cms, err := r.client.CoreV1().ConfigMaps(pod.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	for i := range cms.Items {
		u, err := toUnstructured(&cms.Items[i], "v1", "ConfigMap")
		if err != nil {
			return nil, err
		}
		objs = append(objs, u)
	}
	secrets, err := r.client.CoreV1().Secrets(pod.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	for i := range secrets.Items {
		u, err := toUnstructured(&secrets.Items[i], "v1", "Secret")
		if err != nil {
			return nil, err
		}
		objs = append(objs, u)
	}
	spec, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&pod.Spec)
	if err != nil {
		return nil, err
	}
	job := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "batch/v1", "kind": "Job",
		"metadata": map[string]any{"name": pod.Name, "namespace": pod.Namespace},
		"spec":     map[string]any{"template": map[string]any{"spec": spec}},
	}}
	m, err := ship.ContainerEnv(objs, job, ship.Pod{Name: pod.Name, Namespace: pod.Namespace}, nil)
	if err != nil {
		return nil, fmt.Errorf("CreateContainerConfigError: %w", err)
	}
	if err := ship.MountSecretFiles(objs, job, m, nil, mounts); err != nil {
		return nil, fmt.Errorf("ContainerCreating: %w", err)
	}
	env := make([]string, 0, len(m))
	for k, v := range m {
		env = append(env, k+"="+v)
	}
	return env, nil
}

func toUnstructured(obj runtime.Object, apiVersion, kind string) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	return u, nil
}

// kubeconfig writes a kubeconfig holding a token of the pod's
// ServiceAccount, bound to the pod, as the kubelet would mount.
func (r *HookRunner) kubeconfig(ctx context.Context, pod *corev1.Pod, dir string) (string, error) {
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	tr, err := r.client.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, sa, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{
			ExpirationSeconds: ptr.To[int64](3600),
			BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("token for serviceaccount %s/%s: %w", pod.Namespace, sa, err)
	}
	path := filepath.Join(dir, "kubeconfig")
	cfg := &rest.Config{Host: r.cfg.Host, BearerToken: tr.Status.Token, TLSClientConfig: rest.TLSClientConfig{CAData: r.cfg.CAData}}
	return path, writeKubeconfig(path, cfg, sa)
}

func (r *HookRunner) setRunning(ctx context.Context, pod *corev1.Pod) error {
	now := metav1.Now()
	return r.updateStatus(ctx, pod, func(p *corev1.Pod) {
		c := p.Spec.Containers[0]
		p.Status.Phase = corev1.PodRunning
		p.Status.StartTime = &now
		p.Status.Conditions = podConditions(now, corev1.ConditionTrue, "")
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{
			Name: c.Name, Image: c.Image, ImageID: c.Image + "@sha256:" + strings.Repeat("0", 64),
			Ready: true, Started: ptr.To(true),
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
		}}
	})
}

func (r *HookRunner) setTerminated(ctx context.Context, pod *corev1.Pod, run *HookRun) error {
	now := metav1.Now()
	return r.updateStatus(ctx, pod, func(p *corev1.Pod) {
		c := p.Spec.Containers[0]
		phase, reason, cond := corev1.PodSucceeded, "Completed", "PodCompleted"
		msg := run.TerminationMessage
		if run.ExitCode != 0 {
			phase, reason, cond = corev1.PodFailed, "Error", "PodFailed"
			if msg == "" && c.TerminationMessagePolicy == corev1.TerminationMessageFallbackToLogsOnError {
				msg = tail([]byte(run.Stderr), 80)
				if len(msg) > 2048 {
					msg = msg[len(msg)-2048:]
				}
			}
		}
		p.Status.Phase = phase
		p.Status.Conditions = podConditions(now, corev1.ConditionFalse, cond)
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{
			Name: c.Name, Image: c.Image, ImageID: c.Image + "@sha256:" + strings.Repeat("0", 64),
			Ready: false, Started: ptr.To(false),
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: int32(run.ExitCode), Reason: reason, Message: msg,
				StartedAt: metav1.NewTime(run.Start), FinishedAt: now,
			}},
		}}
	})
}

func podConditions(now metav1.Time, ready corev1.ConditionStatus, reason string) []corev1.PodCondition {
	return []corev1.PodCondition{
		{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now},
		{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: now},
		{Type: corev1.ContainersReady, Status: ready, Reason: reason, LastTransitionTime: now},
		{Type: corev1.PodReady, Status: ready, Reason: reason, LastTransitionTime: now},
	}
}

func (r *HookRunner) updateStatus(ctx context.Context, pod *corev1.Pod, mutate func(*corev1.Pod)) error {
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		p, err := r.client.CoreV1().Pods(pod.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		mutate(p)
		_, err = r.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{})
		return err
	})
	if apierrors.IsNotFound(err) {
		return nil // the Job and its pod were deleted meanwhile
	}
	return err
}
