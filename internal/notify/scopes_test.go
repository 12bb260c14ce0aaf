package notify

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// scopesByMethod are the bot scopes each Web API method the hook calls
// needs (https://docs.slack.dev/reference/methods). users:read.email must
// be requested with users:read.
var scopesByMethod = map[string][]string{
	"auth.test":             nil,
	"chat.postMessage":      {"chat:write"},
	"chat.update":           {"chat:write"},
	"chat.delete":           {"chat:write"},
	"conversations.history": {"channels:history", "groups:history", "im:history"},
	"conversations.replies": {"channels:history", "groups:history", "im:history"},
	"conversations.open":    {"im:write"},
	"users.lookupByEmail":   {"users:read", "users:read.email"},
}

// TestManifestScopes keeps docs/slack-app-manifest.yaml at exactly the
// scopes of the methods this package calls: a new method without its scope
// (or a scope no method needs) fails here.
func TestManifestScopes(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	methodRe := regexp.MustCompile(`method(?::| =) *"([a-z]+\.[a-zA-Z.]+)"`)
	called := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range methodRe.FindAllStringSubmatch(string(b), -1) {
			called[m[1]] = true
		}
	}
	var want []string
	for m := range called {
		scopes, ok := scopesByMethod[m]
		if !ok {
			t.Errorf("the code calls %s: add its scopes to scopesByMethod and the manifest", m)
		}
		want = append(want, scopes...)
	}
	for m := range scopesByMethod {
		if !called[m] {
			t.Errorf("scopesByMethod lists %s, which no code calls", m)
		}
	}
	slices.Sort(want)
	want = slices.Compact(want)

	b, err := os.ReadFile("../../docs/slack-app-manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var manifest struct {
		OAuthConfig struct {
			Scopes struct {
				Bot []string `json:"bot"`
			} `json:"scopes"`
		} `json:"oauth_config"`
	}
	if err := yaml.Unmarshal(b, &manifest); err != nil {
		t.Fatal(err)
	}
	got := slices.Sorted(slices.Values(manifest.OAuthConfig.Scopes.Bot))
	if !slices.Equal(got, want) {
		t.Errorf("docs/slack-app-manifest.yaml bot scopes %v, want exactly %v", got, want)
	}
}
