//go:build linux

package e2e

import (
	"bytes"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"

	"sigs.k8s.io/yaml"
)

// PodLabel selects what kwok does with a pod (see testdata/kwok-stages.yaml):
// "bad-image", "crashloop", "fail", or "hook" (the harness runs the hook).
// Pods without it become Ready (and, owned by a Job, complete) at once.
const PodLabel = "e2e.syncreport.dev/pod"

// NodeName is the one fake node.
const NodeName = "kwok-node-0"

//go:embed testdata/kwok-stages.yaml
var ownStages []byte

// kwokStages is kwok's "fast" node and pod stages from its module, pod-ready
// and pod-complete narrowed to pods without PodLabel, then ours.
func kwokStages(module string) ([]byte, error) {
	dir := filepath.Join(module, "kustomize", "stage")
	files := []struct {
		path    string
		exclude bool
	}{
		{"node/fast/node-initialize.yaml", false},
		{"node/heartbeat-with-lease/node-heartbeat-with-lease.yaml", false},
		{"pod/fast/pod-ready.yaml", true},
		{"pod/fast/pod-complete.yaml", true},
		{"pod/fast/pod-delete.yaml", false},
	}
	var out bytes.Buffer
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f.path))
		if err != nil {
			return nil, fmt.Errorf("kwok stage: %w", err)
		}
		if f.exclude {
			var stage map[string]any
			if err := yaml.Unmarshal(b, &stage); err != nil {
				return nil, fmt.Errorf("kwok stage %s: %w", f.path, err)
			}
			sel := stage["spec"].(map[string]any)["selector"].(map[string]any)
			exprs, _ := sel["matchExpressions"].([]any)
			sel["matchExpressions"] = append(exprs, map[string]any{
				"key":      fmt.Sprintf(".metadata.labels[%q]", PodLabel),
				"operator": "DoesNotExist",
			})
			if b, err = yaml.Marshal(stage); err != nil {
				return nil, err
			}
		}
		out.Write(b)
		out.WriteString("\n---\n")
	}
	out.Write(ownStages)
	return out.Bytes(), nil
}
