package ship_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/syncreport/syncreport/test/ship"
)

// readVersion returns the one source of the version: the VERSION file.
func readVersion(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "VERSION"))
	if err != nil {
		t.Fatal(err)
	}
	v := strings.TrimSpace(string(b))
	if !regexp.MustCompile(`^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$`).MatchString(v) {
		t.Fatalf("VERSION %q: want one line v<major>.<minor>.<patch>[-pre]", v)
	}
	return v
}

// TestVersionsAgree keeps every copy of the version equal to the VERSION
// file: the charts' appVersion (the default image tag) and version (the
// chart's, without the v), the kustomize newTag and the Jobs' images, and
// the tags the docs and examples install from.
func TestVersionsAgree(t *testing.T) {
	root := repoRoot(t)
	v := readVersion(t)
	chartVersion := strings.TrimPrefix(v, "v")

	for _, dir := range []string{ship.ChartDir, "helm/syncreport-platform"} {
		var chart struct {
			Version    string `json:"version"`
			AppVersion string `json:"appVersion"`
		}
		readYAML(t, filepath.Join(root, dir, "Chart.yaml"), &chart)
		if chart.AppVersion != v {
			t.Errorf("%s/Chart.yaml appVersion %q, VERSION %q", dir, chart.AppVersion, v)
		}
		if chart.Version != chartVersion {
			t.Errorf("%s/Chart.yaml version %q, want %q (VERSION without the v)", dir, chart.Version, chartVersion)
		}
	}
	var parent struct {
		Dependencies []struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		} `json:"dependencies"`
	}
	readYAML(t, filepath.Join(root, ship.ParentChartDir, "Chart.yaml"), &parent)
	for _, d := range parent.Dependencies {
		if d.Name == "syncreport" && d.Version != chartVersion {
			t.Errorf("%s/Chart.yaml depends on syncreport %q, want %q", ship.ParentChartDir, d.Version, chartVersion)
		}
	}

	var kust struct {
		Images []struct {
			Name   string `json:"name"`
			NewTag string `json:"newTag"`
		} `json:"images"`
	}
	readYAML(t, filepath.Join(root, ship.HooksDir, "kustomization.yaml"), &kust)
	if len(kust.Images) != 1 || kust.Images[0].Name != "ghcr.io/syncreport/syncreport" {
		t.Fatalf("%s: images %+v, want one entry for ghcr.io/syncreport/syncreport", ship.HooksDir, kust.Images)
	}
	if kust.Images[0].NewTag != v {
		t.Errorf("%s/kustomization.yaml newTag %q, VERSION %q", ship.HooksDir, kust.Images[0].NewTag, v)
	}
	for _, f := range []string{filepath.Join(ship.HooksDir, "postsync-job.yaml"), filepath.Join(ship.HooksDir, "syncfail-job.yaml"),
		filepath.Join(ship.ComponentsDir, "gate", "gate-job.yaml")} {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "image: ghcr.io/syncreport/syncreport:"+v+"\n") {
			t.Errorf("%s: image is not ghcr.io/syncreport/syncreport:%s", f, v)
		}
	}

	// What users copy: every image tag, kustomize ?ref= and Argo CD
	// targetRevision of a release in the docs, examples, manifests and charts.
	checks := []struct {
		re   *regexp.Regexp
		want string
	}{
		{regexp.MustCompile(`ghcr\.io/syncreport/syncreport:(v[0-9][^\s"'` + "`" + `)]*)`), v},
		{regexp.MustCompile(`syncreport/syncreport//[^?\s]*\?ref=([^\s"'&` + "`" + `]+)`), v},
		{regexp.MustCompile(`targetRevision: "?(v[0-9][^\s"]*)`), v},
		{regexp.MustCompile(`chart: syncreport\s*\n\s*targetRevision: "?([^\s"]+)`), chartVersion},
		{regexp.MustCompile(`helm push syncreport-([0-9][^\s]*)\.tgz`), chartVersion},
	}
	files, err := exec.Command("git", "-C", root, "ls-files", "README.md", "docs", "examples", "manifests", "helm").Output()
	if err != nil {
		t.Skipf("git ls-files: %v (not a git checkout)", err)
	}
	seen := 0
	for _, f := range strings.Fields(string(files)) {
		switch filepath.Ext(f) {
		case ".md", ".yaml", ".yml", ".tpl", ".txt":
		default:
			continue
		}
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range checks {
			for _, m := range c.re.FindAllStringSubmatch(string(b), -1) {
				seen++
				if m[1] != c.want {
					t.Errorf("%s: %q names %s, VERSION says %s", f, m[0], m[1], c.want)
				}
			}
		}
	}
	if seen < 10 {
		t.Errorf("found only %d versioned references in the docs and manifests: a pattern no longer matches", seen)
	}
}

// TestHookVersionFromMakefile builds cmd/hook with the Makefile's own
// LDFLAGS (make -n build) and checks that `hook version` prints the VERSION
// file's version and this checkout's commit.
func TestHookVersionFromMakefile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cmd/hook")
	}
	root := repoRoot(t)
	v := readVersion(t)
	mk := exec.Command("make", "-s", "-n", "build")
	mk.Dir = root
	for _, kv := range os.Environ() {
		// The Makefile's defaults, not a caller's override.
		if k, _, _ := strings.Cut(kv, "="); k != "VERSION" && k != "COMMIT" && k != "BUILD_DATE" && k != "MAKEFLAGS" {
			mk.Env = append(mk.Env, kv)
		}
	}
	b, err := mk.CombinedOutput()
	if err != nil {
		t.Fatalf("make -n build: %v\n%s", err, b)
	}
	m := regexp.MustCompile(`-ldflags="([^"]*)"`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("make -n build prints no -ldflags=\"…\": %s", b)
	}
	ldflags := string(m[1])
	if !strings.Contains(ldflags, "-X main.version="+v+" ") {
		t.Errorf("Makefile LDFLAGS %q do not set main.version=%s", ldflags, v)
	}

	out := filepath.Join(t.TempDir(), "hook")
	build := exec.Command("go", "build", "-trimpath", "-ldflags="+ldflags, "-o", out, "./cmd/hook")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	b, err = exec.Command(out, "version", "--format", "json").Output()
	if err != nil {
		t.Fatalf("hook version --format json: %v", err)
	}
	var got struct{ Version, Commit, Date string }
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("hook version --format json: %v: %s", err, b)
	}
	if got.Version != v {
		t.Errorf("hook version says %q, VERSION %q", got.Version, v)
	}
	head, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output()
	if err != nil {
		if got.Commit != "unknown" || got.Date != "unknown" {
			t.Errorf("no git checkout, yet hook version says commit %q date %q", got.Commit, got.Date)
		}
		return
	}
	if c := strings.TrimSuffix(got.Commit, "-dirty"); c != strings.TrimSpace(string(head)) {
		t.Errorf("hook version says commit %q, HEAD is %s", got.Commit, head)
	}
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`).MatchString(got.Date) {
		t.Errorf("hook version says date %q, want the commit's time in UTC (RFC 3339)", got.Date)
	}
}
