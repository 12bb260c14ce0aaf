package health

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestSplitLogCutsOnRunes: a long line is cut on a character boundary, so
// a valid log stays valid (issue 13 item 16).
func TestSplitLogCutsOnRunes(t *testing.T) {
	for _, c := range []string{"é", "€", "😀"} {
		long := strings.Repeat(c, maxLogLine)
		got := splitLog("first\n"+long+"\r\nlast\n", 3)
		if len(got) != 3 || got[0] != "first" || got[2] != "last" {
			t.Fatalf("%s: lines %q", c, got)
		}
		if !utf8.ValidString(got[1]) || !strings.HasSuffix(got[1], "…") || len(got[1]) > maxLogLine+len("…") {
			t.Errorf("%s: cut line %d bytes, valid UTF-8 %v", c, len(got[1]), utf8.ValidString(got[1]))
		}
	}
}
