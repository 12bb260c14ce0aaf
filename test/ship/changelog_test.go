package ship_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestChangelog checks that CHANGELOG.md has a section for the VERSION file's
// version and that hack/release-notes.sh, which writes the GitHub release's
// notes, prints it, refusing a tag whose heading is not dated yet.
func TestChangelog(t *testing.T) {
	root := repoRoot(t)
	v := readVersion(t)
	b, err := os.ReadFile(filepath.Join(root, "CHANGELOG.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, want := range []string{"# Changelog", "## [Unreleased]", "keepachangelog.com"} {
		if !strings.Contains(text, want) {
			t.Errorf("CHANGELOG.md lacks %q (Keep a Changelog format)", want)
		}
	}
	heading := regexp.MustCompile(`(?m)^## \[` + regexp.QuoteMeta(strings.TrimPrefix(v, "v")) + `\] - (\d{4}-\d\d-\d\d|Unreleased)$`).FindStringSubmatch(text)
	if heading == nil {
		t.Fatalf("CHANGELOG.md has no heading \"## [%s] - YYYY-MM-DD\" (or \"- Unreleased\") for VERSION %s", strings.TrimPrefix(v, "v"), v)
	}

	notes := func(dir string, args ...string) (string, error) {
		cmd := exec.Command(filepath.Join(dir, "hack", "release-notes.sh"), args...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return stderr.String(), err
		}
		return string(out), nil
	}
	out, err := notes(root, v, "--allow-unreleased")
	if err != nil {
		t.Fatalf("release-notes.sh %s --allow-unreleased: %v: %s", v, err, out)
	}
	if !strings.Contains(out, "### Added") || strings.Contains(out, "## [") {
		t.Errorf("release-notes.sh %s printed not just its section:\n%s", v, out)
	}
	out, err = notes(root, v)
	if dated := heading[1] != "Unreleased"; dated != (err == nil) {
		t.Errorf("release-notes.sh %s on heading %q: error %v (%s)", v, heading[0], err, out)
	}

	// The other branches, on a CHANGELOG of the test's own.
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "hack"), 0o755); err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile(filepath.Join(root, "hack", "release-notes.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hack", "release-notes.sh"), script, 0o755); err != nil {
		t.Fatal(err)
	}
	changelog := "# Changelog\n\n## [Unreleased]\n\n## [1.2.0] - 2027-01-05\n\n### Fixed\n\n- one\n\n## [1.1.0] - 2026-12-24\n\n### Added\n\n- two\n\n## [1.0.0] - 2026-12-01\n\n[1.2.0]: https://example.com\n"
	if err := os.WriteFile(filepath.Join(dir, "CHANGELOG.md"), []byte(changelog), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		tag, want string
		ok        bool
	}{
		{"v1.2.0", "### Fixed\n\n- one\n", true},
		{"v1.1.0", "### Added\n\n- two\n", true},
		{"v1.0.0", "is empty", false},
		{"v1.3.0", "no section", false},
		{"v1.2", "no section", false},
	} {
		out, err := notes(dir, tc.tag)
		if (err == nil) != tc.ok || out != tc.want && !strings.Contains(out, tc.want) {
			t.Errorf("release-notes.sh %s: error %v, output %q; want ok=%v and %q", tc.tag, err, out, tc.ok, tc.want)
		}
	}
}
