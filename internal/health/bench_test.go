package health

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/syncreport/syncreport/internal/argocd"
)

// Shape of the benchmark app: per app index one Deployment, its
// ReplicaSet, a Service and podsPerApp pods, all in one namespace.
const (
	benchApps  = 1000
	podsPerApp = 6
	benchNS    = "bench"
)

// BenchmarkDiagnose3000 diagnoses 3000 resources (1000 Deployments, 1000
// ReplicaSets, 1000 Services) over 6000 pods in one namespace on the real
// apiserver. No controller runs, so every Deployment and ReplicaSet is
// Progressing: the worst case, where every pod must be matched. "streamed"
// reads pages as the hook does (Options.Config set); "whole" through the
// dynamic client. Creating the 9000 objects takes a while, so it runs only
// with SYNCREPORT_BENCH=1:
//
//	SYNCREPORT_BENCH=1 go test ./internal/health -run '^$' -bench Diagnose3000 -benchtime 5x
func BenchmarkDiagnose3000(b *testing.B) {
	if os.Getenv("SYNCREPORT_BENCH") != "1" {
		b.Skip("set SYNCREPORT_BENCH=1 to create the 9000 objects this needs")
	}
	needCluster(b)
	refs := stageBench(b)

	for _, bc := range []struct {
		name string
		opts Options
	}{
		{"streamed", Options{Config: cluster.Config}},
		{"whole", Options{}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var d *Diagnosis
			var err error
			for b.Loop() {
				d, err = Diagnose(context.Background(), cluster.Dynamic, refs, bc.opts)
				if err != nil {
					b.Fatal(err)
				}
			}
			if d.Partial {
				b.Errorf("partial: %s", d.PartialReason)
			}
			causes := 0
			for _, r := range d.Results {
				if r.Cause != "" {
					causes++
				}
			}
			b.ReportMetric(float64(d.Requests), "requests/op")
			b.ReportMetric(float64(len(d.Results)), "results/op")
			b.ReportMetric(float64(causes), "causes/op")
		})
	}
}

func stageBench(b *testing.B) []argocd.Ref {
	ctx := context.Background()
	if err := cluster.CreateNamespace(ctx, benchNS, nil); err != nil {
		b.Fatal(err)
	}
	// Client-side throttling would measure the limiter, not the apiserver.
	cfg := rest.CopyConfig(cluster.Config)
	cfg.QPS, cfg.Burst = -1, 0
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}

	start := time.Now()
	work := make(chan int)
	errs := make(chan error, 16)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := createBenchApp(ctx, c, i); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for i := range benchApps {
		work <- i
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	b.Logf("created %d objects in %s", benchApps*(3+podsPerApp), time.Since(start).Round(time.Second))

	refs := make([]argocd.Ref, 0, 3*benchApps)
	for i := range benchApps {
		name := fmt.Sprintf("app%04d", i)
		refs = append(refs,
			argocd.Ref{Group: "apps", Kind: "Deployment", Namespace: benchNS, Name: name},
			argocd.Ref{Group: "apps", Kind: "ReplicaSet", Namespace: benchNS, Name: name + "-5d7c"},
			argocd.Ref{Kind: "Service", Namespace: benchNS, Name: name})
	}
	return refs
}

func createBenchApp(ctx context.Context, c kubernetes.Interface, i int) error {
	name := fmt.Sprintf("app%04d", i)
	tmpl := podTemplate(name)
	d, err := c.AppsV1().Deployments(benchNS).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{Replicas: ptr(int32(podsPerApp)),
			Selector: &metav1.LabelSelector{MatchLabels: tmpl.Labels}, Template: tmpl},
	}, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	rs, err := c.AppsV1().ReplicaSets(benchNS).Create(ctx, &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-5d7c",
			Annotations:     map[string]string{"deployment.kubernetes.io/revision": "1"},
			OwnerReferences: []metav1.OwnerReference{owner("Deployment", "apps/v1", d.ObjectMeta)}},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr(int32(podsPerApp)), Selector: d.Spec.Selector, Template: tmpl},
	}, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	if _, err := c.CoreV1().Services(benchNS).Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name},
		// Headless: the test cluster's service CIDR holds fewer than 1000 IPs.
		Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Selector: tmpl.Labels, Ports: []corev1.ServicePort{{Port: 80}}}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	for k := range podsPerApp {
		p, err := c.CoreV1().Pods(benchNS).Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", rs.Name, k), Labels: tmpl.Labels,
				OwnerReferences: []metav1.OwnerReference{owner("ReplicaSet", "apps/v1", rs.ObjectMeta)}},
			Spec: tmpl.Spec,
		}, metav1.CreateOptions{})
		if err != nil {
			return err
		}
		if i%100 == 0 && k == 0 {
			// One crash loop per hundred apps, so causes get named.
			p.Status = running()
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", RestartCount: 4, Image: tmpl.Spec.Containers[0].Image,
				State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
				LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Message: "panic: boom"}}}}
			if _, err := c.CoreV1().Pods(benchNS).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
				return err
			}
		}
	}
	return nil
}
