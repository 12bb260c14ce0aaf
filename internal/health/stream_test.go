package health

import (
	"strings"
	"testing"
)

func TestDecodeList(t *testing.T) {
	tests := []struct {
		name, in string
		names    []string
		next     string
		err      bool
	}{
		{"page with continue", `{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"7","continue":"abc"},"items":[{"metadata":{"name":"a"},"spec":{"priority":5}},{"metadata":{"name":"b"}}]}`, []string{"a", "b"}, "abc", false},
		{"last page, items before metadata", `{"items":[{"metadata":{"name":"c"}}],"metadata":{}}`, []string{"c"}, "", false},
		{"empty", `{"kind":"PodList","items":[],"metadata":{}}`, nil, "", false},
		{"null items", `{"items":null}`, nil, "", false},
		{"truncated", `{"items":[{"metadata":{"name":"a"}},`, []string{"a"}, "", true},
		{"not an object", `[1,2]`, nil, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var names []string
			next, _, err := decodeList(strings.NewReader(tt.in), func(raw []byte) {
				names = append(names, readHead(raw).Metadata.Name)
				if !strings.Contains(tt.in, string(raw)) {
					t.Errorf("item %s is not a whole element of the list", raw)
				}
			})
			if (err != nil) != tt.err || next != tt.next || strings.Join(names, ",") != strings.Join(tt.names, ",") {
				t.Fatalf("names %q next %q err %v", names, next, err)
			}
		})
	}
}
