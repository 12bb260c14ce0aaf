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
