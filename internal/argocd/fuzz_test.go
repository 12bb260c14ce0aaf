package argocd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode feeds arbitrary documents to Decode: it never panics, an
// Application it returns has a name, and that Application survives a JSON
// round trip through Decode with the same name (what `render` and the
// Reader rely on: the Reader decodes the apiserver's JSON).
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "report", "testdata", "apps", "*.yaml"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`{"metadata":{"name":"web","namespace":"argocd"}}`,
		`{"kind":"List","items":[{"kind":"Application","metadata":{"name":"web"}}]}`,
		`{"kind":"List","items":[null]}`,
		`{"kind":"List","items":[{},{}]}`,
		`{"kind":"Pod","metadata":{"name":"p"}}`,
		"kind: Application\nmetadata:\n  name: \"\\xff\"\n",
		"metadata: {name: &a web, namespace: *a}\n",
		`{"metadata":{"name":"x"},"spec":{"syncPolicy":{"retry":{"limit":-1}}},"status":{"operationState":{"startedAt":"2026-11-20T10:00:00Z","retryCount":3}}}`,
		`{"metadata":{"name":"x"},"status":{"operationState":{"startedAt":"not a time"}}}`,
		"---\nmetadata:\n  name: a\n---\nmetadata:\n  name: b\n",
		"\ufeff{\"metadata\":{\"name\":\"bom\"}}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		app, err := Decode(data)
		if err != nil {
			if app != nil {
				t.Fatalf("an Application along with the error %v", err)
			}
			return
		}
		if app.Metadata.Name == "" {
			t.Fatal("decoded an Application without a name")
		}
		b, err := json.Marshal(app)
		if err != nil {
			t.Fatalf("re-encoding: %v", err)
		}
		again, err := Decode(b)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", b, err)
		}
		if again.Metadata.Name != app.Metadata.Name || again.Metadata.Namespace != app.Metadata.Namespace {
			t.Fatalf("round trip changed %s/%s into %s/%s", app.Metadata.Namespace, app.Metadata.Name,
				again.Metadata.Namespace, again.Metadata.Name)
		}
	})
}
