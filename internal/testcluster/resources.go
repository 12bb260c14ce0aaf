//go:build unix

package testcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
)

// FieldManager is the server-side apply field manager Apply uses.
const FieldManager = "testcluster"

// argoCRDFiles are the files of argo-cd's manifests/crds that
// InstallArgoCRDs applies.
var argoCRDFiles = []string{"application-crd.yaml", "appproject-crd.yaml"}

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// Apply creates or updates every object in manifests (YAML documents
// separated by "---", or JSON; a kind List is expanded) with server-side
// apply, forcing ownership of conflicting fields. Namespaced objects without a
// namespace go to namespace. Objects need a name: generateName is not
// supported by apply. Fields under status are ignored for kinds with a status
// subresource; see UpdateStatus.
func (c *Cluster) Apply(ctx context.Context, manifests []byte, namespace string) error {
	objs, err := decodeManifests(manifests)
	if err != nil {
		return err
	}
	for _, obj := range objs {
		if err := c.applyOne(ctx, obj, namespace); err != nil {
			return err
		}
	}
	return nil
}

func decodeManifests(manifests []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(manifests), 4096)
	var objs []*unstructured.Unstructured
	for i := 0; ; i++ {
		obj := &unstructured.Unstructured{}
		err := dec.Decode(&obj.Object)
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("decode manifest document %d: %w", i, err)
		}
		if len(obj.Object) == 0 { // an empty document, e.g. after a trailing "---"
			continue
		}
		if !obj.IsList() {
			objs = append(objs, obj)
			continue
		}
		err = obj.EachListItem(func(o runtime.Object) error {
			objs = append(objs, o.(*unstructured.Unstructured))
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("decode manifest document %d: %w", i, err)
		}
	}
}

func (c *Cluster) applyOne(ctx context.Context, obj *unstructured.Unstructured, namespace string) error {
	gvk := obj.GroupVersionKind()
	id := fmt.Sprintf("%s %q", gvk.Kind, obj.GetName())
	if obj.GetName() == "" {
		return fmt.Errorf("apply %s: no metadata.name", gvk)
	}
	mapping, err := c.restMapping(ctx, gvk)
	if err != nil {
		return fmt.Errorf("apply %s: %w", id, err)
	}
	var ri dynamic.ResourceInterface
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		if obj.GetNamespace() == "" {
			obj.SetNamespace(namespace)
		}
		if obj.GetNamespace() == "" {
			return fmt.Errorf("apply %s: namespaced kind and no namespace given", id)
		}
		id = fmt.Sprintf("%s %s/%s", gvk.Kind, obj.GetNamespace(), obj.GetName())
		ri = c.Dynamic.Resource(mapping.Resource).Namespace(obj.GetNamespace())
	} else {
		obj.SetNamespace("")
		ri = c.Dynamic.Resource(mapping.Resource)
	}
	if _, err := ri.Apply(ctx, obj.GetName(), obj, metav1.ApplyOptions{FieldManager: FieldManager, Force: true}); err != nil {
		return fmt.Errorf("apply %s: %w", id, err)
	}
	return nil
}

// restMapping maps gvk through discovery, refreshing it for a while when the
// kind is unknown: a CRD's kind reaches discovery shortly after the CRD is
// Established.
func (c *Cluster) restMapping(ctx context.Context, gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	var mapping *meta.RESTMapping
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		var err error
		mapping, err = c.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if meta.IsNoMatchError(err) {
			c.Mapper.Reset()
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		return nil, fmt.Errorf("map kind %s: %w", gvk, err)
	}
	return mapping, nil
}

// InstallArgoCRDs applies the Argo CD Application and AppProject CRDs (from
// manifests/crds of the argo-cd module that install.sh downloaded; see
// EnvArgoCRDs) and waits until they are Established and in discovery. It may
// be called again, also concurrently: apply is idempotent.
func (c *Cluster) InstallArgoCRDs(ctx context.Context) error {
	if c.argoCRDs == "" {
		return fmt.Errorf("argo-cd CRD directory unknown: set %s or run hack/tools/install.sh", EnvArgoCRDs)
	}
	var all []byte
	for _, name := range argoCRDFiles {
		b, err := os.ReadFile(filepath.Join(c.argoCRDs, name))
		if err != nil {
			return fmt.Errorf("read argo-cd CRD: %w", err)
		}
		all = append(append(all, b...), "\n---\n"...)
	}
	return c.InstallCRDs(ctx, all)
}

// InstallCRDs applies manifests, which must hold only
// CustomResourceDefinitions, and waits until each is Established and its
// kind resolves through Mapper.
func (c *Cluster) InstallCRDs(ctx context.Context, manifests []byte) error {
	objs, err := decodeManifests(manifests)
	if err != nil {
		return err
	}
	for _, obj := range objs {
		if obj.GroupVersionKind().GroupKind() != (schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}) {
			return fmt.Errorf("install CRDs: %s %q is not a CustomResourceDefinition", obj.GetKind(), obj.GetName())
		}
		if err := c.applyOne(ctx, obj, ""); err != nil {
			return err
		}
	}
	for _, obj := range objs {
		if err := c.waitEstablished(ctx, obj.GetName()); err != nil {
			return err
		}
		group, _, _ := unstructured.NestedString(obj.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(obj.Object, "spec", "names", "kind")
		versions, _, _ := unstructured.NestedSlice(obj.Object, "spec", "versions")
		for _, v := range versions {
			name, _, _ := unstructured.NestedString(v.(map[string]any), "name")
			if _, err := c.restMapping(ctx, schema.GroupVersionKind{Group: group, Version: name, Kind: kind}); err != nil {
				return fmt.Errorf("CustomResourceDefinition %q: %w", obj.GetName(), err)
			}
		}
	}
	return nil
}

func (c *Cluster) waitEstablished(ctx context.Context, name string) error {
	var last string
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		crd, err := c.Dynamic.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
		last = fmt.Sprint(conds)
		for _, cond := range conds {
			m, _ := cond.(map[string]any)
			if m["type"] == "Established" && m["status"] == "True" {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("wait for CustomResourceDefinition %q to be Established: %w (conditions: %s)", name, err, last)
	}
	return nil
}

// CreateNamespace creates namespace name with labels, and in it the
// ServiceAccount "default": the ServiceAccount admission plugin rejects pods
// without their ServiceAccount, and there is no controller-manager here to
// create it.
func (c *Cluster) CreateNamespace(ctx context.Context, name string, labels map[string]string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	if _, err := c.Client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create namespace %q: %w", name, err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}
	if _, err := c.Client.CoreV1().ServiceAccounts(name).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create serviceaccount %s/default: %w", name, err)
	}
	return nil
}

// ServiceAccountToken returns a token for ServiceAccount namespace/name from
// the TokenRequest API. ttl 0 means the server's default (one hour); the
// server rejects less than ten minutes.
func (c *Cluster) ServiceAccountToken(ctx context.Context, namespace, name string, ttl time.Duration) (string, error) {
	req := &authenticationv1.TokenRequest{}
	if ttl > 0 {
		secs := int64(ttl / time.Second)
		req.Spec.ExpirationSeconds = &secs
	}
	resp, err := c.Client.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name, req, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("request token for serviceaccount %s/%s: %w", namespace, name, err)
	}
	return resp.Status.Token, nil
}

// ConfigFor returns a client config that authenticates as ServiceAccount
// namespace/name with a one-hour token.
func (c *Cluster) ConfigFor(ctx context.Context, namespace, name string) (*rest.Config, error) {
	token, err := c.ServiceAccountToken(ctx, namespace, name, time.Hour)
	if err != nil {
		return nil, err
	}
	return &rest.Config{
		Host:            c.Config.Host,
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{CAData: c.caPEM},
		QPS:             c.Config.QPS,
		Burst:           c.Config.Burst,
	}, nil
}

// KubeconfigFor writes a kubeconfig file in Dir that authenticates as
// ServiceAccount namespace/name (see ConfigFor) and returns its path, for
// running a binary as that identity (KUBECONFIG=path).
func (c *Cluster) KubeconfigFor(ctx context.Context, namespace, name string) (string, error) {
	cfg, err := c.ConfigFor(ctx, namespace, name)
	if err != nil {
		return "", err
	}
	path := filepath.Join(c.Dir, fmt.Sprintf("sa-%s-%s.kubeconfig", namespace, name))
	user := "system:serviceaccount:" + namespace + ":" + name
	if err := writeKubeconfig(path, cfg, user); err != nil {
		return "", fmt.Errorf("write kubeconfig for serviceaccount %s/%s: %w", namespace, name, err)
	}
	return path, nil
}

// UpdateStatus replaces the status of the object gvr namespace/name (namespace
// empty for cluster-scoped kinds) with status, as a controller would. It
// writes through the status subresource when the kind has one (pods, most
// CRDs) and updates the whole object otherwise (Argo CD's Application has
// none), retrying on conflicts. status must hold JSON values only (int64
// rather than int, map[string]any, []any).
func (c *Cluster) UpdateStatus(ctx context.Context, gvr schema.GroupVersionResource, namespace, name string, status map[string]any) error {
	id := fmt.Sprintf("%s %s/%s", gvr.Resource, namespace, name)
	sub, err := c.hasStatusSubresource(gvr)
	if err != nil {
		return fmt.Errorf("update status of %s: %w", id, err)
	}
	var ri dynamic.ResourceInterface = c.Dynamic.Resource(gvr)
	if namespace != "" {
		ri = c.Dynamic.Resource(gvr).Namespace(namespace)
	}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		obj, err := ri.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		obj.Object["status"] = status
		if sub {
			_, err = ri.UpdateStatus(ctx, obj, metav1.UpdateOptions{FieldManager: FieldManager})
		} else {
			_, err = ri.Update(ctx, obj, metav1.UpdateOptions{FieldManager: FieldManager})
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("update status of %s: %w", id, err)
	}
	return nil
}

func (c *Cluster) hasStatusSubresource(gvr schema.GroupVersionResource) (bool, error) {
	list, err := c.Client.Discovery().ServerResourcesForGroupVersion(gvr.GroupVersion().String())
	if err != nil {
		return false, err
	}
	for _, r := range list.APIResources {
		if r.Name == gvr.Resource+"/status" {
			return true, nil
		}
	}
	return false, nil
}
