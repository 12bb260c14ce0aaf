package main

import (
	"os"
	"strings"
	"testing"
)

// TestTablesUpToDate fails when README.md's or BENCHMARKS.md's comparison
// table is not what the committed data gives: regenerate with
// `go run ./hack/comparetable` (or `make compare` for new data).
func TestTablesUpToDate(t *testing.T) {
	data, err := load("../../" + dataFile)
	if err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{benchFile: fullTable(data), readmeFile: shortTable(data)} {
		b, err := os.ReadFile("../../" + file)
		if err != nil {
			t.Fatal(err)
		}
		got, err := region(b)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if got != want {
			t.Errorf("%s: the comparison table differs from %s; run `go run ./hack/comparetable`\n--- have\n%s\n--- want\n%s", file, dataFile, got, want)
		}
	}
}

// TestLoadRejectsUnknownFields: the e2e writer's types and these must not
// drift apart silently.
func TestLoadRejectsUnknownFields(t *testing.T) {
	path := t.TempDir() + "/c.json"
	if err := os.WriteFile(path, []byte(`{"run":{},"rule":"","scenarios":[{"scenario":"x","latency":1}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := load(path); err == nil || !strings.Contains(err.Error(), "latency") {
		t.Errorf("load: %v, want an error naming the unknown field", err)
	}
}

func TestReplaceRegion(t *testing.T) {
	doc := "a\n" + beginMarker + "\nold\n" + endMarker + "\nb\n"
	out, err := replaceRegion([]byte(doc), "new\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := "a\n" + beginMarker + "\nnew\n" + endMarker + "\nb\n"; string(out) != want {
		t.Errorf("got %q, want %q", out, want)
	}
	if _, err := replaceRegion([]byte("no markers"), "x"); err == nil {
		t.Error("no error for a document without markers")
	}
}

// TestCounts: false verdicts and duplicates (the same claim, trigger and
// attempt again; updates are not duplicates).
func TestCounts(t *testing.T) {
	yes, no := true, false
	n := Notifier{Messages: []Message{
		{Kind: "top-level", Claim: "running", Trigger: "on-sync-running", True: &yes},
		{Kind: "top-level", Claim: "running", Trigger: "on-sync-running", True: &yes},
		{Kind: "top-level", Claim: "failed", Attempt: 1, True: &no},
		{Kind: "update", Claim: "failed", Attempt: 1, True: &yes},
		{Kind: "reply", Claim: "failed", Attempt: 1, True: &yes},
		{Kind: "top-level", Claim: "failed", Attempt: 6, True: &yes},
	}}
	if f, d := n.counts(); f != 1 || d != 1 {
		t.Errorf("counts: %d false, %d duplicates; want 1, 1", f, d)
	}
	if got := n.firstVerdict(); got != "failed 0.0 s ✗" {
		t.Errorf("first verdict %q", got)
	}
}
