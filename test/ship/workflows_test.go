package ship_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestWorkflowsPinned checks that every action the GitHub workflows use is
// pinned by full commit SHA with its tag in a comment (a moved tag cannot
// change what runs with the release's signing identity), and that the
// release workflow pushes the image the manifests name, with the helm that
// the tests render with. actionlint (make lint) checks the rest.
func TestWorkflowsPinned(t *testing.T) {
	root := repoRoot(t)
	files, err := filepath.Glob(filepath.Join(root, ".github", "workflows", "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no .github/workflows/*.yml")
	}
	uses := regexp.MustCompile(`(?m)^\s*(?:-\s+)?uses:\s*(\S+)(.*)$`)
	pinned := regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$`)
	tag := regexp.MustCompile(`^\s*# v\d+(\.\d+)*$`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range uses.FindAllStringSubmatch(string(b), -1) {
			if strings.HasPrefix(m[1], "./") {
				continue
			}
			if !pinned.MatchString(m[1]) || !tag.MatchString(m[2]) {
				t.Errorf("%s: uses: %s%s: want owner/repo@<40-hex commit> # vX.Y.Z", filepath.Base(f), m[1], m[2])
			}
		}
	}

	b, err := os.ReadFile(filepath.Join(root, ".github", "workflows", "release.yml"))
	if err != nil {
		t.Fatal(err)
	}
	release := string(b)
	for _, want := range []string{"tags: [\"v*\"]", "id-token: write", "IMAGE: ghcr.io/syncreport/syncreport\n",
		"platforms: linux/amd64,linux/arm64", "cosign sign --yes", "hack/release-notes.sh", "checksums.txt"} {
		if !strings.Contains(release, want) {
			t.Errorf("release.yml lacks %q", want)
		}
	}
	install, err := os.ReadFile(filepath.Join(root, "hack", "tools", "install.sh"))
	if err != nil {
		t.Fatal(err)
	}
	want := regexp.MustCompile(`(?m)^HELM_VERSION=(\S+)$`).FindSubmatch(install)
	got := regexp.MustCompile(`(?m)^\s+HELM_VERSION: (\S+)$`).FindStringSubmatch(release)
	if want == nil || got == nil || got[1] != string(want[1]) {
		t.Errorf("release.yml HELM_VERSION %v, hack/tools/install.sh HELM_VERSION %s: want the same helm", got, want)
	}
}
