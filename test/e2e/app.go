//go:build linux

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// hooksPlaceholderNamespace is what manifests/hooks/namespace.yaml ships with.
const hooksPlaceholderNamespace = "my-app"

// RenderHooks renders the repository's manifests/hooks as a user would ship
// them for an app in namespace dest: a copy with namespace.yaml set to dest,
// the configMapGenerator's literals overridden by literals (NAME → value),
// the Components of manifests/components named in components listed (as
// "../components/<name>", next to the copy, as manifests/hooks/README.md
// says), and, for the harness only, PodLabel=hook on the Jobs' pod
// templates. kustomize is the cached kubectl's.
func (s *Stack) RenderHooks(ctx context.Context, dest string, literals map[string]string, components ...string) (string, error) {
	tmp, err := os.MkdirTemp(s.Dir, "hooks-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "hooks")
	for _, d := range []string{"hooks", "components"} {
		if err := copyDir(filepath.Join(s.Tools.Root, "manifests", d), filepath.Join(tmp, d)); err != nil {
			return "", err
		}
	}

	nsFile := filepath.Join(dir, "namespace.yaml")
	b, err := os.ReadFile(nsFile)
	if err != nil {
		return "", err
	}
	placeholder := "namespace: " + hooksPlaceholderNamespace + "\n"
	if !bytes.Contains(b, []byte(placeholder)) {
		return "", fmt.Errorf("manifests/hooks/namespace.yaml has no %q to replace", strings.TrimSpace(placeholder))
	}
	if err := os.WriteFile(nsFile, bytes.Replace(b, []byte(placeholder), []byte("namespace: "+dest+"\n"), 1), 0o644); err != nil {
		return "", err
	}

	kFile := filepath.Join(dir, "kustomization.yaml")
	b, err = os.ReadFile(kFile)
	if err != nil {
		return "", err
	}
	var k map[string]any
	if err := yaml.Unmarshal(b, &k); err != nil {
		return "", err
	}
	gens, _ := k["configMapGenerator"].([]any)
	if len(gens) != 1 {
		return "", fmt.Errorf("manifests/hooks/kustomization.yaml: want one configMapGenerator, have %d", len(gens))
	}
	gen := gens[0].(map[string]any)
	lits, _ := gen["literals"].([]any)
	rest := map[string]string{}
	for name, v := range literals {
		rest[name] = v
	}
	for i, l := range lits {
		name, _, _ := strings.Cut(l.(string), "=")
		if v, ok := rest[name]; ok {
			lits[i] = name + "=" + v
			delete(rest, name)
		}
	}
	for name, v := range rest {
		lits = append(lits, name+"="+v)
	}
	gen["literals"] = lits
	for _, c := range components {
		k["components"] = append(asSlice(k["components"]), "../components/"+c)
	}
	k["patches"] = append(asSlice(k["patches"]), map[string]any{
		"target": map[string]any{"kind": "Job"},
		"patch": fmt.Sprintf("- op: add\n  path: /spec/template/metadata/labels/%s\n  value: hook\n",
			strings.ReplaceAll(PodLabel, "/", "~1")),
	})
	if b, err = yaml.Marshal(k); err != nil {
		return "", err
	}
	if err := os.WriteFile(kFile, b, 0o644); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, s.bin("kubectl"), "kustomize", dir)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("kubectl kustomize manifests/hooks: %w\n%s", err, stderr.String())
	}
	return out.String(), nil
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}

// HookLiterals are the hook settings every scenario uses: the Slack server,
// a link to "Argo CD", debug logs.
func (s *Stack) HookLiterals() map[string]string {
	return map[string]string{
		"SLACK_API_URL": s.Slack.URL(),
		"ARGOCD_URL":    ArgoURL,
		"LOG_LEVEL":     "debug",
	}
}

// AppSpec is an Application to create.
type AppSpec struct {
	Name, Namespace string // Namespace defaults to ArgoNamespace
	Repo            string // name of a Git repository
	Dest            string // destination namespace
	Server          string // destination server; default InClusterServer
	// SyncPolicy is spec.syncPolicy (nil: manual sync).
	SyncPolicy map[string]any
	Project    string // default: "default"
	Path       string // in the repository; default "."
	// HelmValues is source.helm.valuesObject, for a Helm chart at Path.
	HelmValues map[string]any
	// Annotations of the Application (ACN subscriptions, say).
	Annotations map[string]string
}

// CreateApp creates the Application (no sync unless its policy is automated).
func (s *Stack) CreateApp(ctx context.Context, a AppSpec) error {
	if a.Namespace == "" {
		a.Namespace = ArgoNamespace
	}
	if a.Project == "" {
		a.Project = "default"
	}
	if a.Path == "" {
		a.Path = "."
	}
	if a.Server == "" {
		a.Server = InClusterServer
	}
	source := map[string]any{"repoURL": s.Git.URL(a.Repo), "path": a.Path, "targetRevision": "HEAD"}
	if a.HelmValues != nil {
		source["helm"] = map[string]any{"valuesObject": a.HelmValues}
	}
	spec := map[string]any{
		"project": a.Project,
		"source":  source,
		"destination": map[string]any{
			"server": a.Server, "namespace": a.Dest,
		},
	}
	if a.SyncPolicy != nil {
		spec["syncPolicy"] = a.SyncPolicy
	}
	app := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
		"metadata": map[string]any{"name": a.Name, "namespace": a.Namespace},
		"spec":     spec,
	}}
	if len(a.Annotations) > 0 {
		app.SetAnnotations(a.Annotations)
	}
	_, err := s.Dynamic.Resource(ApplicationsGVR).Namespace(a.Namespace).Create(ctx, app, metav1.CreateOptions{})
	return err
}

// App reads an Application.
func (s *Stack) App(ctx context.Context, ns, name string) (*unstructured.Unstructured, error) {
	return s.Dynamic.Resource(ApplicationsGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
}

// ArgoCD runs the argocd CLI against the API server as admin.
func (s *Stack) ArgoCD(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, s.bin("argocd"), args...)
	cmd.Env = append(baseEnv(s.Dir),
		"ARGOCD_SERVER="+ArgoServer,
		"ARGOCD_AUTH_TOKEN="+s.ArgoToken,
		"ARGOCD_OPTS=--server-crt="+s.CAFile)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("argocd %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// WaitApp polls the Application every 250ms until done says so or ctx ends;
// the error then carries the last state.
func (s *Stack) WaitApp(ctx context.Context, ns, name string, done func(*unstructured.Unstructured) bool) (*unstructured.Unstructured, error) {
	var last *unstructured.Unstructured
	err := poll(ctx, 250*time.Millisecond, func() (bool, error) {
		app, err := s.App(ctx, ns, name)
		if err != nil {
			return false, nil
		}
		last = app
		return done(app), nil
	})
	if err != nil {
		st, _, _ := unstructured.NestedMap(lastObj(last), "status")
		b, _ := yaml.Marshal(st)
		return last, fmt.Errorf("application %s/%s: %w; last status:\n%s", ns, name, err, b)
	}
	return last, nil
}

func lastObj(u *unstructured.Unstructured) map[string]any {
	if u == nil {
		return nil
	}
	return u.Object
}

// OperationPhase is status.operationState.phase.
func OperationPhase(app *unstructured.Unstructured) string {
	s, _, _ := unstructured.NestedString(app.Object, "status", "operationState", "phase")
	return s
}

// OperationFinished reports whether the current operation ended
// (finishedAt set) and no new one is pending.
func OperationFinished(app *unstructured.Unstructured) bool {
	if _, pending, _ := unstructured.NestedMap(app.Object, "operation"); pending {
		return false
	}
	f, _, _ := unstructured.NestedString(app.Object, "status", "operationState", "finishedAt")
	return f != ""
}

// WaitMessages waits until at least n Slack messages mention marker.
func (s *Stack) WaitMessages(ctx context.Context, marker string, n int) ([]Message, error) {
	var got []Message
	err := poll(ctx, 200*time.Millisecond, func() (bool, error) {
		got = got[:0]
		for _, m := range s.Slack.Messages() {
			if strings.Contains(m.Raw, marker) {
				got = append(got, m)
			}
		}
		return len(got) >= n, nil
	})
	if err != nil {
		return got, fmt.Errorf("%d of %d Slack messages mentioning %q: %w", len(got), n, marker, err)
	}
	return got, nil
}

// CreateNamespace creates a namespace (for Applications, say).
func (s *Stack) CreateNamespace(ctx context.Context, ns string) error {
	_, err := s.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	return err
}

// RepoFiles reads the files under dirs of the repository (the working tree,
// what a user would push), keyed by their path in it, for Git.Commit.
func (s *Stack) RepoFiles(dirs ...string) (map[string]string, error) {
	files := map[string]string{}
	for _, d := range dirs {
		err := filepath.WalkDir(filepath.Join(s.Tools.Root, d), func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			rel, err := filepath.Rel(s.Tools.Root, p)
			if err != nil {
				return err
			}
			b, err := os.ReadFile(p)
			files[filepath.ToSlash(rel)] = string(b)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}
