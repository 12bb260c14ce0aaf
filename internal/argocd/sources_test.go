package argocd

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestSourceRevisions reads what Argo CD v3.6.1 writes in each case.
func TestSourceRevisions(t *testing.T) {
	const (
		a = "1111111111111111111111111111111111111111"
		b = "2222222222222222222222222222222222222222"
	)
	multi := `"spec":{"sources":[{"repoURL":"https://github.com/acme/web.git","path":"deploy","targetRevision":"HEAD"},
		{"repoURL":"https://charts.example.com","chart":"redis","targetRevision":"1.2.3"},
		{"repoURL":"git@gitlab.com:acme/config.git","targetRevision":"main","ref":"values"}]}`
	for _, tc := range []struct {
		name, doc string
		want      []SourceRevision
	}{
		{"no operation", `{` + multi + `}`, nil},
		{"multi-source sync result", `{` + multi + `,"status":{"operationState":{"phase":"Failed",
			"operation":{"sync":{"revisions":["main","1.2.3","main"]}},
			"syncResult":{"revisions":["` + a + `","1.2.3","` + b + `"],
			"sources":[{"repoURL":"https://github.com/acme/web.git"},{"repoURL":"https://charts.example.com","chart":"redis"},{"repoURL":"git@gitlab.com:acme/config.git"}]}}}}`,
			[]SourceRevision{{"https://github.com/acme/web.git", a, false}, {"https://charts.example.com", "1.2.3", true}, {"git@gitlab.com:acme/config.git", b, false}}},
		{"early failure: no sync result, the operation's revisions", `{` + multi + `,"status":{"operationState":{"phase":"Error",
			"operation":{"sync":{"revisions":["` + a + `","1.2.3","` + b + `"]}}}}}`,
			[]SourceRevision{{"https://github.com/acme/web.git", a, false}, {"https://charts.example.com", "1.2.3", true}, {"git@gitlab.com:acme/config.git", b, false}}},
		{"early failure of a manual sync: branch names", `{` + multi + `,"status":{"operationState":{"phase":"Error",
			"operation":{"sync":{"revisions":["HEAD","1.2.3","main"]}}}}}`,
			[]SourceRevision{{"https://github.com/acme/web.git", "HEAD", false}, {"https://charts.example.com", "1.2.3", true}, {"git@gitlab.com:acme/config.git", "main", false}}},
		{"single source", `{"spec":{"source":{"repoURL":"https://github.com/acme/web.git"}},"status":{"operationState":{"phase":"Succeeded",
			"operation":{"sync":{"revision":"` + a + `"}},"syncResult":{"revision":"` + a + `","source":{"repoURL":"https://github.com/acme/web.git"}}}}}`,
			[]SourceRevision{{"https://github.com/acme/web.git", a, false}}},
		{"rollback overrides the source", `{"spec":{"source":{"repoURL":"https://github.com/acme/new.git"}},"status":{"operationState":{"phase":"Running",
			"operation":{"sync":{"revision":"` + b + `","source":{"repoURL":"https://github.com/acme/old.git"}}}}}}`,
			[]SourceRevision{{"https://github.com/acme/old.git", b, false}}},
		{"oci source", `{"spec":{"source":{"repoURL":"oci://ghcr.io/acme/web"}},"status":{"operationState":{"phase":"Succeeded",
			"syncResult":{"revision":"sha256:abc"}}}}`,
			[]SourceRevision{{"oci://ghcr.io/acme/web", "sha256:abc", true}}},
		{"fewer revisions than sources", `{` + multi + `,"status":{"operationState":{"phase":"Error","operation":{"sync":{"revisions":["` + a + `"]}}}}}`,
			[]SourceRevision{{"https://github.com/acme/web.git", "", false}, {"https://charts.example.com", "", true}, {"git@gitlab.com:acme/config.git", "", false}}},
		// argocd app sync --revisions B --source-positions 3 before any sync
		// result: B is the third source's, not the first's.
		{"one source's revision by position", `{` + multi + `,"status":{"operationState":{"phase":"Error","operation":{"sync":{"revisions":["` + b + `"],"sourcePositions":[3]}}}}}`,
			[]SourceRevision{{"https://github.com/acme/web.git", "", false}, {"https://charts.example.com", "", true}, {"git@gitlab.com:acme/config.git", "", false}}},
		{"a single-source result against a multi-source spec", `{` + multi + `,"status":{"operationState":{"phase":"Failed","syncResult":{"revision":"` + a + `"}}}}`,
			[]SourceRevision{{"https://github.com/acme/web.git", "", false}, {"https://charts.example.com", "", true}, {"git@gitlab.com:acme/config.git", "", false}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var app Application
			if err := json.Unmarshal([]byte(tc.doc), &app); err != nil {
				t.Fatal(err)
			}
			if got := app.SourceRevisions(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}
