package main

import (
	"bytes"
	"encoding/xml"
	"os"
	"testing"
)

// TestPicture keeps docs/report.svg in step with the renderer: regenerate
// with `go run ./hack/reportsvg > docs/report.svg`.
func TestPicture(t *testing.T) {
	var b bytes.Buffer
	if err := run(&b, "../.."); err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(b.Bytes(), new(struct{})); err != nil {
		t.Fatalf("not well-formed SVG: %v", err)
	}
	want, err := os.ReadFile("../../docs/report.svg")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Error("docs/report.svg is stale: go run ./hack/reportsvg > docs/report.svg")
	}
}

// TestTerminalExample keeps the README's terminal example the report drawn
// in docs/report.svg beside it, as `hook render --format text` lays it out:
// the first ```text block after the picture must be what
// `go run ./hack/reportsvg -text` prints.
func TestTerminalExample(t *testing.T) {
	var want bytes.Buffer
	if err := runText(&want, "../.."); err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := bytes.Cut(readme, []byte("(docs/report.svg)"))
	if !ok {
		t.Fatal("README.md does not show docs/report.svg")
	}
	_, block, ok := bytes.Cut(after, []byte("```text\n"))
	if !ok {
		t.Fatal("README.md has no ```text block after docs/report.svg")
	}
	got, _, _ := bytes.Cut(block, []byte("```"))
	if !bytes.Equal(got, want.Bytes()) {
		t.Errorf("README.md's terminal example is not the report in docs/report.svg; paste the output of go run ./hack/reportsvg -text:\n--- README\n%s--- want\n%s", got, want.Bytes())
	}
}
