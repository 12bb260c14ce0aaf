package report

import (
	"strings"
	"testing"
)

// TestTextSaysAttemptOnce: the summary line of a failed, retrying sync
// already says which attempt it was; the text must not repeat it below.
func TestTextSaysAttemptOnce(t *testing.T) {
	for _, name := range []string{"first-attempt", "retrying", "final-attempt", "terminated"} {
		t.Run(name, func(t *testing.T) {
			r := Build(loadApp(t, name), Options{Now: testNow})
			var b strings.Builder
			if err := Text(&b, r); err != nil {
				t.Fatal(err)
			}
			attempt := strings.TrimPrefix(AttemptText(r), "attempt ")
			if n := strings.Count(b.String(), attempt); n != 1 {
				t.Errorf("%q appears %d times, want once:\n%s", attempt, n, b.String())
			}
		})
	}
}
