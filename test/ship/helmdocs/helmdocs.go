// Package helmdocs generates the values table of a chart README from the
// `# --` comments in values.yaml, in the format of helm-docs
// (https://github.com/norwoodj/helm-docs): a `# -- text` comment directly
// above a key documents it, further `#` lines continue the text, and
// `# @default -- text` replaces the shown default. A documented key is one
// row, its whole value the default; an undocumented key must be a map whose
// keys are documented, so every value ends up in the table.
package helmdocs

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"sigs.k8s.io/yaml"
)

// Start and End mark the generated table in a README.
const (
	Start = "<!-- helmdocs:start -->"
	End   = "<!-- helmdocs:end -->"
)

// Value is one documented key.
type Value struct {
	Key         string // dotted path, e.g. image.tag
	Type        string // string, int, float, bool, list, object
	Default     string // markdown for the Default column
	Description string
}

var keyLine = regexp.MustCompile(`^( *)([A-Za-z0-9_-]+):(?:\s+(.*))?$`)

// Parse reads values.yaml and returns its documented keys in file order.
func Parse(values []byte) ([]Value, error) {
	var tree map[string]any
	if err := yaml.Unmarshal(values, &tree); err != nil {
		return nil, fmt.Errorf("values.yaml: %w", err)
	}
	type frame struct {
		indent int
		key    string
	}
	var (
		stack      []frame
		out        []Value
		errs       []error
		desc       []string
		inDoc      bool
		override   string
		skipDeeper = -1 // skip lines indented deeper than this (a documented key's value)
	)
	reset := func() { desc, inDoc, override = nil, false, "" }
	lines := splitLines(values)
	for n, line := range lines {
		trimmed := strings.TrimSpace(line)
		indent := len(line) - len(strings.TrimLeft(line, " "))
		if skipDeeper >= 0 {
			if trimmed == "" || indent > skipDeeper || strings.HasPrefix(trimmed, "- ") && indent == skipDeeper {
				continue
			}
			skipDeeper = -1
		}
		switch {
		case trimmed == "":
			reset()
			continue
		case strings.HasPrefix(trimmed, "# @default --"):
			override = strings.TrimSpace(strings.TrimPrefix(trimmed, "# @default --"))
			continue
		case strings.HasPrefix(trimmed, "# --"):
			reset()
			inDoc = true
			desc = append(desc, strings.TrimSpace(strings.TrimPrefix(trimmed, "# --")))
			continue
		case strings.HasPrefix(trimmed, "#"):
			if inDoc && override == "" {
				desc = append(desc, strings.TrimSpace(strings.TrimPrefix(trimmed, "#")))
			}
			continue
		}
		m := keyLine.FindStringSubmatch(line)
		if m == nil {
			errs = append(errs, fmt.Errorf("values.yaml:%d: cannot read %q (only block mappings are supported)", n+1, trimmed))
			reset()
			continue
		}
		for len(stack) > 0 && stack[len(stack)-1].indent >= indent {
			stack = stack[:len(stack)-1]
		}
		path := make([]string, 0, len(stack)+1)
		for _, f := range stack {
			path = append(path, f.key)
		}
		path = append(path, m[2])
		key := strings.Join(path, ".")
		inline := strings.TrimSpace(m[3])
		switch {
		case inDoc:
			v, ok := lookup(tree, path)
			if !ok {
				errs = append(errs, fmt.Errorf("values.yaml:%d: %s not found in the parsed values", n+1, key))
			}
			out = append(out, Value{
				Key:         key,
				Type:        typeOf(v),
				Default:     defaultOf(v, override),
				Description: strings.Join(desc, " "),
			})
			if inline == "" || strings.HasPrefix(inline, "|") || strings.HasPrefix(inline, ">") {
				skipDeeper = indent
			}
		case inline == "" && hasChildren(lines[n+1:], indent):
			stack = append(stack, frame{indent: indent, key: m[2]})
		default:
			errs = append(errs, fmt.Errorf("values.yaml:%d: %s has no `# --` comment", n+1, key))
		}
		reset()
	}
	return out, errors.Join(errs...)
}

// hasChildren reports whether the next significant line is a key indented
// deeper than indent.
func hasChildren(rest []string, indent int) bool {
	for _, l := range rest {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		return len(l)-len(strings.TrimLeft(l, " ")) > indent && keyLine.MatchString(l)
	}
	return false
}

func splitLines(b []byte) []string {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		lines = append(lines, strings.TrimRight(sc.Text(), " \t"))
	}
	return lines
}

func lookup(tree map[string]any, path []string) (any, bool) {
	var cur any = tree
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func typeOf(v any) string {
	switch v := v.(type) {
	case bool:
		return "bool"
	case float64:
		if v == float64(int64(v)) {
			return "int"
		}
		return "float"
	case []any:
		return "list"
	case map[string]any:
		return "object"
	}
	return "string"
}

func defaultOf(v any, override string) string {
	if override != "" {
		return override
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return "`" + strings.TrimSpace(b.String()) + "`"
}

// Table renders values as a markdown table.
func Table(values []Value) string {
	var b strings.Builder
	b.WriteString("| Key | Type | Default | Description |\n")
	b.WriteString("|-----|------|---------|-------------|\n")
	for _, v := range values {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", v.Key, v.Type, cell(v.Default), cell(v.Description))
	}
	return b.String()
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// Update replaces what lies between Start and End in readme with table.
func Update(readme []byte, table string) ([]byte, error) {
	i := bytes.Index(readme, []byte(Start))
	j := bytes.Index(readme, []byte(End))
	if i < 0 || j < i {
		return nil, fmt.Errorf("README: no %s … %s section", Start, End)
	}
	var out bytes.Buffer
	out.Write(readme[:i+len(Start)])
	out.WriteString("\n\n")
	out.WriteString(table)
	out.WriteString("\n")
	out.Write(readme[j:])
	return out.Bytes(), nil
}

// Generate returns readme with its values table regenerated from values.
func Generate(values, readme []byte) ([]byte, error) {
	vals, err := Parse(values)
	if err != nil {
		return nil, err
	}
	return Update(readme, Table(vals))
}
