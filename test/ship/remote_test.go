package ship_test

import (
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/syncreport/syncreport/test/ship"
)

// remoteRendering is a way to ship the hooks to a remote destination
// cluster, where the hook reads its Application from elsewhere (issue 9).
type remoteRendering struct {
	name string
	// chart is the chart's arguments; without, the kustomize hooks with
	// component and settings.
	chart     []string
	component string
	settings  []string
	files     map[string]ship.SecretFile // variable → the Secret key at its path
	env       map[string]string          // more variables and their values
	absent    []string                   // variables that must not be set
}

var remoteRenderings = []remoteRendering{
	{
		name:      "hooks-remote-kubeconfig",
		component: "remote-kubeconfig",
		files: map[string]ship.SecretFile{
			"ARGOCD_KUBECONFIG_FILE": {Secret: "syncreport-argocd", Key: "kubeconfig"},
		},
		absent: []string{"ARGOCD_SERVER", "ARGOCD_AUTH_TOKEN_FILE", "ARGOCD_AUTH_TOKEN"},
	},
	{
		name:      "hooks-argocd-api",
		component: "argocd-api",
		settings:  []string{"ARGOCD_SERVER=argocd.example.com"},
		files: map[string]ship.SecretFile{
			"ARGOCD_AUTH_TOKEN_FILE": {Secret: "syncreport-argocd", Key: "token"},
		},
		env:    map[string]string{"ARGOCD_SERVER": "argocd.example.com"},
		absent: []string{"ARGOCD_KUBECONFIG_FILE", "ARGOCD_AUTH_TOKEN", "ARGOCD_INSECURE"},
	},
	{
		name:  "chart-remote-kubeconfig",
		chart: []string{"--set", "argocd.remote.mode=kubeconfig", "--set", "argocd.remote.kubeconfigSecret.name=argocd-cluster"},
		files: map[string]ship.SecretFile{
			"ARGOCD_KUBECONFIG_FILE": {Secret: "argocd-cluster", Key: "kubeconfig"},
		},
		absent: []string{"ARGOCD_SERVER", "ARGOCD_AUTH_TOKEN_FILE", "ARGOCD_AUTH_TOKEN"},
	},
	{
		name: "chart-remote-api",
		chart: []string{"--set", "argocd.remote.mode=api", "--set", "argocd.remote.server=https://argocd.example.com/argo",
			"--set", "argocd.remote.tokenSecret.name=argocd-api", "--set", "argocd.remote.tokenSecret.key=api-token",
			"--set", "argocd.remote.caSecret.name=argocd-ca", "--set", "argocd.remote.notifyCommitAuthor=true"},
		files: map[string]ship.SecretFile{
			"ARGOCD_AUTH_TOKEN_FILE": {Secret: "argocd-api", Key: "api-token"},
			"ARGOCD_CA_FILE":         {Secret: "argocd-ca", Key: "ca.crt"},
		},
		env:    map[string]string{"ARGOCD_SERVER": "https://argocd.example.com/argo", "NOTIFY_COMMIT_AUTHOR": "true"},
		absent: []string{"ARGOCD_KUBECONFIG_FILE", "ARGOCD_AUTH_TOKEN", "ARGOCD_INSECURE", "ARGOCD_PLAINTEXT"},
	},
}

// TestRemoteModes checks the remote destination variants as rendered: no
// Role or RoleBinding outside the app namespace and nothing that grants
// Applications (there is no Application in the destination cluster), and
// in every hook Job and the CronJob the variables point at files mounted
// read-only from the right Secret keys. The golden files, the dry-run and
// the Pod checks cover them with the other renderings.
func TestRemoteModes(t *testing.T) {
	byName := map[string]rendering{}
	for _, r := range renderAll(t) {
		byName[r.name] = r
	}
	pod := ship.Pod{Name: "syncreport-syncfail-abcde", Namespace: appNamespace}
	for _, rr := range remoteRenderings {
		t.Run(rr.name, func(t *testing.T) {
			r, ok := byName[rr.name]
			if !ok {
				t.Fatal("not rendered")
			}
			for _, u := range r.objs {
				if u.GetNamespace() != appNamespace {
					t.Errorf("%s: outside the app namespace %s", ship.ID(u), appNamespace)
				}
				switch u.GetKind() {
				case "ClusterRole", "ClusterRoleBinding":
					t.Errorf("%s: cluster-wide RBAC", ship.ID(u))
				case "Role":
					var role rbacv1.Role
					fromUnstructured(t, u, &role)
					for _, rule := range role.Rules {
						if slices.Contains(rule.APIGroups, "argoproj.io") || slices.Contains(rule.APIGroups, "*") {
							t.Errorf("%s: grants %v on %v", ship.ID(u), rule.Verbs, rule.Resources)
						}
					}
				}
			}
			workloads := append(ship.Find(r.objs, "Job"), ship.Find(r.objs, "CronJob")...)
			if len(workloads) == 0 {
				t.Fatal("no Job rendered")
			}
			for _, u := range workloads {
				env, err := ship.ContainerEnv(r.objs, u, pod, nil)
				if err != nil {
					t.Fatal(err)
				}
				for _, name := range slices.Sorted(maps.Keys(rr.files)) {
					want := rr.files[name]
					path, ok := env[name]
					if !ok {
						t.Errorf("%s: %s not set", ship.ID(u), name)
						continue
					}
					got, err := ship.MountedSecretFile(u, path)
					if err != nil {
						t.Errorf("%s: %s=%s: %v", ship.ID(u), name, path, err)
						continue
					}
					if got.Secret != want.Secret || got.Key != want.Key {
						t.Errorf("%s: %s=%s is Secret %s key %s, want Secret %s key %s", ship.ID(u), name, path, got.Secret, got.Key, want.Secret, want.Key)
					}
					if !got.ReadOnly {
						t.Errorf("%s: %s is mounted read-write", ship.ID(u), path)
					}
					if !got.Optional {
						t.Errorf("%s: the volume of %s is not optional: a missing Secret would hold the Pod in ContainerCreating instead of failing the hook with a message", ship.ID(u), path)
					}
				}
				for k, v := range rr.env {
					if env[k] != v {
						t.Errorf("%s: %s=%q, want %q", ship.ID(u), k, env[k], v)
					}
				}
				for _, k := range rr.absent {
					if v, ok := env[k]; ok {
						t.Errorf("%s: %s=%q, want unset", ship.ID(u), k, v)
					}
				}
			}
		})
	}
}

// TestMountedSecretFile checks the resolver TestRemoteModes relies on, on
// a Pod spec it must refuse as much as on one it must follow.
func TestMountedSecretFile(t *testing.T) {
	job, err := ship.Decode([]byte(mountsJob))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		want ship.SecretFile
		err  bool
	}{
		{path: "/etc/items/renamed", want: ship.SecretFile{Secret: "s1", Key: "k1", Optional: true, ReadOnly: true}},
		{path: "/etc/whole/token", want: ship.SecretFile{Secret: "s2", Key: "token"}},
		{path: "/etc/items/k1", err: true},       // not an item's path
		{path: "/etc/config/token", err: true},   // a ConfigMap
		{path: "/etc/missing/token", err: true},  // no such volume
		{path: "/etc/itemsX/renamed", err: true}, // a prefix is not a directory
		{path: "/var/run/token", err: true},      // not mounted
	} {
		t.Run(tc.path, func(t *testing.T) {
			got, err := ship.MountedSecretFile(job[0], tc.path)
			if tc.err {
				if err == nil {
					t.Errorf("got %+v, want an error", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

// mountsJob has Secret volumes with and without items, an optional one, a
// ConfigMap volume and a mount without a volume.
const mountsJob = `
apiVersion: batch/v1
kind: Job
metadata: {name: j, namespace: shop}
spec:
  template:
    spec:
      containers:
        - name: hook
          image: example.com/hook:1
          volumeMounts:
            - {name: items, mountPath: /etc/items, readOnly: true}
            - {name: whole, mountPath: /etc/whole/}
            - {name: config, mountPath: /etc/config}
            - {name: missing, mountPath: /etc/missing}
      volumes:
        - name: items
          secret: {secretName: s1, optional: true, items: [{key: k1, path: renamed}]}
        - name: whole
          secret: {secretName: s2}
        - name: config
          configMap: {name: c}
`

// TestMountSecretFiles checks what the end-to-end runs use to give the hook
// its mounted files: the variable moves to the file, the file holds the key,
// a missing key of an optional volume leaves the file out, of another fails.
func TestMountSecretFiles(t *testing.T) {
	objs, err := ship.Decode([]byte(mountsJob + `
---
apiVersion: v1
kind: Secret
metadata: {name: s2, namespace: shop}
stringData: {token: from-objs}
`))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	env := map[string]string{"A": "/etc/items/renamed", "B": "/etc/whole/token", "C": "plain"}
	if err := ship.MountSecretFiles(objs, objs[0], env, map[string]map[string]string{"s1": {"k1": "from-map"}}, dir); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"A": "from-map", "B": "from-objs"} {
		b, err := os.ReadFile(env[k])
		if err != nil || string(b) != want || !strings.HasPrefix(env[k], dir) {
			t.Errorf("%s=%s holds %q (%v), want %q under %s", k, env[k], b, err, want, dir)
		}
	}
	if env["C"] != "plain" {
		t.Errorf("C=%s, want it untouched", env["C"])
	}

	env = map[string]string{"A": "/etc/items/renamed"}
	if err := ship.MountSecretFiles(objs, objs[0], env, nil, t.TempDir()); err != nil {
		t.Errorf("optional volume without its Secret: %v", err)
	} else if _, err := os.Stat(env["A"]); !os.IsNotExist(err) {
		t.Errorf("optional volume without its Secret: %s exists (%v)", env["A"], err)
	}
	env = map[string]string{"B": "/etc/whole/other"}
	if err := ship.MountSecretFiles(objs, objs[0], env, nil, t.TempDir()); err == nil {
		t.Error("a key missing from a required volume: no error")
	}
}
