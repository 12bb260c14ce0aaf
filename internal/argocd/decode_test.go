package argocd

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"unsafe"

	"sigs.k8s.io/yaml"
)

// bigApp is the JSON of an Application with n Deployments and Services in
// status.resources and n entries in its sync result.
func bigApp(n int) []byte {
	var res, results []map[string]any
	for i := range n {
		name := fmt.Sprintf("app%04d", i)
		res = append(res,
			map[string]any{"group": "apps", "version": "v1", "kind": "Deployment", "namespace": "shop", "name": name, "status": "Synced",
				"health": map[string]any{"status": "Progressing"}},
			map[string]any{"version": "v1", "kind": "Service", "namespace": "shop", "name": name, "status": "Synced"})
		results = append(results, map[string]any{"group": "apps", "version": "v1", "kind": "Deployment", "namespace": "shop", "name": name,
			"status": "Synced", "hookPhase": "Running", "syncPhase": "Sync", "message": "deployment.apps/" + name + " configured"})
	}
	b, _ := json.Marshal(map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
		"metadata": map[string]any{"name": "big", "namespace": "argocd", "managedFields": []any{map[string]any{"manager": "argocd-controller"}}},
		"spec":     map[string]any{"project": "default"},
		"status": map[string]any{"resources": res, "operationState": map[string]any{
			"phase": "Running", "startedAt": "2026-11-20T10:00:00Z",
			"syncResult": map[string]any{"revision": "9c0ffee", "resources": results}}},
	})
	return b
}

// TestDecodeCompactKeepsValues checks that the compaction Decode does
// changes no value: the Application equals the one plain JSON decoding
// gives, on the report fixtures and on a big app.
func TestDecodeCompactKeepsValues(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "report", "testdata", "apps", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	docs := map[string][]byte{"big": bigApp(500)}
	for _, f := range files {
		y, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if docs[filepath.Base(f)], err = yaml.YAMLToJSON(y); err != nil {
			t.Fatal(err)
		}
	}
	for name, doc := range docs {
		t.Run(name, func(t *testing.T) {
			got, err := Decode(doc)
			if err != nil {
				t.Fatal(err)
			}
			var want Application
			if err := json.Unmarshal(doc, &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("Decode changed the Application:\n got %+v\nwant %+v", *got, want)
			}
		})
	}
}

func TestDecodeCompactShares(t *testing.T) {
	app, err := Decode(bigApp(500))
	if err != nil {
		t.Fatal(err)
	}
	// Decoding grows a slice by a quarter at a time; a copy is rounded up
	// to whole pages at most.
	trim := func(n, c int) bool { return c-n <= n/16 }
	rs := app.Status.Resources
	if len(rs) != 1000 || !trim(len(rs), cap(rs)) {
		t.Errorf("status.resources: len %d cap %d", len(rs), cap(rs))
	}
	same := func(a, b string) bool { return unsafe.StringData(a) == unsafe.StringData(b) }
	if !same(rs[0].Kind, rs[2].Kind) || !same(rs[0].Namespace, rs[1].Namespace) || !same(rs[0].Status, rs[3].Status) {
		t.Error("repeated strings of status.resources not shared")
	}
	if same(rs[0].Name, rs[2].Name) {
		t.Error("distinct names share memory")
	}
	sr := app.Status.OperationState.SyncResult.Resources
	if !trim(len(sr), cap(sr)) || !same(sr[0].HookPhase, sr[1].HookPhase) || !same(sr[0].Kind, rs[0].Kind) {
		t.Errorf("sync result not compacted: len %d cap %d", len(sr), cap(sr))
	}
}
