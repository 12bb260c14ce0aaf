package report

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/syncreport/syncreport/internal/argocd"
	"github.com/syncreport/syncreport/internal/recipients"
)

// listPaths returns the JSON path of every slice in t, found by reflection so
// that a list field added to the model later is covered without touching
// this test. "[]" stands for every element of a list: "failures[].logs".
func listPaths(t reflect.Type, prefix string) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t.PkgPath() == "time" {
		return nil
	}
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		path := prefix + name
		ft := f.Type
		if ft.Kind() == reflect.Slice && ft.Elem().Kind() != reflect.Uint8 {
			out = append(out, path)
			out = append(out, listPaths(ft.Elem(), path+"[].")...)
			continue
		}
		out = append(out, listPaths(ft, path+".")...)
	}
	return out
}

// checkLists fails on every list path of v whose value is missing or not a
// JSON array (null included), where the parents exist.
func checkLists(t *testing.T, doc any, path string) {
	t.Helper()
	var walk func(v any, rest, at string)
	walk = func(v any, rest, at string) {
		head, tail, _ := strings.Cut(rest, ".")
		name, each := strings.CutSuffix(head, "[]")
		obj, ok := v.(map[string]any)
		if !ok {
			return // a parent that is absent (a nil *Commit) holds no list
		}
		child, present := obj[name]
		if !each {
			if tail == "" {
				if _, isList := child.([]any); !isList {
					t.Errorf("%s%s is %v, want a list (jq '.%s%s[]' must work)", at, name, child, at, name)
				}
				return
			}
			walk(child, tail, at+name+".")
			return
		}
		if !present {
			return // reported by the list's own path
		}
		list, _ := child.([]any)
		for _, e := range list {
			walk(e, tail, at+name+"[].")
		}
	}
	walk(doc, path, "")
}

func TestJSONListsAreLists(t *testing.T) {
	paths := listPaths(reflect.TypeFor[Report](), "")
	for _, want := range []string{"failures", "recipients", "revisions", "sources", "images", "info", "failures[].logs", "recipients[].sources"} {
		if !slices.Contains(paths, want) {
			t.Fatalf("listPaths found %v, missing %s", paths, want)
		}
	}
	minimal := &argocd.Application{}
	minimal.Metadata.Name, minimal.Metadata.Namespace = "web", "argocd"
	full := loadApp(t, "syncfail-degraded")
	cases := map[string]Report{
		"zero":    {},
		"minimal": Build(minimal, Options{Now: testNow}),
		"full":    Build(full, Options{Now: testNow, ArgoCDURL: "https://argocd.example.com"}),
	}
	// As `hook render` sets them: Collect returns nil when nobody is named.
	r := cases["minimal"]
	r.Recipients = recipients.Collect(minimal, string(r.Verdict), recipients.Settings{})
	cases["minimal, no recipients"] = r
	r = cases["full"]
	r.Recipients = []recipients.Recipient{{Kind: recipients.Channel, Value: "#deploys"}}
	r.Failures = append([]Failure{{Kind: "Pod", Name: "web-1", Message: "crashed"}}, r.Failures...)
	r.Info = []Info{{Name: "pipeline", Value: "1"}}
	d := time.Unix(0, 0)
	r.Commit = &Commit{Revision: "abc", Date: &d}
	cases["full, decorated"] = r
	for name, r := range cases {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := JSON(&b, r); err != nil {
				t.Fatal(err)
			}
			var doc any
			if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			for _, p := range paths {
				checkLists(t, doc, p)
			}
			// json.Marshal, as any other caller would, says the same.
			m, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(m, []byte(":null")) {
				t.Errorf("json.Marshal has a null: %s", m)
			}
		})
	}
}
