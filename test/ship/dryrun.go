package ship

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

// Warning is one warning the API server sent back (a "Warning:" line in
// kubectl), such as a PodSecurity violation in warn mode.
type Warning struct {
	Object string // Kind namespace/name
	Text   string
}

func (w Warning) String() string { return w.Object + ": " + w.Text }

// DryRun creates every object with server-side dry-run (dryRun=All): the API
// server validates, defaults and runs admission (PodSecurity, RBAC
// escalation checks) but stores nothing. Objects keep their namespace; a
// namespaced object without one goes to namespace. It returns the warnings
// the server sent and the errors, one per failed object.
func DryRun(ctx context.Context, cfg *rest.Config, mapper meta.RESTMapper, objs []*unstructured.Unstructured, namespace string) ([]Warning, error) {
	var (
		mu       sync.Mutex
		current  string
		warnings []Warning
	)
	cfg = rest.CopyConfig(cfg)
	cfg.WarningHandler = warningFunc(func(text string) {
		mu.Lock()
		defer mu.Unlock()
		warnings = append(warnings, Warning{Object: current, Text: text})
	})
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, obj := range objs {
		obj = obj.DeepCopy()
		gvk := obj.GroupVersionKind()
		mapping, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", ID(obj), err))
			continue
		}
		var ri dynamic.ResourceInterface = client.Resource(mapping.Resource)
		if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
			if obj.GetNamespace() == "" {
				obj.SetNamespace(namespace)
			}
			ri = client.Resource(mapping.Resource).Namespace(obj.GetNamespace())
		}
		mu.Lock()
		current = ID(obj)
		mu.Unlock()
		if _, err := ri.Create(ctx, obj, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", ID(obj), err))
		}
	}
	mu.Lock()
	defer mu.Unlock()
	return warnings, errors.Join(errs...)
}

// warningFunc adapts a function to rest.WarningHandler.
type warningFunc func(text string)

func (f warningFunc) HandleWarningHeader(code int, _ string, text string) {
	if code == 299 { // the only code Kubernetes defines for warnings
		f(text)
	}
}
