// Package gate watches the rollout of an Argo CD sync until every workload
// is Healthy or one is definitively broken, so that a Sync-phase hook can
// fail the sync seconds after a crash loop starts instead of at the
// Deployment's progress deadline.
//
// The gate judges the workloads (Deployments, StatefulSets, DaemonSets,
// ReplicaSets, Jobs, Pods) of its own sync wave and earlier that this
// operation applied, once their controllers observed the new generation,
// by the pods of their current revision (see internal/health). Definitive
// failures: a container crashing Thresholds.Restarts times, an image that
// cannot be pulled or a container that cannot be created for longer than
// its grace, a pod unschedulable for longer than its grace, a failed Job,
// a Deployment past its progress deadline, an apply Argo CD recorded as
// failed. Anything else is waited for until Thresholds.Timeout.
//
// Live objects are watched (list, then watch), so detection latency is
// the API server's event latency; the Application is re-read every
// AppInterval because it changes as the sync proceeds.
//
// With Options.MarkDegraded a failed verdict also marks each Deployment its
// pods broke as past its progress deadline, which is what makes Argo CD end
// a multi-step sync at once (see mark.go).
package gate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"

	"github.com/syncreport/syncreport/internal/argocd"
	"github.com/syncreport/syncreport/internal/health"
)

// Defaults for Options.
const (
	DefaultAppInterval = 2 * time.Second
	// appReadTimeout bounds one re-read of the Application.
	appReadTimeout = 10 * time.Second
	// progressLogEvery throttles the "waiting" log line.
	progressLogEvery = 10 * time.Second
)

// finishReserve is kept between the end of the watch and a hard deadline
// (Options.Deadline): marking (markTimeout) and writing the cause.
const finishReserve = markTimeout + 10*time.Second

// JobDeadline is the longest a gate run can take with HOOK_TIMEOUT
// hookTimeout and GATE_TIMEOUT gateTimeout: locating the Application and
// the first read (hookTimeout each), the watch (gateTimeout), then marking
// and writing the cause, with a margin for a slow start. The gate Job's
// activeDeadlineSeconds must be at least this, or the kubelet can kill the
// gate before it says why it failed; the chart and manifests/components/gate
// follow it (test/ship checks both).
func JobDeadline(hookTimeout, gateTimeout time.Duration) time.Duration {
	return 2*hookTimeout + gateTimeout + finishReserve + 40*time.Second
}

// ErrApplication means the first read of the Application failed.
var ErrApplication = errors.New("cannot read the application")

// Thresholds say when a problem is definitive. See config GATE_*.
type Thresholds struct {
	// Restarts of a crashing container (CrashLoopBackOff, OOMKilled) that
	// fail the rollout; a container that is running and ready again is
	// not failing whatever its count.
	Restarts int
	// ImagePullGrace is how long ErrImagePull/ImagePullBackOff may last.
	ImagePullGrace time.Duration
	// ConfigErrorGrace is how long CreateContainerConfigError (a missing
	// ConfigMap or Secret) or CreateContainerError may last.
	ConfigErrorGrace time.Duration
	// UnschedulableGrace is how long a pod may stay unschedulable.
	UnschedulableGrace time.Duration
	// Timeout ends the wait for a rollout that neither becomes Healthy
	// nor fails.
	Timeout time.Duration
}

// Options configure a Gate.
type Options struct {
	// Client reads the live objects in the destination cluster.
	Client dynamic.Interface
	// Config, when set, is Client's: LIST pages are then streamed and
	// decoded one object at a time (health.Pager) instead of held whole.
	Config *rest.Config
	// App reads the Application; it is called once at the start (an error
	// fails Run with ErrApplication) and every AppInterval after.
	App func(ctx context.Context) (*argocd.Application, error)
	// Self is the gate's own hook Job. With it the gate can tell the
	// current operation from a stale read of the previous one; nil when
	// unknown (then it waits for the operation to be Running).
	Self *argocd.Ref
	// Wave is the gate's sync wave: workloads of later waves are not
	// applied before the gate ends, so they are not waited for.
	Wave       int64
	Thresholds Thresholds
	// Clock defaults to the real clock; tests pass a fake.
	Clock clock.Clock
	// AppInterval is how often the Application is re-read; default
	// DefaultAppInterval.
	AppInterval time.Duration
	// Deadline, when set, is a hard end the whole run must keep clear of:
	// the gate Job's activeDeadlineSeconds from its start. The watch then
	// ends early enough (finishReserve) to mark and to write its cause,
	// with a timed-out verdict that names the deadline.
	Deadline time.Time
	// MarkDegraded makes a failed verdict write, on each Deployment its
	// pods failed, the condition the Deployment controller writes at the
	// progress deadline, so that Argo CD sees it Degraded at once and a
	// multi-step sync fails without waiting for that deadline (mark.go).
	// It needs patch on deployments/status; a failed write is logged.
	MarkDegraded bool
	Log          *slog.Logger
}

// Gate watches one rollout; see the package comment.
type Gate struct {
	opts Options
}

// New checks opts and returns a Gate.
func New(opts Options) (*Gate, error) {
	switch {
	case opts.Client == nil:
		return nil, errors.New("gate: no dynamic client")
	case opts.App == nil:
		return nil, errors.New("gate: no application reader")
	case opts.Thresholds.Restarts < 1:
		return nil, fmt.Errorf("gate: restarts threshold %d: must be at least 1", opts.Thresholds.Restarts)
	case opts.Thresholds.Timeout <= 0:
		return nil, fmt.Errorf("gate: timeout %s: must be positive", opts.Thresholds.Timeout)
	case opts.Thresholds.ImagePullGrace < 0 || opts.Thresholds.ConfigErrorGrace < 0 || opts.Thresholds.UnschedulableGrace < 0:
		return nil, errors.New("gate: negative grace period")
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.AppInterval <= 0 {
		opts.AppInterval = DefaultAppInterval
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return &Gate{opts: opts}, nil
}

// Result is how the rollout ended.
type Result struct {
	// Healthy is true when every watched workload became Healthy.
	Healthy bool
	// TimedOut is set when Thresholds.Timeout ended the wait.
	TimedOut bool
	// Cause is one line: why the rollout failed, or what it still waited
	// for at the timeout, e.g. `Deployment web: pod web-7d9f-x2: container
	// "app" CrashLoopBackOff, exit code 1 (2 restarts): panic: …`.
	Cause string
	// Details has one line per watched workload that is not healthy.
	Details []string
	// Watched lists the workloads judged.
	Watched []argocd.Ref
	// Marked lists the Deployments marked Degraded (Options.MarkDegraded).
	Marked []argocd.Ref
	// Elapsed is the time from the start of Run to the verdict.
	Elapsed time.Duration
}

// Run watches until the rollout is Healthy, definitively broken or timed
// out, and says which in Result. Its error is for what kept it from
// judging: the Application unreadable at the start (ErrApplication), a
// kind it may not watch (ErrWatch), the context ending.
func (g *Gate) Run(ctx context.Context) (Result, error) {
	o := g.opts
	clk, log := o.Clock, o.Log
	start := clk.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// The watch ends at GATE_TIMEOUT, or earlier at the hard deadline
	// less what the end needs.
	limit, limitWhy := o.Thresholds.Timeout, ""
	if !o.Deadline.IsZero() {
		if d := o.Deadline.Add(-finishReserve).Sub(start); d < limit {
			limit = max(d, 0)
			limitWhy = " (the gate Job's activeDeadlineSeconds ends then; raise it with GATE_TIMEOUT)"
		}
	}
	actx, acancel := context.WithCancel(ctx)
	if !o.Deadline.IsZero() {
		acancel()
		actx, acancel = context.WithDeadline(ctx, o.Deadline.Add(-finishReserve))
	}
	app, err := o.App(actx)
	acancel()
	if err != nil {
		return Result{}, fmt.Errorf("%w: %w", ErrApplication, err)
	}
	apps := make(chan *argocd.Application, 1)

	st := newStore()
	var pager *health.Pager
	if o.Config != nil {
		if pager, err = health.NewPager(o.Config); err != nil {
			return Result{}, fmt.Errorf("gate: %w", err)
		}
	}
	w := newWatcher(ctx, o.Client, pager, st, log)
	defer w.wait()
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer w.recoverAs("re-reading the application")
		g.pollApp(ctx, apps)
	}()
	defer cancel()

	j := newJudge(o.Thresholds, o.Wave, o.Self)
	timeout := clk.NewTimer(limit - clk.Since(start))
	defer timeout.Stop()
	var lastLog time.Time
	var lastLines string
	for {
		now := clk.Now()
		st.mu.Lock()
		v := j.evaluate(now, app, st)
		st.mu.Unlock()
		w.ensure(v.need)
		switch v.outcome {
		case healthy:
			return Result{Healthy: true, Watched: v.watched, Elapsed: clk.Since(start)}, nil
		case failed:
			r := Result{Cause: v.cause, Details: v.lines, Watched: v.watched, Elapsed: clk.Since(start)}
			r.Marked = g.markBroken(ctx, v)
			return r, nil
		}
		if lines := strings.Join(v.lines, "; "); lines != lastLines {
			// Every change at debug level; at info at most every
			// progressLogEvery, so a long rollout does not flood the log.
			log.Debug("judged", "waiting", v.lines)
			if now.Sub(lastLog) >= progressLogEvery {
				log.Info("waiting", "for", v.lines, "watched", len(v.watched))
				lastLog = now
			}
			lastLines = lines
		}

		var graceC <-chan time.Time
		var grace clock.Timer
		if !v.next.IsZero() {
			grace = clk.NewTimer(v.next.Sub(now))
			graceC = grace.C()
		}
		select {
		case <-ctx.Done():
			return Result{}, ctx.Err()
		case err := <-w.fatal:
			return Result{}, err
		case a := <-apps:
			app = a
		case <-w.changed:
		case <-graceC:
		case <-timeout.C():
			st.mu.Lock()
			v = j.evaluate(clk.Now(), app, st)
			st.mu.Unlock()
			r := Result{Watched: v.watched, Elapsed: clk.Since(start)}
			switch v.outcome {
			case healthy:
				r.Healthy = true
			case failed:
				r.Cause, r.Details = v.cause, v.lines
				r.Marked = g.markBroken(ctx, v)
			default:
				r.TimedOut, r.Details = true, v.lines
				r.Cause = fmt.Sprintf("not healthy after %s%s", limit.Truncate(time.Second), limitWhy)
				if len(v.lines) > 0 {
					r.Cause += ": " + v.lines[0]
				}
				if len(v.lines) > 1 {
					r.Cause += fmt.Sprintf(" (+%d more)", len(v.lines)-1)
				}
			}
			return r, nil
		}
		if grace != nil {
			grace.Stop()
		}
	}
}

// pollApp re-reads the Application every AppInterval and hands over the
// newest copy. A failed read is logged (once per distinct error) and the
// last good copy stands: GATE_TIMEOUT bounds a lasting outage.
func (g *Gate) pollApp(ctx context.Context, out chan *argocd.Application) {
	o := g.opts
	var lastErr string
	for {
		select {
		case <-ctx.Done():
			return
		case <-o.Clock.After(o.AppInterval):
		}
		rctx, cancel := context.WithTimeout(ctx, appReadTimeout)
		app, err := o.App(rctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if err.Error() != lastErr {
				o.Log.Warn("cannot re-read the application; judging with the last copy", "error", err.Error())
				lastErr = err.Error()
			}
			continue
		}
		lastErr = ""
		select {
		case <-out: // drop the stale copy nobody took
		default:
		}
		out <- app
	}
}
