package report

import (
	"io"
	"testing"
)

// BenchmarkRender3000 judges and renders (text, JSON, Slack) an app of 3000
// resources with 400 failing ones: the cost of the pure core on a big app.
func BenchmarkRender3000(b *testing.B) {
	app := bigApp(3000, 400, 300, "CrashLoopBackOff: back-off restarting failed container ")
	b.ReportAllocs()
	for b.Loop() {
		r := Build(app, Options{Now: testNow})
		if err := Text(io.Discard, r); err != nil {
			b.Fatal(err)
		}
		if err := JSON(io.Discard, r); err != nil {
			b.Fatal(err)
		}
		Slack(r)
	}
}
