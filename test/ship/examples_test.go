package ship_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/syncreport/syncreport/internal/config"
	"github.com/syncreport/syncreport/test/ship"
)

// example is one value the docs show for a variable.
type example struct {
	where, name, value string
}

// variables are the names the hook reads, from internal/config.
func variables() []string {
	var out []string
	ct := reflect.TypeFor[config.Config]()
	for i := range ct.NumField() {
		if k := ct.Field(i).Tag.Get("envconfig"); k != "" {
			out = append(out, k)
		}
	}
	// Longest first, so NOTIFY_ON is not read as NOTIFY.
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// docFiles are the files a user reads or copies settings from: the READMEs
// and docs, the chart's values.yaml and NOTES.txt, the manifests and their
// comments, the examples, and the test values (which the docs point to as
// a sample).
func docFiles(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	for _, dir := range []string{"docs", ship.ChartDir, "manifests", "examples", filepath.Join("test", "ship", "testdata")} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if os.IsNotExist(err) {
					return nil
				}
				return err
			}
			if d.IsDir() {
				if d.Name() == "golden" { // rendered output: TestRenderedEnvValid checks it
					return filepath.SkipDir
				}
				return nil
			}
			switch filepath.Ext(path) {
			case ".md", ".yaml", ".yml", ".txt", ".tpl":
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return append(out, filepath.Join(root, "README.md"))
}

// documentedExamples finds, in every doc file, the forms in which the docs
// give a variable a value:
//
//	NAME=value                    shell, kustomize literals, --set env.NAME=value
//	`NAME: value`                 YAML in prose
//	NAME: value                   a YAML line (env maps, commented examples)
//	- name: NAME / value: value   an EnvVar
//	(NAME): `a`, `b` or `c`.      a chart value's comment (values.yaml) listing its choices
//	| `NAME` | `default` |        README's variable table
func documentedExamples(t *testing.T, root string) []example {
	t.Helper()
	names := strings.Join(variables(), "|")
	forms := []*regexp.Regexp{
		regexp.MustCompile(`\b(` + names + `)=([^\s` + "`" + `'"|)\]]*)`),
		regexp.MustCompile("`(" + names + `): ([^` + "`" + `]*)` + "`"),
		regexp.MustCompile(`(?m)^[\s#-]*(` + names + `):[ \t]+("[^"\n]*"|'[^'\n]*'|[^\s#]+)`),
		regexp.MustCompile(`name: (` + names + `)\s*\n[\s#]*value: ([^\n]+)`),
		regexp.MustCompile("(?m)^\\| `(" + names + ")` \\| `([^`]*)` \\|"),
	}
	choices := regexp.MustCompile(`\((` + names + `)\)[:,]?([^.|]*(?:\.[^\s|][^.|]*)*)`)
	quoted := regexp.MustCompile("`([^`]+)`")
	var out []example
	for _, path := range docFiles(t, root) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, path)
		text := string(b)
		for _, re := range forms {
			for _, m := range re.FindAllStringSubmatchIndex(text, -1) {
				line := 1 + strings.Count(text[:m[0]], "\n")
				value := strings.TrimSpace(text[m[4]:m[5]])
				value = strings.TrimRight(value, ".,;:")
				value = strings.Trim(value, `"'`)
				out = append(out, example{where: rel + ":" + strconv.Itoa(line), name: text[m[2]:m[3]], value: value})
			}
		}
		// A comment block "(NAME): `a`, `b` or `c`." in the chart's
		// values.yaml (its README's table is made from them): each quoted
		// word is a value of NAME.
		if strings.HasSuffix(path, filepath.Join(ship.ChartDir, "values.yaml")) {
			flat := strings.ReplaceAll(strings.ReplaceAll(text, "\n  # ", " "), "\n# ", " ")
			flat = strings.ReplaceAll(flat, "e.g.", "eg")
			for _, m := range choices.FindAllStringSubmatch(flat, -1) {
				for _, q := range quoted.FindAllStringSubmatch(m[2], -1) {
					out = append(out, example{where: rel + " (" + m[1] + ")", name: m[1], value: q[1]})
				}
			}
		}
	}
	return out
}

// TestDocumentedExamples holds every value the docs show for a variable to
// the hook's own check (config.CheckVariable): a user who copies one must
// not get an exit 2 on every sync. Placeholders ("…") are skipped.
func TestDocumentedExamples(t *testing.T) {
	root := repoRoot(t)
	examples := documentedExamples(t, root)
	seen := map[string]bool{}
	for _, e := range examples {
		seen[e.name] = true
		if e.value == "" || strings.Contains(e.value, "…") || strings.Contains(e.value, "...") || strings.Contains(e.value, "{{") {
			continue
		}
		if err := config.CheckVariable(e.name, e.value); err != nil {
			t.Errorf("%s: %s=%s: the hook refuses it: %v", e.where, e.name, e.value, err)
		}
	}
	// The extraction must keep finding the examples it was written for.
	for _, name := range []string{"NOTIFY_ON", "RETRY_NOTIFY", "NOTIFIER", "LOG_LEVEL", "STDOUT_FORMAT", "HOOK_TIMEOUT", "GATE_TIMEOUT", "GATE_MARK_DEGRADED", "ARGOCD_SERVER"} {
		if !seen[name] {
			t.Errorf("no documented example of %s found: the extraction is broken", name)
		}
	}
}

// TestDocumentedExamplesCatchesBadValues checks the extraction on a doc
// with one bad value in each form.
func TestDocumentedExamplesCatchesBadValues(t *testing.T) {
	root := t.TempDir()
	doc := "Set `NOTIFY_ON: failure` or NOTIFY_ON=failure.\n" +
		"| `RETRY_NOTIFY` | `never` | x |\n" +
		"env:\n  LOG_LEVEL: loud\n" +
		"  - name: HOOK_TIMEOUT\n    value: \"120\"\n"
	values := "config:\n  # -- Transport (NOTIFIER): `auto` or `email`.\n  notifier: auto\n"
	for path, text := range map[string]string{"README.md": doc, filepath.Join(ship.ChartDir, "values.yaml"): values} {
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(path)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, path), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var bad []string
	for _, e := range documentedExamples(t, root) {
		if config.CheckVariable(e.name, e.value) != nil {
			bad = append(bad, e.name+"="+e.value)
		}
	}
	slices.Sort(bad)
	bad = slices.Compact(bad)
	want := []string{"HOOK_TIMEOUT=120", "LOG_LEVEL=loud", "NOTIFIER=email", "NOTIFY_ON=failure", "RETRY_NOTIFY=never"}
	if !slices.Equal(bad, want) {
		t.Errorf("refused examples %v, want %v", bad, want)
	}
}

// chartVariables maps a key under the chart's `config` to the variable the
// templates set from it, read from the templates themselves
// ("- name: RETRY_NOTIFY" / "value: {{ $v.config.retryNotify | quote }}").
func chartVariables(t *testing.T, root string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, ship.ChartDir, "templates", "_helpers.tpl"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`- name: ([A-Z_]+)\s*\n\s*value: \{\{ \$v\.config\.([A-Za-z]+)`)
	out := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		out[m[2]] = m[1]
	}
	return out
}

// schemaAccepts evaluates the part of JSON Schema the chart's variable
// checks use (type, enum, pattern, $ref to definitions) on a string, as
// helm does on a --set-string value.
func schemaAccepts(t *testing.T, schema map[string]any, prop map[string]any, s string) bool {
	t.Helper()
	if ref, ok := prop["$ref"].(string); ok {
		defs, _ := schema["definitions"].(map[string]any)
		def, ok := defs[strings.TrimPrefix(ref, "#/definitions/")].(map[string]any)
		if !ok {
			t.Fatalf("schema: unknown $ref %s", ref)
		}
		return schemaAccepts(t, schema, def, s)
	}
	switch ty := prop["type"].(type) {
	case string:
		if ty != "string" {
			return false
		}
	case []any:
		if !slices.Contains(ty, any("string")) {
			return false
		}
	}
	if enum, ok := prop["enum"].([]any); ok && !slices.Contains(enum, any(s)) {
		return false
	}
	if p, ok := prop["pattern"].(string); ok {
		// Go's RE2 and ECMA 262 agree on the patterns used here
		// (classes, groups, alternation, \s, anchors).
		return regexp.MustCompile(p).MatchString(s)
	}
	return true
}

// TestSchemaAgreesWithConfig holds values.schema.json to internal/config,
// so that what renders also runs: every enum of a `config` value equals
// the choices the hook accepts for the variable the templates set from it,
// and every variable the schema checks under `env` accepts a value only
// when the hook does (and, for a list of choices such as NOTIFY_ON, every
// value the hook does).
func TestSchemaAgreesWithConfig(t *testing.T) {
	root := repoRoot(t)
	var schema map[string]any
	readYAML(t, filepath.Join(root, ship.ChartDir, "values.schema.json"), &schema)
	props := func(path ...string) map[string]any {
		s := schema
		for _, p := range path {
			ps, _ := s["properties"].(map[string]any)
			s, _ = ps[p].(map[string]any)
		}
		ps, _ := s["properties"].(map[string]any)
		return ps
	}
	vars := chartVariables(t, root)
	choices := config.Choices()
	enums := 0
	for key, p := range props("config") {
		enum, ok := p.(map[string]any)["enum"].([]any)
		if !ok {
			continue
		}
		enums++
		name, ok := vars[key]
		if !ok {
			t.Errorf("config.%s has an enum but no template sets a variable from it", key)
			continue
		}
		var got []string
		for _, v := range enum {
			got = append(got, v.(string))
		}
		want := slices.Clone(choices[name])
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("values.schema.json config.%s enum %v; the hook accepts %s in %v", key, got, name, want)
		}
	}
	if enums < 4 {
		t.Errorf("found %d enums under config, want notifier, stdoutFormat, retryNotify, logLevel at least", enums)
	}
	samples := []string{"", "true", "false", "1", "0", "yes", "T", "20", "0x10", "-1", "-5", "3", "1.5",
		"10s", "0s", "1m30s", "-10s", "0.5s", "late", "failed", "failure", "failed,degraded", "succeeded, unknown",
		"failed,,degraded", "failedsucceeded", "Failed", ",", "progressing , unknown"}
	for _, vs := range choices {
		samples = append(samples, vs...)
	}
	env := props("env")
	if _, ok := env["NOTIFY_ON"]; !ok {
		t.Fatal("values.schema.json does not check env.NOTIFY_ON")
	}
	for name, p := range env {
		for _, s := range samples {
			schemaOK := schemaAccepts(t, schema, p.(map[string]any), s)
			err := config.CheckVariable(name, s)
			if schemaOK && err != nil {
				t.Errorf("env.%s=%q renders, and the hook refuses it: %v", name, s, err)
			}
			if _, listed := choices[name]; listed && !schemaOK && err == nil {
				t.Errorf("env.%s=%q: the schema refuses a value the hook accepts", name, s)
			}
		}
	}
}

// TestRenderedEnvValid checks every plain value that every rendering (the
// chart with default, custom and test values, the kustomize hooks with
// their Components) gives a hook variable with the hook's own check: a value
// the hook refuses would make it exit 2 at every sync.
func TestRenderedEnvValid(t *testing.T) {
	for _, r := range renderAll(t) {
		t.Run(r.name, func(t *testing.T) {
			for _, hc := range hookContainers(t, r.objs) {
				env := declaredEnv(t, r.objs, hc.c)
				for _, e := range hc.c.Env {
					if e.ValueFrom != nil {
						delete(env, e.Name) // a Secret or the downward API: not ours to check
					}
				}
				for name, value := range env {
					if !slices.Contains(variables(), name) {
						continue // TestEnvVarsKnownToHook
					}
					if err := config.CheckVariable(name, value); err != nil {
						t.Errorf("%s: %s=%q: the hook refuses it: %v", ship.ID(hc.owner), name, value, err)
					}
				}
			}
		})
	}
}
