package ship

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// Pod is what the downward API tells a hook Pod about itself.
type Pod struct {
	Name, Namespace string
}

// PodSpec returns the Pod template spec of a rendered Job or CronJob.
func PodSpec(obj *unstructured.Unstructured) (*corev1.PodSpec, error) {
	switch obj.GetKind() {
	case "Job":
		var job batchv1.Job
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &job); err != nil {
			return nil, fmt.Errorf("%s: %w", ID(obj), err)
		}
		return &job.Spec.Template.Spec, nil
	case "CronJob":
		var cj batchv1.CronJob
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &cj); err != nil {
			return nil, fmt.Errorf("%s: %w", ID(obj), err)
		}
		return &cj.Spec.JobTemplate.Spec.Template.Spec, nil
	}
	return nil, fmt.Errorf("%s: not a Job or CronJob", ID(obj))
}

// ContainerEnv returns the environment the kubelet would give the first
// container of the rendered Job or CronJob obj, running as pod: env values,
// envFrom and configMapKeyRef from the ConfigMaps in objs, secretKeyRef and
// secretRef from the Secrets in objs and then secrets (name → key → value),
// the downward API, and resource limits. A missing optional reference is
// left out, as the kubelet does; a missing required one is an error.
// $(VAR) references are not expanded.
func ContainerEnv(objs []*unstructured.Unstructured, obj *unstructured.Unstructured, pod Pod, secrets map[string]map[string]string) (map[string]string, error) {
	spec, err := PodSpec(obj)
	if err != nil {
		return nil, err
	}
	if len(spec.Containers) == 0 {
		return nil, fmt.Errorf("%s: no container", ID(obj))
	}
	c := spec.Containers[0]
	configMaps, allSecrets, err := data(objs, obj.GetNamespace())
	if err != nil {
		return nil, err
	}
	for name, kv := range secrets {
		allSecrets[name] = kv
	}
	lookup := func(kind string, m map[string]map[string]string, name, key string, optional *bool) (string, bool, error) {
		if v, ok := m[name][key]; ok {
			return v, true, nil
		}
		if optional != nil && *optional {
			return "", false, nil
		}
		return "", false, fmt.Errorf("%s: %s %q has no key %q", ID(obj), kind, name, key)
	}
	env := map[string]string{}
	for _, from := range c.EnvFrom {
		var src map[string]string
		var ok bool
		switch {
		case from.ConfigMapRef != nil:
			src, ok = configMaps[from.ConfigMapRef.Name]
			if !ok && (from.ConfigMapRef.Optional == nil || !*from.ConfigMapRef.Optional) {
				return nil, fmt.Errorf("%s: envFrom ConfigMap %q not found", ID(obj), from.ConfigMapRef.Name)
			}
		case from.SecretRef != nil:
			src, ok = allSecrets[from.SecretRef.Name]
			if !ok && (from.SecretRef.Optional == nil || !*from.SecretRef.Optional) {
				return nil, fmt.Errorf("%s: envFrom Secret %q not found", ID(obj), from.SecretRef.Name)
			}
		}
		for k, v := range src {
			env[from.Prefix+k] = v
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			env[e.Name] = e.Value
			continue
		}
		var (
			v   string
			set = true
			err error
		)
		switch vf := e.ValueFrom; {
		case vf.FieldRef != nil:
			switch vf.FieldRef.FieldPath {
			case "metadata.name":
				v = pod.Name
			case "metadata.namespace":
				v = pod.Namespace
			case "spec.serviceAccountName":
				v = spec.ServiceAccountName
			default:
				err = fmt.Errorf("%s: env %s: fieldRef %s not supported here", ID(obj), e.Name, vf.FieldRef.FieldPath)
			}
		case vf.ResourceFieldRef != nil:
			v, err = resourceValue(c, vf.ResourceFieldRef)
			if err != nil {
				err = fmt.Errorf("%s: env %s: %w", ID(obj), e.Name, err)
			}
		case vf.ConfigMapKeyRef != nil:
			v, set, err = lookup("ConfigMap", configMaps, vf.ConfigMapKeyRef.Name, vf.ConfigMapKeyRef.Key, vf.ConfigMapKeyRef.Optional)
		case vf.SecretKeyRef != nil:
			v, set, err = lookup("Secret", allSecrets, vf.SecretKeyRef.Name, vf.SecretKeyRef.Key, vf.SecretKeyRef.Optional)
		}
		if err != nil {
			return nil, err
		}
		if set {
			env[e.Name] = v
		}
	}
	return env, nil
}

// resourceValue renders a resourceFieldRef as the kubelet does: the
// quantity divided by the divisor (default 1), rounded up.
func resourceValue(c corev1.Container, ref *corev1.ResourceFieldSelector) (string, error) {
	var q resource.Quantity
	var ok bool
	switch ref.Resource {
	case "limits.memory":
		q, ok = c.Resources.Limits[corev1.ResourceMemory]
	case "requests.memory":
		q, ok = c.Resources.Requests[corev1.ResourceMemory]
	case "limits.cpu":
		q, ok = c.Resources.Limits[corev1.ResourceCPU]
	case "requests.cpu":
		q, ok = c.Resources.Requests[corev1.ResourceCPU]
	default:
		return "", fmt.Errorf("resourceFieldRef %s not supported here", ref.Resource)
	}
	if !ok {
		return "", fmt.Errorf("resourceFieldRef %s: not set (the kubelet would use the node's allocatable)", ref.Resource)
	}
	divisor := resource.MustParse("1")
	if !ref.Divisor.IsZero() {
		divisor = ref.Divisor
	}
	n := (q.MilliValue() + divisor.MilliValue() - 1) / divisor.MilliValue()
	return fmt.Sprint(n), nil
}

// data returns the ConfigMaps' and Secrets' data in namespace, by name.
func data(objs []*unstructured.Unstructured, namespace string) (configMaps, secrets map[string]map[string]string, err error) {
	configMaps, secrets = map[string]map[string]string{}, map[string]map[string]string{}
	for _, o := range objs {
		if o.GetNamespace() != namespace {
			continue
		}
		switch o.GetKind() {
		case "ConfigMap":
			m, _, _ := unstructured.NestedStringMap(o.Object, "data")
			configMaps[o.GetName()] = m
		case "Secret":
			m := map[string]string{}
			enc, _, _ := unstructured.NestedStringMap(o.Object, "data")
			for k, v := range enc {
				b, err := base64.StdEncoding.DecodeString(v)
				if err != nil {
					return nil, nil, fmt.Errorf("%s: data.%s: %w", ID(o), k, err)
				}
				m[k] = string(b)
			}
			plain, _, _ := unstructured.NestedStringMap(o.Object, "stringData")
			for k, v := range plain {
				m[k] = v
			}
			secrets[o.GetName()] = m
		}
	}
	return configMaps, secrets, nil
}

// MountSecretFiles does for the files of Secret volumes what ContainerEnv
// does for variables: each variable of env (from ContainerEnv for obj) that
// points into a Secret volume of obj is moved under dir, and the Secret's key
// is written there as the kubelet would mount it. Secrets come from objs and
// then secrets, as for ContainerEnv. A missing Secret or key leaves the file
// out when the volume is optional and is an error otherwise (the kubelet
// would hold the Pod in ContainerCreating).
func MountSecretFiles(objs []*unstructured.Unstructured, obj *unstructured.Unstructured, env map[string]string, secrets map[string]map[string]string, dir string) error {
	_, allSecrets, err := data(objs, obj.GetNamespace())
	if err != nil {
		return err
	}
	for name, kv := range secrets {
		allSecrets[name] = kv
	}
	for k, v := range env {
		f, err := MountedSecretFile(obj, v)
		if err != nil {
			continue // not a path into a Secret volume
		}
		env[k] = filepath.Join(dir, v)
		value, ok := allSecrets[f.Secret][f.Key]
		if !ok {
			if !f.Optional {
				return fmt.Errorf("%s: Secret %s or its key %s is missing for %s", ID(obj), f.Secret, f.Key, v)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(env[k]), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(env[k], []byte(value), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// SecretFile is a file the kubelet fills from a Secret key.
type SecretFile struct {
	Secret, Key string
	// Optional is the volume's optional: a missing Secret or key leaves the
	// file out instead of holding the Pod in ContainerCreating.
	Optional bool
	// ReadOnly is the mount's readOnly.
	ReadOnly bool
}

// MountedSecretFile says which Secret key the kubelet would put at path in
// the first container of the rendered Job or CronJob obj: path must lie under
// a volumeMount whose volume is a Secret; with items, the item whose path is
// the rest of path, else the key of that name. subPath mounts are not
// followed.
func MountedSecretFile(obj *unstructured.Unstructured, path string) (SecretFile, error) {
	spec, err := PodSpec(obj)
	if err != nil {
		return SecretFile{}, err
	}
	if len(spec.Containers) == 0 {
		return SecretFile{}, fmt.Errorf("%s: no container", ID(obj))
	}
	for _, m := range spec.Containers[0].VolumeMounts {
		rest, ok := strings.CutPrefix(path, strings.TrimSuffix(m.MountPath, "/")+"/")
		if !ok || m.SubPath != "" || m.SubPathExpr != "" {
			continue
		}
		i := slices.IndexFunc(spec.Volumes, func(v corev1.Volume) bool { return v.Name == m.Name })
		if i < 0 {
			return SecretFile{}, fmt.Errorf("%s: volumeMount %s names no volume", ID(obj), m.Name)
		}
		s := spec.Volumes[i].Secret
		if s == nil {
			return SecretFile{}, fmt.Errorf("%s: %s is in volume %s, not a Secret", ID(obj), path, m.Name)
		}
		f := SecretFile{Secret: s.SecretName, Optional: s.Optional != nil && *s.Optional, ReadOnly: m.ReadOnly}
		if len(s.Items) == 0 {
			f.Key = rest
			return f, nil
		}
		for _, it := range s.Items {
			if it.Path == rest {
				f.Key = it.Key
				return f, nil
			}
		}
		return SecretFile{}, fmt.Errorf("%s: Secret volume %s has no item for %s", ID(obj), m.Name, rest)
	}
	return SecretFile{}, fmt.Errorf("%s: %s is not under any volumeMount", ID(obj), path)
}
