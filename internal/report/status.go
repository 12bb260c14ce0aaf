package report

import (
	"strconv"
	"strings"
)

// StatusLine is the report in one line for a commit status: what happened
// and, for a failure, the first failing object with the cause found in its
// pods (else Argo CD's message). The app's name is left out: the status's
// context already names it. It is raw text from the cluster; the provider
// sink (notify.StatusText) makes it one printable line within its limit.
func StatusLine(r Report) string {
	what := strings.TrimPrefix(r.Summary, r.App.Name+" ")
	if what == r.Summary {
		what = strings.TrimPrefix(r.Summary, r.App.Name+": ")
	}
	why := r.Message
	if len(r.Failures) > 0 {
		f := r.Failures[0]
		why = f.Message
		if f.Cause != "" {
			why = f.Cause
		}
		why = FailureTitle(f) + ": " + why
		if n := len(r.Failures); n > 1 {
			// Before the cause: a provider cuts the end of a long line.
			what += " (" + strconv.Itoa(n) + " failures)"
		}
	}
	if why == "" || r.Verdict == Succeeded {
		return what
	}
	return what + ": " + why
}
