package gate_test

import (
	"slices"
	"testing"
	"time"
)

// Figures of a realistic crash loop, for the end-to-end estimate: the
// kubelet restarts a crashed container after 10 s, then 20 s (its back-off
// doubles from 10 s), so with GATE_RESTARTS=2 the second restart lands
// about 30 s after the first crash; without the gate Argo CD fails the
// sync when the Deployment's progress deadline (progressDeadlineSeconds,
// default 600 s) turns it Degraded.
const (
	secondRestartAt  = 10*time.Second + 20*time.Second
	progressDeadline = 600 * time.Second
)

// BenchmarkGateDetection measures, on loopback, the time from the status
// write that makes a crash loop definitive (the container down again after
// GATE_RESTARTS=2 restarts) to the exit of the gate process: the watch event, the
// judgement, the termination message and the exit. Each iteration stages a
// fresh rollout whose pod runs again after two restarts, starts the built binary and
// waits until it has judged that state before the timed write.
//
//	go test ./test/gate -run '^$' -bench GateDetection -benchtime 10x
func BenchmarkGateDetection(b *testing.B) {
	var lat []time.Duration
	for range b.N {
		b.StopTimer()
		r := newRollout(b, setup{name: "bench"})
		r.podStatus(crashed(2, false))
		g := startGate(b, r, nil)
		g.waitLog("restarting, last exit code 1 (2 restarts)")
		b.StartTimer()

		start := time.Now()
		r.podStatus(crashed(2, true))
		<-g.done
		lat = append(lat, time.Since(start))

		b.StopTimer()
		if g.code != exitRollout {
			b.Fatalf("exit %d, want %d:\n%s", g.code, exitRollout, g.log())
		}
	}
	slices.Sort(lat)
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	mean := sum / time.Duration(len(lat))
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(mean), "detect-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "detect-max-ms")
	e2e := secondRestartAt + mean
	b.ReportMetric(e2e.Seconds(), "e2e-s")
	b.ReportMetric(progressDeadline.Seconds()/e2e.Seconds(), "x-sooner")
	b.Logf("detection mean %.1f ms, max %.1f ms over %d runs; crash loop to failed sync %.1f s with the gate vs %.0f s at the progress deadline (%.0fx sooner)",
		ms(mean), ms(lat[len(lat)-1]), len(lat), e2e.Seconds(), progressDeadline.Seconds(), progressDeadline.Seconds()/e2e.Seconds())
}
