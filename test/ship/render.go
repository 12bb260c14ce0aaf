package ship

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Paths of what is shipped, relative to the repository root.
const (
	ChartDir       = "helm/syncreport"
	ParentChartDir = "examples/parent-chart"
	HooksDir       = "manifests/hooks"
	ComponentsDir  = "manifests/components"
	Dockerfile     = "Dockerfile"
)

// HooksPlaceholderNamespace is the app namespace manifests/hooks/namespace.yaml
// ships with; users replace it with their Application's destination.
const HooksPlaceholderNamespace = "my-app"

// HookAnnotation marks an Argo CD resource hook.
const HookAnnotation = "argocd.argoproj.io/hook"

// HelmTemplate runs `helm template release chartDir --namespace namespace`
// with extra arguments (e.g. "--set", "a=b", "-f", "values.yaml") and returns
// the manifests.
func (t *Tools) HelmTemplate(ctx context.Context, chartDir, release, namespace string, args ...string) ([]byte, error) {
	argv := append([]string{t.Helm, "template", release, chartDir, "--namespace", namespace}, args...)
	return run(ctx, "", argv)
}

// HelmLint runs `helm lint --strict chartDir` with extra arguments and
// returns its output.
func (t *Tools) HelmLint(ctx context.Context, chartDir string, args ...string) ([]byte, error) {
	return run(ctx, "", append([]string{t.Helm, "lint", "--strict", chartDir}, args...))
}

// HelmNotes returns the chart's NOTES.txt as `helm install --dry-run=client`
// prints it; helm asks the cluster of kubeconfig for its version.
func (t *Tools) HelmNotes(ctx context.Context, kubeconfig, chartDir, release, namespace string, args ...string) (string, error) {
	argv := append([]string{t.Helm, "install", release, chartDir, "--namespace", namespace, "--dry-run=client", "--kubeconfig", kubeconfig}, args...)
	out, err := run(ctx, "", argv)
	if err != nil {
		return "", err
	}
	_, notes, ok := strings.Cut(string(out), "NOTES:\n")
	if !ok {
		return "", fmt.Errorf("helm install --dry-run printed no NOTES:\n%s", out)
	}
	return notes, nil
}

// RenderChart renders helm/syncreport of the repository at root.
func (t *Tools) RenderChart(ctx context.Context, root, release, namespace string, args ...string) ([]byte, error) {
	return t.HelmTemplate(ctx, filepath.Join(root, ChartDir), release, namespace, args...)
}

// PrepareParentChart copies examples/parent-chart and helm/syncreport into a
// new directory under tmp, keeping their relative layout (the example's
// dependency is file://../../helm/syncreport), and runs `helm dependency
// build` there, which needs no network for a file:// dependency. It returns
// the copied example chart's directory; the repository is not touched.
func (t *Tools) PrepareParentChart(ctx context.Context, root, tmp string) (string, error) {
	for _, dir := range []string{ParentChartDir, ChartDir} {
		if err := copyDir(filepath.Join(root, dir), filepath.Join(tmp, dir)); err != nil {
			return "", err
		}
	}
	// A charts/ or Chart.lock left by a manual run must not hide a stale one.
	chart := filepath.Join(tmp, ParentChartDir)
	for _, stale := range []string{"charts", "Chart.lock"} {
		if err := os.RemoveAll(filepath.Join(chart, stale)); err != nil {
			return "", err
		}
	}
	if _, err := run(ctx, "", []string{t.Helm, "dependency", "build", chart}); err != nil {
		return "", err
	}
	return chart, nil
}

// RenderParentChart renders the example parent chart (see PrepareParentChart).
func (t *Tools) RenderParentChart(ctx context.Context, root, tmp, release, namespace string, args ...string) ([]byte, error) {
	chart, err := t.PrepareParentChart(ctx, root, tmp)
	if err != nil {
		return nil, err
	}
	return t.HelmTemplate(ctx, chart, release, namespace, args...)
}

// KustomizeBuild runs kustomize's build on dir.
func (t *Tools) KustomizeBuild(ctx context.Context, dir string) ([]byte, error) {
	return run(ctx, "", append(slices.Clone(t.Kustomize), dir))
}

// RenderHooks builds manifests/hooks as a user would after setting the app
// namespace in namespace.yaml (see RenderHooksWith).
func (t *Tools) RenderHooks(ctx context.Context, root, tmp, appNamespace string) ([]byte, error) {
	return t.RenderHooksWith(ctx, root, tmp, HooksOptions{Namespace: appNamespace})
}

// HooksOptions are the edits a user makes to a copy of manifests/hooks.
type HooksOptions struct {
	// Namespace replaces HooksPlaceholderNamespace in namespace.yaml.
	Namespace string
	// Settings are NAME=value lines for the hook's configMapGenerator;
	// each replaces the shipped line of the same name, or is added.
	Settings []string
	// Components are directories of manifests/components, listed under
	// `components:` as ../components/<name>.
	Components []string
}

// RenderHooksWith copies manifests/hooks and manifests/components into a new
// directory under tmp, keeping their layout, makes the edits of o there and
// runs kustomize on the hooks; the repository is not touched.
func (t *Tools) RenderHooksWith(ctx context.Context, root, tmp string, o HooksOptions) ([]byte, error) {
	base, err := os.MkdirTemp(tmp, "manifests-")
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(base, "hooks")
	for src, dst := range map[string]string{HooksDir: dir, ComponentsDir: filepath.Join(base, "components")} {
		if err := copyDir(filepath.Join(root, src), dst); err != nil {
			return nil, err
		}
	}
	nsFile := filepath.Join(dir, "namespace.yaml")
	b, err := os.ReadFile(nsFile)
	if err != nil {
		return nil, err
	}
	old := "  namespace: " + HooksPlaceholderNamespace + "\n"
	if n := bytes.Count(b, []byte(old)); n != 1 {
		return nil, fmt.Errorf("%s: want one line %q, found %d", nsFile, strings.TrimSpace(old), n)
	}
	b = bytes.Replace(b, []byte(old), []byte("  namespace: "+o.Namespace+"\n"), 1)
	if err := os.WriteFile(nsFile, b, 0o644); err != nil {
		return nil, err
	}
	if len(o.Settings) > 0 || len(o.Components) > 0 {
		if err := editKustomization(filepath.Join(dir, "kustomization.yaml"), o); err != nil {
			return nil, err
		}
	}
	return t.KustomizeBuild(ctx, dir)
}

// editKustomization adds o's settings to the ConfigMap "syncreport" and its
// components. The file is rewritten without its comments.
func editKustomization(path string, o HooksOptions) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if len(o.Settings) > 0 {
		gens, _ := doc["configMapGenerator"].([]any)
		var gen map[string]any
		for _, g := range gens {
			if m, ok := g.(map[string]any); ok && m["name"] == "syncreport" {
				gen = m
			}
		}
		if gen == nil {
			return fmt.Errorf("%s: no configMapGenerator named syncreport", path)
		}
		literals, _ := gen["literals"].([]any)
		for _, set := range o.Settings {
			name, _, ok := strings.Cut(set, "=")
			if !ok {
				return fmt.Errorf("setting %q: want NAME=value", set)
			}
			i := slices.IndexFunc(literals, func(l any) bool { return strings.HasPrefix(fmt.Sprint(l), name+"=") })
			if i < 0 {
				literals = append(literals, set)
			} else {
				literals[i] = set
			}
		}
		gen["literals"] = literals
	}
	components, _ := doc["components"].([]any)
	for _, c := range o.Components {
		components = append(components, "../components/"+c)
	}
	if len(components) > 0 {
		doc["components"] = components
	}
	out, err := yaml.Marshal(doc)
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, 0o644)
}

// Decode splits YAML or JSON manifests into objects, skipping empty
// documents and expanding Lists.
func Decode(manifests []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(manifests), 4096)
	var objs []*unstructured.Unstructured
	for i := 0; ; i++ {
		obj := &unstructured.Unstructured{}
		err := dec.Decode(&obj.Object)
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("manifest document %d: %w", i, err)
		}
		if len(obj.Object) == 0 {
			continue
		}
		if !obj.IsList() {
			objs = append(objs, obj)
			continue
		}
		list, err := obj.ToList()
		if err != nil {
			return nil, fmt.Errorf("manifest document %d: %w", i, err)
		}
		for i := range list.Items {
			objs = append(objs, &list.Items[i])
		}
	}
}

// IsHook reports whether obj is an Argo CD resource hook: Argo CD creates it
// during a sync, while the others are applied as the app's resources.
func IsHook(obj *unstructured.Unstructured) bool {
	_, ok := obj.GetAnnotations()[HookAnnotation]
	return ok
}

// Find returns the objects of kind, in order.
func Find(objs []*unstructured.Unstructured, kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

// ID names obj for messages: Kind namespace/name.
func ID(obj *unstructured.Unstructured) string {
	if obj.GetNamespace() == "" {
		return obj.GetKind() + " " + obj.GetName()
	}
	return obj.GetKind() + " " + obj.GetNamespace() + "/" + obj.GetName()
}

func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}
