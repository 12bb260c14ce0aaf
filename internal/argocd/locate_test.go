package argocd

import (
	"slices"
	"testing"

	"sigs.k8s.io/yaml"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestTemplateImages(t *testing.T) {
	var obj map[string]any
	err := yaml.Unmarshal([]byte(`
apiVersion: batch/v1
kind: Job
spec:
  template:
    spec:
      initContainers:
      - name: wait
        image: busybox:1.37
      containers:
      - name: hook
        image: ghcr.io/syncreport/syncreport:v0.1.0
      - name: no-image
`), &obj)
	if err != nil {
		t.Fatal(err)
	}
	got := templateImages(&unstructured.Unstructured{Object: obj})
	if want := []string{"busybox:1.37", "ghcr.io/syncreport/syncreport:v0.1.0"}; !slices.Equal(got, want) {
		t.Errorf("templateImages = %q, want %q", got, want)
	}
	if got := templateImages(&unstructured.Unstructured{Object: map[string]any{"spec": "not a map"}}); got != nil {
		t.Errorf("templateImages of a malformed Job = %q, want none", got)
	}
}
