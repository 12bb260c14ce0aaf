package gate_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
)

// BenchmarkGatePeakRSS6000 measures the gate's peak RSS (GNU time's %M of
// the hook process, as BenchmarkHookDiagnose3000 does for the report) on a
// shared namespace of 6000 running pods of other apps, with realistic
// specs and statuses, and 1000 Warning events, while it judges one
// Deployment there until it is Healthy: the gate lists and watches every
// pod and Warning event of the namespace. Its container's limit is 64 MiB
// (manifests/components/gate).
//
//	SYNCREPORT_BENCH=1 go test ./test/gate -run '^$' -bench GatePeakRSS6000 -benchtime 3x
//
// SYNCREPORT_BENCH_HOOK runs another build of the hook (to compare).
func BenchmarkGatePeakRSS6000(b *testing.B) {
	if os.Getenv("SYNCREPORT_BENCH") != "1" {
		b.Skip("SYNCREPORT_BENCH=1 stages 7000 objects")
	}
	const pods, events = 6000, 1000
	r := newRollout(b, setup{name: "rss"})
	cfg := rest.CopyConfig(cluster.Config)
	cfg.QPS, cfg.Burst = -1, 0
	c, err := kubernetes.NewForConfig(cfg)
	must(b, err)
	start := time.Now()
	parallel(b, pods, func(i int) error { return stagePod(r.ctx, c, r.ns, i) })
	parallel(b, events, func(i int) error { return stageEvent(r.ctx, c, r.ns, i) })
	b.Logf("staged %d pods and %d events in %s", pods, events, time.Since(start).Round(time.Second))
	r.podStatus(running(true))
	r.deployStatus(available)

	bin := hookBin
	if v := os.Getenv("SYNCREPORT_BENCH_HOOK"); v != "" {
		bin = v
	}
	rssFile := filepath.Join(b.TempDir(), "rss")
	var maxRSS int64
	b.ResetTimer()
	for b.Loop() {
		cmd := exec.Command("/usr/bin/time", "-f", "%M", "-o", rssFile, bin, "gate")
		cmd.Env = []string{
			"PATH=" + os.Getenv("PATH"), "HOME=" + b.TempDir(), "KUBECONFIG=" + r.kubeconfig,
			"POD_NAME=" + gateJob + "-q7x2p", "POD_NAMESPACE=" + r.ns,
			"GATE_TERMINATION_LOG=" + filepath.Join(b.TempDir(), "termination-log"), "LOG_LEVEL=info",
		}
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), `"msg":"rollout healthy"`) {
			b.Fatalf("%v\n%s", err, out)
		}
		var kib int64
		raw, _ := os.ReadFile(rssFile)
		if _, err := fmt.Sscan(string(raw), &kib); err != nil {
			b.Fatalf("GNU time output %q: %v", raw, err)
		}
		maxRSS = max(maxRSS, kib)
	}
	b.StopTimer()
	b.ReportMetric(float64(maxRSS)/1024, "peak-RSS-MiB")
}

func parallel(b *testing.B, n int, f func(int) error) {
	work := make(chan int)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := f(i); err != nil {
					once.Do(func() { first = err })
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	must(b, first)
}

// stagePod writes pod i of another app, as a kubelet would leave it
// running: labels, a client-side-apply annotation, two containers with
// environment, probes and limits, a full status.
func stagePod(ctx context.Context, c kubernetes.Interface, ns string, i int) error {
	app := fmt.Sprintf("other%04d", i/6)
	env := make([]corev1.EnvVar, 12)
	for j := range env {
		env[j] = corev1.EnvVar{Name: fmt.Sprintf("SETTING_%02d", j), Value: strings.Repeat("v", 40)}
	}
	probe := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)}}, PeriodSeconds: 10}
	ctr := func(name string) corev1.Container {
		return corev1.Container{Name: name, Image: "ghcr.io/acme/" + app + ":v1.2.3", Env: env, ReadinessProbe: probe, LivenessProbe: probe,
			Ports: []corev1.ContainerPort{{ContainerPort: 8080, Name: "http"}},
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: apiresource.MustParse("100m"), corev1.ResourceMemory: apiresource.MustParse("128Mi")},
				Limits:   corev1.ResourceList{corev1.ResourceMemory: apiresource.MustParse("256Mi")}}}
	}
	p, err := c.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-5d7c-%04d", app, i),
			Labels: map[string]string{"app.kubernetes.io/name": app, "app.kubernetes.io/instance": app, "pod-template-hash": "5d7c",
				"app.kubernetes.io/part-of": "shop", "team": "payments"},
			Annotations: map[string]string{"kubectl.kubernetes.io/last-applied-configuration": strings.Repeat("x", 1500),
				"prometheus.io/scrape": "true", "prometheus.io/port": "8080"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: app + "-5d7c",
				UID: types.UID(fmt.Sprintf("00000000-0000-0000-0000-%012d", i/6)), Controller: ptr.To(true)}}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{ctr("app"), ctr("proxy")}, NodeName: "node-1"},
	}, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	now := metav1.Now()
	p.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.1", HostIP: "192.168.0.1", StartTime: &now,
		Conditions: []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now}}}
	for _, name := range []string{"app", "proxy"} {
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{Name: name, Ready: true, Started: ptr.To(true),
			Image: "ghcr.io/acme/" + app + ":v1.2.3", ImageID: "ghcr.io/acme/" + app + "@sha256:" + strings.Repeat("0", 64),
			ContainerID: "containerd://" + strings.Repeat("a", 64), State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}})
	}
	_, err = c.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{})
	return err
}

// stageEvent writes a Warning event about pod i of another app.
func stageEvent(ctx context.Context, c kubernetes.Interface, ns string, i int) error {
	now := metav1.Now()
	pod := fmt.Sprintf("other%04d-5d7c-%04d", i*6/6, i*6)
	_, err := c.CoreV1().Events(ns).Create(ctx, &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: fmt.Sprintf("%s.%x", pod, i)},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: pod, FieldPath: "spec.containers{app}"},
		Type:           corev1.EventTypeWarning, Reason: "Unhealthy", Count: 3,
		Message:        "Readiness probe failed: Get \"http://10.0.0.1:8080/healthz\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)",
		FirstTimestamp: now, LastTimestamp: now, Source: corev1.EventSource{Component: "kubelet", Host: "node-1"},
	}, metav1.CreateOptions{})
	return err
}
