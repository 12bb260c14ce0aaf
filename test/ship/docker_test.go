package ship_test

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/syncreport/syncreport/test/ship"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper case: FROM, RUN, …
	args string
	line int
}

// stage is one FROM and what follows it.
type stage struct {
	image, name, platform string
	body                  []instruction
}

func parseDockerfile(t *testing.T) []stage {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), ship.Dockerfile))
	if err != nil {
		t.Fatal(err)
	}
	var (
		stages []stage
		cur    strings.Builder
		start  int
	)
	flush := func() {
		text := strings.TrimSpace(cur.String())
		cur.Reset()
		if text == "" {
			return
		}
		cmd, args, _ := strings.Cut(text, " ")
		in := instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args), line: start}
		if in.cmd == "FROM" {
			s := stage{}
			f := strings.Fields(in.args)
			for len(f) > 0 && strings.HasPrefix(f[0], "--") {
				s.platform = strings.TrimPrefix(f[0], "--platform=")
				f = f[1:]
			}
			if len(f) == 0 {
				t.Fatalf("Dockerfile:%d: FROM without an image", in.line)
			}
			s.image = f[0]
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				s.name = f[2]
			}
			stages = append(stages, s)
			return
		}
		if len(stages) == 0 {
			if in.cmd != "ARG" {
				t.Fatalf("Dockerfile:%d: %s before the first FROM", in.line, in.cmd)
			}
			return
		}
		stages[len(stages)-1].body = append(stages[len(stages)-1].body, in)
	}
	for i, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if cur.Len() > 0 && strings.HasPrefix(trimmed, "#") {
			continue // a comment inside a continued instruction
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if strings.HasSuffix(trimmed, `\`) {
			cur.WriteString(strings.TrimSuffix(trimmed, `\`) + " ")
			continue
		}
		cur.WriteString(trimmed)
		flush()
	}
	flush()
	if len(stages) < 2 {
		t.Fatalf("Dockerfile: %d stages, want a build stage and a final one", len(stages))
	}
	return stages
}

var pinnedImage = regexp.MustCompile(`^([a-z0-9./_-]+):([A-Za-z0-9._-]+)@sha256:[0-9a-f]{64}$`)

func TestDockerfileBasesPinned(t *testing.T) {
	stages := parseDockerfile(t)
	names := map[string]bool{}
	for _, s := range stages {
		if names[s.image] { // FROM an earlier stage
			continue
		}
		m := pinnedImage.FindStringSubmatch(s.image)
		if m == nil {
			t.Errorf("FROM %s: want repository:tag@sha256:digest", s.image)
		} else if m[2] == "latest" {
			t.Errorf("FROM %s: the tag must say which version, not latest", s.image)
		}
		if s.name != "" {
			names[s.name] = true
		}
	}

	// The builder's Go is at least what go.mod asks for.
	builder := stages[0].image
	m := regexp.MustCompile(`^golang:(\d+\.\d+\.\d+)-`).FindStringSubmatch(builder)
	if m == nil {
		t.Fatalf("first stage %s: want golang:<exact version>-<distro>", builder)
	}
	gomod, err := os.ReadFile(filepath.Join(repoRoot(t), "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	want := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(gomod)
	if want == nil {
		t.Fatal("go.mod: no go directive")
	}
	if olderVersion(m[1], string(want[1])) {
		t.Errorf("builder Go %s is older than go.mod's go %s", m[1], want[1])
	}
}

func TestDockerfileFinalStage(t *testing.T) {
	stages := parseDockerfile(t)
	final := stages[len(stages)-1]
	if !strings.HasPrefix(final.image, "gcr.io/distroless/static-debian12:nonroot@") {
		t.Errorf("final stage FROM %s, want gcr.io/distroless/static-debian12:nonroot pinned by digest", final.image)
	}
	var user, entrypoint []string
	labels := map[string]bool{}
	copied := false
	for _, in := range final.body {
		switch in.cmd {
		case "USER":
			user = append(user, in.args)
		case "ENTRYPOINT":
			entrypoint = append(entrypoint, in.args)
		case "LABEL":
			for _, m := range regexp.MustCompile(`([a-z.]+)=`).FindAllStringSubmatch(in.args, -1) {
				labels[m[1]] = true
			}
		case "COPY":
			copied = copied || strings.Contains(in.args, "/hook /hook")
		case "RUN":
			t.Errorf("Dockerfile:%d: RUN in the final stage (distroless has no shell)", in.line)
		}
	}
	if !slices.Equal(user, []string{"65532:65532"}) {
		t.Errorf("final stage USER %q, want 65532:65532 once", user)
	}
	if !slices.Equal(entrypoint, []string{`["/hook"]`}) {
		t.Errorf("final stage ENTRYPOINT %q, want [\"/hook\"]", entrypoint)
	}
	if !copied {
		t.Error("final stage does not COPY /hook from the build stage")
	}
	for _, l := range []string{"source", "title", "description", "licenses", "version", "revision"} {
		if !labels["org.opencontainers.image."+l] {
			t.Errorf("final stage has no LABEL org.opencontainers.image.%s", l)
		}
	}
}

// TestDockerfileCachesModules checks the order that keeps `go mod download`
// in a layer of its own: go.mod and go.sum, download, then the sources.
func TestDockerfileCachesModules(t *testing.T) {
	build := parseDockerfile(t)[0]
	order := []string{}
	for _, in := range build.body {
		switch {
		case in.cmd == "COPY" && strings.HasPrefix(in.args, "go.mod go.sum"):
			order = append(order, "copy go.mod")
		case in.cmd == "RUN" && strings.Contains(in.args, "go mod download"):
			order = append(order, "download")
		case in.cmd == "COPY":
			order = append(order, "copy sources")
		case in.cmd == "RUN" && strings.Contains(in.args, "go build"):
			order = append(order, "build")
		}
	}
	want := []string{"copy go.mod", "download", "copy sources", "build"}
	if !slices.Equal(order, want) {
		t.Errorf("build stage does %q, want %q", order, want)
	}
}

// TestDockerignoreKeepsSources checks that .dockerignore leaves in every
// package cmd/hook is built from, and go.mod and go.sum.
func TestDockerignoreKeepsSources(t *testing.T) {
	root := repoRoot(t)
	b, err := os.ReadFile(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if strings.HasPrefix(l, "!") {
			t.Fatalf(".dockerignore: exceptions (%s) are not supported by this test", l)
		}
		patterns = append(patterns, strings.TrimPrefix(l, "/"))
	}
	excluded := func(rel string) string {
		parts := strings.Split(rel, "/")
		for _, p := range patterns {
			for i := 1; i <= len(parts); i++ { // a pattern excludes a file or any of its parents
				prefix := strings.Join(parts[:i], "/")
				if ok, _ := path.Match(p, prefix); ok {
					return p
				}
				if rest, ok := strings.CutPrefix(p, "**/"); ok {
					if ok, _ := path.Match(rest, parts[i-1]); ok {
						return p
					}
				}
			}
		}
		return ""
	}
	files := []string{"go.mod", "go.sum"}
	cmd := exec.Command("go", "list", "-deps", "-f", `{{if not .Standard}}{{if .Module}}{{if .Module.Main}}{{$d := .Dir}}{{range .GoFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{range .EmbedFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{end}}{{end}}{{end}}`, "./cmd/hook")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list ./cmd/hook: %v\n%s", err, stderrOf(err))
	}
	for _, f := range strings.Fields(string(out)) {
		rel, err := filepath.Rel(root, f)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, filepath.ToSlash(rel))
	}
	for _, f := range files {
		if p := excluded(f); p != "" {
			t.Errorf(".dockerignore pattern %q excludes %s, which the image build needs", p, f)
		}
	}
}

// TestBinaryIsStatic builds cmd/hook with the Dockerfile's own `go build`
// line and checks the result runs on distroless/static: no dynamic loader,
// no shared libraries; and that -X main.version reached a variable.
func TestBinaryIsStatic(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cmd/hook")
	}
	build := parseDockerfile(t)[0]
	env := []string{"TARGETOS=linux", "TARGETARCH=" + runtime.GOARCH}
	var line string
	for _, in := range build.body {
		switch {
		case in.cmd == "ENV":
			for _, kv := range strings.Fields(in.args) {
				env = append(env, kv)
			}
		case in.cmd == "RUN" && strings.Contains(in.args, "go build"):
			line = in.args
		}
	}
	if line == "" {
		t.Fatal("Dockerfile: no RUN … go build in the build stage")
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", `-ldflags="-s -w -X main.version=${VERSION} -X main.commit=${REVISION} -X main.date=${BUILD_DATE}"`, "-o /hook ./cmd/hook"} {
		if !strings.Contains(line, want) {
			t.Errorf("Dockerfile build line lacks %s: %s", want, line)
		}
	}
	out := filepath.Join(t.TempDir(), "hook")
	line = strings.Replace(line, "-o /hook ", "-o "+out+" ", 1)
	const version = "v0.0.0-shiptest"
	cmd := exec.Command("sh", "-c", line)
	cmd.Dir = repoRoot(t)
	cmd.Env = append(append(os.Environ(), env...), "VERSION="+version)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", line, err, b)
	}

	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary has a PT_INTERP program header: it needs a dynamic loader")
		}
		if p.Type == elf.PT_DYNAMIC {
			t.Error("the binary has a PT_DYNAMIC segment: it is dynamically linked")
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil {
		t.Error(err)
	} else if len(libs) > 0 {
		t.Errorf("the binary needs shared libraries %v", libs)
	}

	// -X silently does nothing for a variable that does not exist.
	bin, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(bin, []byte(version)) {
		t.Errorf("-X main.version=%s is not in the binary: cmd/hook has no package-level var version", version)
	}
	got, err := exec.Command(out, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("hook version: %v\n%s", err, got)
	}
	if !strings.Contains(string(got), version) {
		t.Errorf("hook version printed %q, want it to contain %s", got, version)
	}
}

// olderVersion reports whether dotted version a is older than b (1.26.8 vs
// 1.26.0; a missing part counts as 0).
func olderVersion(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}
