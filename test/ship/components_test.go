package ship_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/syncreport/syncreport/test/ship"
)

// The kustomize Components, and which of them go together. A new Component
// fails TestComponentOrder until it is placed here.
var (
	allComponents = []string{"argocd-api", "fleet", "gate", "gate-mark-degraded", "presync-support", "remote-kubeconfig"}
	// exclusive: at most one of them (two ways to read the Application, or
	// the fleet's central settings, which only a hook in Argo CD's own
	// cluster reads).
	exclusive = []string{"argocd-api", "fleet", "remote-kubeconfig"}
	// needs: a Component that is useless without another.
	needs = map[string]string{"gate-mark-degraded": "gate"}
	// remoteFile is the variable each remote Component must give every
	// hook Job, the gate's included, as a file mounted from its Secret.
	remoteFile = map[string]struct {
		name string
		file ship.SecretFile
	}{
		"argocd-api":        {"ARGOCD_AUTH_TOKEN_FILE", ship.SecretFile{Secret: "syncreport-argocd", Key: "token"}},
		"remote-kubeconfig": {"ARGOCD_KUBECONFIG_FILE", ship.SecretFile{Secret: "syncreport-argocd", Key: "kubeconfig"}},
	}
)

// compatibleSets returns every set of Components a user may list together.
func compatibleSets() [][]string {
	var out [][]string
	for mask := range 1 << len(allComponents) {
		var set []string
		for i, c := range allComponents {
			if mask&(1<<i) != 0 {
				set = append(set, c)
			}
		}
		ok := len(set) > 0
		n := 0
		for _, c := range set {
			if slices.Contains(exclusive, c) {
				n++
			}
			if dep, has := needs[c]; has && !slices.Contains(set, dep) {
				ok = false
			}
		}
		if ok && n <= 1 {
			out = append(out, set)
		}
	}
	return out
}

// permutations returns every order of set.
func permutations(set []string) [][]string {
	if len(set) <= 1 {
		return [][]string{slices.Clone(set)}
	}
	var out [][]string
	for i := range set {
		rest := slices.Concat(set[:i], set[i+1:])
		for _, p := range permutations(rest) {
			out = append(out, append([]string{set[i]}, p...))
		}
	}
	return out
}

// canonical prints objects sorted by kind, namespace and name, so two
// renderings compare by content, not by the order kustomize emits them.
func canonical(objs []*unstructured.Unstructured) (string, error) {
	sorted := slices.Clone(objs)
	sort.Slice(sorted, func(i, j int) bool { return ship.ID(sorted[i]) < ship.ID(sorted[j]) })
	var b strings.Builder
	for _, o := range sorted {
		y, err := yaml.Marshal(o.Object)
		if err != nil {
			return "", err
		}
		b.WriteString("---\n")
		b.Write(y)
	}
	return b.String(), nil
}

// TestComponentOrder renders the kustomize hooks with every order of every
// compatible set of Components and wants the same objects whatever the
// order: listing ../components/argocd-api before ../components/gate once
// rendered a gate with no token, which exited 3 at every sync. With a remote
// Component, every hook Job (the gate's too) must get its variable and the
// Secret file it points at.
func TestComponentOrder(t *testing.T) {
	tl := needTools(t)
	root := repoRoot(t)
	entries, err := os.ReadDir(filepath.Join(root, ship.ComponentsDir))
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	if !slices.Equal(dirs, allComponents) {
		t.Fatalf("%s holds %v; allComponents lists %v: say how a new Component combines with the others", ship.ComponentsDir, dirs, allComponents)
	}
	ctx := testContext(t)
	tmp := t.TempDir()
	for _, set := range compatibleSets() {
		t.Run(strings.Join(set, "+"), func(t *testing.T) {
			orders := permutations(set)
			got := make([]string, len(orders))
			errs := make([]error, len(orders))
			var wg sync.WaitGroup
			sem := make(chan struct{}, 2)
			for i, order := range orders {
				wg.Add(1)
				go func() {
					defer wg.Done()
					sem <- struct{}{}
					defer func() { <-sem }()
					o := ship.HooksOptions{Namespace: appNamespace, Components: order}
					if slices.Contains(order, "argocd-api") {
						o.Settings = []string{"ARGOCD_SERVER=argocd.example.com"}
					}
					b, err := tl.RenderHooksWith(ctx, root, tmp, o)
					if err != nil {
						errs[i] = err
						return
					}
					objs, err := ship.Decode(b)
					if err == nil {
						err = checkRemoteFiles(objs, order)
					}
					if err == nil {
						got[i], err = canonical(objs)
					}
					errs[i] = err
				}()
			}
			wg.Wait()
			first := -1
			for i, order := range orders {
				switch {
				case errs[i] != nil:
					t.Errorf("components %v: %v", order, errs[i])
				case first < 0:
					first = i
				case got[i] != got[first]:
					t.Errorf("components %v render other objects than %v:\n%s", order, orders[first], firstDiff([]byte(got[first]), []byte(got[i])))
				}
			}
		})
	}
}

// checkRemoteFiles: with a remote Component, every hook Job reads the
// Application with its variable, pointing at the Component's Secret key.
func checkRemoteFiles(objs []*unstructured.Unstructured, components []string) error {
	for _, c := range components {
		want, ok := remoteFile[c]
		if !ok {
			continue
		}
		jobs := ship.Find(objs, "Job")
		if len(jobs) == 0 {
			return fmt.Errorf("no Job rendered")
		}
		for _, job := range jobs {
			env, err := ship.ContainerEnv(objs, job, ship.Pod{Name: "p", Namespace: appNamespace}, nil)
			if err != nil {
				return err
			}
			path, ok := env[want.name]
			if !ok {
				return fmt.Errorf("%s: no %s (%s)", ship.ID(job), want.name, c)
			}
			f, err := ship.MountedSecretFile(job, path)
			if err != nil {
				return err
			}
			if f.Secret != want.file.Secret || f.Key != want.file.Key {
				return fmt.Errorf("%s: %s=%s is key %q of Secret %q, want key %q of %q", ship.ID(job), want.name, path, f.Key, f.Secret, want.file.Key, want.file.Secret)
			}
		}
	}
	return nil
}
