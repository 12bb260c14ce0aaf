package argocd

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"sigs.k8s.io/yaml"
)

// Decode reads one Application from JSON or YAML, as `kubectl get app -o
// json|yaml` prints it. A List holding exactly one Application is accepted
// too, since `kubectl get app -l …` prints one.
func Decode(data []byte) (*Application, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, errors.New("empty document")
	}
	if data[0] != '{' {
		j, err := yaml.YAMLToJSON(data)
		if err != nil {
			return nil, fmt.Errorf("not JSON or YAML: %w", err)
		}
		data = j
	}
	var head struct {
		Kind  string            `json:"kind"`
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	switch {
	case head.Kind == "List" && len(head.Items) == 1:
		data = head.Items[0]
	case head.Kind == "List":
		return nil, fmt.Errorf("a list of %d items: pass exactly one Application", len(head.Items))
	case head.Kind != "" && head.Kind != "Application":
		return nil, fmt.Errorf("kind %q: expected an argoproj.io Application", head.Kind)
	}
	var app Application
	if err := json.Unmarshal(data, &app); err != nil {
		return nil, fmt.Errorf("decode Application: %w", err)
	}
	if app.Metadata.Name == "" {
		return nil, errors.New("decode Application: metadata.name is empty")
	}
	app.compact()
	return &app, nil
}

// compact makes a big Application cheaper to hold while the hook diagnoses
// its live objects: the thousands of status.resources and syncResult
// entries repeat a few groups, versions, kinds, namespaces and statuses,
// which decoding allocates anew in each entry, and decoding leaves the
// slices with spare capacity. Values do not change.
func (a *Application) compact() {
	seen := map[string]string{}
	intern := func(fields ...*string) {
		for _, f := range fields {
			if s, ok := seen[*f]; ok {
				*f = s
			} else {
				seen[*f] = *f
			}
		}
	}
	a.Status.Resources = slices.Clone(a.Status.Resources)
	for i := range a.Status.Resources {
		r := &a.Status.Resources[i]
		intern(&r.Group, &r.Version, &r.Kind, &r.Namespace, &r.Status)
	}
	if op := a.Status.OperationState; op != nil && op.SyncResult != nil {
		op.SyncResult.Resources = slices.Clone(op.SyncResult.Resources)
		for i := range op.SyncResult.Resources {
			r := &op.SyncResult.Resources[i]
			intern(&r.Group, &r.Version, &r.Kind, &r.Namespace, &r.Status, &r.HookType, &r.HookPhase, &r.SyncPhase)
		}
	}
}
