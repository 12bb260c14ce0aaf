package apiserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/syncreport/syncreport/internal/argocd"
	"github.com/syncreport/syncreport/internal/slacktest"
)

// BenchmarkHookDiagnose3000 runs the hook binary on a failed sync of an app
// of 3000 resources (1000 Deployments, ReplicaSets and Services) over 6000
// pods, every Deployment still rolling out (no controllers run) and one in a
// hundred crash-looping: the worst case for the live diagnosis. It reports
// the API requests the diagnosis made, the wall time of the whole run and
// the process's peak RSS. Staging the 9000 objects takes about a minute, so
// it runs only with SYNCREPORT_BENCH=1 (make bench).
func BenchmarkHookDiagnose3000(b *testing.B) {
	if os.Getenv("SYNCREPORT_BENCH") != "1" {
		b.Skip("SYNCREPORT_BENCH=1 stages 9000 objects")
	}
	const ns, apps, podsPer = "bench3000", 1000, 6
	ctx := context.Background()
	if err := cluster.CreateNamespace(ctx, ns, nil); err != nil {
		b.Fatal(err)
	}
	cfg := rest.CopyConfig(cluster.Config)
	cfg.QPS, cfg.Burst = -1, 0 // measure the apiserver, not a client limiter
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	work := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := stageWorkload(ctx, c, ns, i, podsPer); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
				}
			}
		}()
	}
	for i := range apps {
		work <- i
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	b.Logf("staged %d objects in %s", apps*(3+podsPer), time.Since(start).Round(time.Second))

	var status, results []any
	for i := range apps {
		name := fmt.Sprintf("app%04d", i)
		for _, r := range []map[string]any{
			{"group": "apps", "version": "v1", "kind": "Deployment", "namespace": ns, "name": name},
			{"group": "apps", "version": "v1", "kind": "ReplicaSet", "namespace": ns, "name": name + "-5d7c"},
			{"group": "", "version": "v1", "kind": "Service", "namespace": ns, "name": name},
		} {
			status = append(status, r)
		}
		results = append(results, map[string]any{"group": "apps", "version": "v1", "kind": "Deployment", "namespace": ns,
			"name": name, "status": "Synced", "hookPhase": "Running", "message": "deployment.apps/" + name + " configured"})
	}
	results = append(results, map[string]any{"group": "batch", "version": "v1", "kind": "Job", "namespace": ns,
		"name": "syncreport-syncfail", "hookType": "SyncFail", "hookPhase": "Running"})
	app := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
		"metadata": map[string]any{"name": "big", "namespace": "argocd"},
		"spec":     map[string]any{"project": "default", "destination": map[string]any{"server": "https://kubernetes.default.svc", "namespace": ns}},
		"status": map[string]any{"resources": status, "operationState": map[string]any{
			"phase": "Running", "startedAt": time.Now().UTC().Format(time.RFC3339),
			"operation":  map[string]any{"initiatedBy": map[string]any{"automated": true}},
			"syncResult": map[string]any{"revision": "4f2a1c9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39", "resources": results},
		}},
	}}
	if _, err := cluster.Dynamic.Resource(argocd.ApplicationsGVR).Namespace("argocd").Create(ctx, app, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}

	s := slacktest.New()
	defer s.Close()
	rssFile := filepath.Join(b.TempDir(), "rss")
	env := benchEnv("PATH="+os.Getenv("PATH"), "KUBECONFIG="+cluster.Kubeconfig, "ARGOCD_APP_NAME=big",
		"SLACK_TOKEN="+slacktest.DefaultToken, "SLACK_CHANNEL=#bench", "SLACK_API_URL="+s.URL())
	var maxRSS int64
	var requests int
	b.ResetTimer()
	for b.Loop() {
		cmd := exec.Command("/usr/bin/time", "-f", "%M", "-o", rssFile, hookBin)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("%v\n%s", err, out)
		}
		requests = diagnosisRequests(b, out)
		if os.Getenv("BENCH_EXTRA_ENV") != "" {
			// Keep the run's log (GODEBUG=gctrace=1 shows the heap) for a look.
			os.WriteFile(filepath.Join(os.TempDir(), "hook-bench.log"), out, 0o644)
		}
		var kib int64
		raw, _ := os.ReadFile(rssFile)
		if _, err := fmt.Sscan(string(raw), &kib); err != nil {
			b.Fatalf("GNU time output %q: %v", raw, err)
		}
		maxRSS = max(maxRSS, kib)
	}
	b.StopTimer()
	if posts := s.Posts(); len(posts) == 0 || !strings.Contains(string(posts[0].Blocks), "CrashLoopBackOff") {
		b.Fatalf("no report naming the crash loops")
	}
	b.ReportMetric(float64(requests), "requests")
	b.ReportMetric(float64(maxRSS)/1024, "peak-RSS-MiB")
}

// diagnosisRequests reads the request count from the hook's "diagnosis" log line.
func diagnosisRequests(b *testing.B, out []byte) int {
	for _, line := range strings.Split(string(out), "\n") {
		var l struct {
			Msg      string
			Requests int
			Partial  bool
		}
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "diagnosis" {
			if l.Partial {
				b.Errorf("diagnosis was partial: %s", line)
			}
			return l.Requests
		}
	}
	b.Fatalf("no diagnosis log line in:\n%s", out)
	return 0
}

// stageWorkload creates one Deployment rolling out (its status says so), its
// ReplicaSet, a headless Service and the pods; every hundredth app has a
// crash-looping pod.
func stageWorkload(ctx context.Context, c kubernetes.Interface, ns string, i, pods int) error {
	name := fmt.Sprintf("app%04d", i)
	labels := map[string]string{"app": name}
	tmpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: restrictedPod("default")}
	tmpl.Spec.RestartPolicy = corev1.RestartPolicyAlways
	tmpl.Spec.Containers[0].Name = "app"
	d, err := c.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To(int32(pods)), Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tmpl}},
		metav1.CreateOptions{})
	if err != nil {
		return err
	}
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: int32(pods), UpdatedReplicas: int32(pods), UnavailableReplicas: int32(pods)}
	if _, err := c.AppsV1().Deployments(ns).UpdateStatus(ctx, d, metav1.UpdateOptions{}); err != nil {
		return err
	}
	rs, err := c.AppsV1().ReplicaSets(ns).Create(ctx, &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-5d7c", Labels: labels,
			Annotations:     map[string]string{"deployment.kubernetes.io/revision": "1"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: name, UID: d.UID, Controller: ptr.To(true)}}},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To(int32(pods)), Selector: d.Spec.Selector, Template: tmpl}}, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	// Headless: the test cluster's service range holds fewer than 1000 addresses.
	if _, err := c.CoreV1().Services(ns).Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Selector: labels, Ports: []corev1.ServicePort{{Port: 80}}}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	for k := range pods {
		p, err := c.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", rs.Name, k), Labels: labels,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: ptr.To(true)}}},
			Spec: tmpl.Spec}, metav1.CreateOptions{})
		if err != nil {
			return err
		}
		if i%100 == 0 && k == 0 {
			p.Status = corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{Name: "app", RestartCount: 4,
				State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
				LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Message: "panic: boom"}}}}}
			if _, err := c.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
				return err
			}
		}
	}
	return nil
}
