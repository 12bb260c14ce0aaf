// Command comparetable writes the side-by-side tables of syncreport and Argo
// CD Notifications from the end-to-end run's data
// (test/e2e/testdata/compare.json, written by `make compare`): a full table
// into BENCHMARKS.md and a short one into README.md, each between the
// markers <!-- compare:begin --> and <!-- compare:end -->.
//
//	go run ./hack/comparetable
//
// TestTablesUpToDate fails when either file's table is not what this
// writes from the data.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
)

const (
	beginMarker = "<!-- compare:begin -->"
	endMarker   = "<!-- compare:end -->"
)

// Paths relative to the repository root.
const (
	dataFile   = "test/e2e/testdata/compare.json"
	readmeFile = "README.md"
	benchFile  = "BENCHMARKS.md"
)

func main() {
	root := flag.String("root", ".", "the repository root")
	flag.Parse()
	if err := run(*root); err != nil {
		fmt.Fprintln(os.Stderr, "comparetable:", err)
		os.Exit(1)
	}
}

func run(root string) error {
	data, err := load(root + "/" + dataFile)
	if err != nil {
		return err
	}
	for file, table := range map[string]string{benchFile: fullTable(data), readmeFile: shortTable(data)} {
		path := root + "/" + file
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		out, err := replaceRegion(b, table)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		if err := os.WriteFile(path, out, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// load reads the data, rejecting fields this program does not know: the
// e2e test's copy of the types and this one must not drift apart.
func load(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f File
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(f.Scenarios) == 0 {
		return nil, fmt.Errorf("%s: no scenarios", path)
	}
	return &f, nil
}

// replaceRegion puts table between the markers of doc.
func replaceRegion(doc []byte, table string) ([]byte, error) {
	s := string(doc)
	i := strings.Index(s, beginMarker)
	j := strings.Index(s, endMarker)
	if i < 0 || j < i {
		return nil, fmt.Errorf("no %s … %s region", beginMarker, endMarker)
	}
	return []byte(s[:i+len(beginMarker)] + "\n" + table + s[j:]), nil
}

// region is what lies between the markers of doc.
func region(doc []byte) (string, error) {
	s := string(doc)
	i := strings.Index(s, beginMarker)
	j := strings.Index(s, endMarker)
	if i < 0 || j < i {
		return "", fmt.Errorf("no %s … %s region", beginMarker, endMarker)
	}
	return strings.TrimPrefix(s[i+len(beginMarker):j], "\n"), nil
}
