package helmdocs_test

import (
	"strings"
	"testing"

	"github.com/syncreport/syncreport/test/ship/helmdocs"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name    string
		values  string
		want    []helmdocs.Value
		wantErr string
	}{
		{
			name: "nested, continued, default override, whole objects",
			values: `# A header comment is not documentation.

# -- Top.
top: 1
image:
  # -- Repo
  # continued.
  repository: x/y
  # -- Tag.
  # @default -- appVersion
  tag: ""
# -- Resources, as one value.
resources:
  limits:
    memory: 64Mi
# -- A list.
tolerations:
  - key: a
# -- Ratio | piped.
ratio: 0.5
`,
			want: []helmdocs.Value{
				{Key: "top", Type: "int", Default: "`1`", Description: "Top."},
				{Key: "image.repository", Type: "string", Default: "`\"x/y\"`", Description: "Repo continued."},
				{Key: "image.tag", Type: "string", Default: "appVersion", Description: "Tag."},
				{Key: "resources", Type: "object", Default: "`{\"limits\":{\"memory\":\"64Mi\"}}`", Description: "Resources, as one value."},
				{Key: "tolerations", Type: "list", Default: "`[{\"key\":\"a\"}]`", Description: "A list."},
				{Key: "ratio", Type: "float", Default: "`0.5`", Description: "Ratio | piped."},
			},
		},
		{
			name:    "undocumented leaf",
			values:  "image:\n  # -- Repo.\n  repository: x\n  tag: v1\n",
			wantErr: "image.tag has no `# --` comment",
		},
		{
			name:    "blank line between comment and key",
			values:  "# -- Lost.\n\nkey: 1\n",
			wantErr: "key has no `# --` comment",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := helmdocs.Parse([]byte(tc.values))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d values %+v, want %d", len(got), got, len(tc.want))
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("value %d:\n got %+v\nwant %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestUpdate(t *testing.T) {
	readme := "# Chart\n\n" + helmdocs.Start + "\nold\n" + helmdocs.End + "\ntail\n"
	got, err := helmdocs.Update([]byte(readme), "| table |\n")
	if err != nil {
		t.Fatal(err)
	}
	want := "# Chart\n\n" + helmdocs.Start + "\n\n| table |\n\n" + helmdocs.End + "\ntail\n"
	if string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if _, err := helmdocs.Update([]byte("no markers"), ""); err == nil {
		t.Error("no error without markers")
	}
}
