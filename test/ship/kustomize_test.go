package ship_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/syncreport/syncreport/test/ship"
)

// TestHooksNamespaces checks the one edit a user makes (namespace.yaml) and
// ARGOCD_NAMESPACE place every object: the app's in the app namespace, the
// Application Role in the Argo CD namespace, named after the app namespace
// and bound to the app namespace's ServiceAccount.
func TestHooksNamespaces(t *testing.T) {
	tl := needTools(t)
	ctx := testContext(t)
	root := repoRoot(t)
	for _, tc := range []struct {
		name, appNS, argoNS string
	}{
		{"defaults", "shop", "argocd"},
		{"other Argo CD namespace", "billing-prod", "gitops"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "hooks")
			if err := os.CopyFS(dir, os.DirFS(filepath.Join(root, ship.HooksDir))); err != nil {
				t.Fatal(err)
			}
			edit(t, filepath.Join(dir, "namespace.yaml"), "namespace: "+ship.HooksPlaceholderNamespace+"\n", "namespace: "+tc.appNS+"\n")
			edit(t, filepath.Join(dir, "kustomization.yaml"), "ARGOCD_NAMESPACE=argocd\n", "ARGOCD_NAMESPACE="+tc.argoNS+"\n")
			b, err := tl.KustomizeBuild(ctx, dir)
			if err != nil {
				t.Fatal(err)
			}
			objs, err := ship.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			argoName := "syncreport-" + tc.appNS
			for _, u := range objs {
				wantNS := tc.appNS
				if u.GetName() == argoName {
					wantNS = tc.argoNS
				}
				if u.GetNamespace() != wantNS {
					t.Errorf("%s: namespace %q, want %q", ship.ID(u), u.GetNamespace(), wantNS)
				}
				if strings.Contains(u.GetName(), "NAMESPACE") {
					t.Errorf("%s: placeholder left in the name", ship.ID(u))
				}
			}
			var found bool
			for _, u := range ship.Find(objs, "RoleBinding") {
				var rb rbacv1.RoleBinding
				fromUnstructured(t, u, &rb)
				if rb.Name != argoName {
					continue
				}
				found = true
				if rb.RoleRef.Name != argoName {
					t.Errorf("%s: roleRef %q, want %q", ship.ID(u), rb.RoleRef.Name, argoName)
				}
				want := rbacv1.Subject{Kind: "ServiceAccount", Name: "syncreport", Namespace: tc.appNS}
				if len(rb.Subjects) != 1 || rb.Subjects[0] != want {
					t.Errorf("%s: subjects %+v, want %+v", ship.ID(u), rb.Subjects, want)
				}
			}
			if !found {
				t.Errorf("no RoleBinding %s/%s", tc.argoNS, argoName)
			}
		})
	}
}

func edit(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), old); n != 1 {
		t.Fatalf("%s: %q found %d times, want once", path, old, n)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}
