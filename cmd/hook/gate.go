package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"time"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/syncreport/syncreport/internal/argocd"
	"github.com/syncreport/syncreport/internal/config"
	"github.com/syncreport/syncreport/internal/gate"
	"github.com/syncreport/syncreport/internal/settings"
)

// errRollout marks a rollout the gate judged failed or timed out (exit 5).
var errRollout = errors.New("rollout failed")

// Argo CD reads a resource's wave from these annotations, in this order
// (gitops-engine pkg/sync/syncwaves).
const (
	syncWaveAnnotation   = "argocd.argoproj.io/sync-wave"
	helmWeightAnnotation = "helm.sh/hook-weight"
)

// maxTerminationMessage stays under the kubelet's 4096-byte limit.
const maxTerminationMessage = 4000

// runGate is the Sync-phase hook: locate the app, find the gate's own wave,
// watch the rollout, exit 0 when Healthy and 5 when broken or timed out
// (with GATE_MARK_DEGRADED, after marking the broken Deployments Degraded,
// so that Argo CD ends a multi-step sync at once).
func runGate(ctx context.Context, stderr io.Writer) error {
	started := time.Now()
	own, err := ownSettings()
	if err != nil {
		return err
	}
	log := newLogger(stderr, own.LogLevel)
	rd, err := newAppReader(own, log)
	if err != nil {
		return kindError{errUsage, err}
	}
	restCfg, dyn, err := kubeClient(log)
	if err != nil {
		return beforeResolve(kindError{errUnreadable, err}, settings.Central{})
	}
	rd.local(dyn, log)

	// Locating takes HOOK_TIMEOUT at most; the watch has GATE_TIMEOUT.
	lctx, cancel := context.WithTimeout(ctx, own.Timeout)
	defer cancel()
	central := readCentral(lctx, own, rd.dyn, log)
	target, err := argocd.Locate(lctx, dyn, argocd.Where{
		AppName: own.AppName, AppNamespace: own.AppNamespace, ArgoCDNamespace: own.ArgoCDNamespace,
		PodName: own.PodName, PodNamespace: own.PodNamespace,
	}, log)
	if err != nil {
		return beforeResolve(kindError{errUnreadable, err}, central)
	}
	// No annotation routes the gate: its settings are the central defaults
	// and its Job's environment.
	cfg, err := resolve(lctx, central, nil, target.Namespace+"/"+target.Name, rd.dyn, log)
	if err != nil {
		return err
	}
	if cfg.LogLevel != own.LogLevel {
		log = newLogger(stderr, cfg.LogLevel)
	}
	job := ownJob(lctx, dyn, target.Self, log)
	wave, via := gateWave(cfg, job, target.Self)
	deadline := jobDeadline(job, started)
	log.Info("gate", "app", target.Namespace+"/"+target.Name, "via", target.Via, "readMode", cfg.ReadMode(),
		"wave", wave, "waveFrom", via, "timeout", cfg.GateTimeout.String(), "markDegraded", cfg.GateMarkDegraded)
	if deadline.IsZero() {
		log.Warn("cannot read the gate Job's activeDeadlineSeconds; the kubelet may end the gate before it writes its cause unless it is at least "+
			gate.JobDeadline(cfg.Timeout, cfg.GateTimeout).String(), "job", refString(target.Self))
	} else if ads, _, _ := unstructured.NestedInt64(job.Object, "spec", "activeDeadlineSeconds"); time.Duration(ads)*time.Second < gate.JobDeadline(cfg.Timeout, cfg.GateTimeout) {
		log.Warn("the gate Job's activeDeadlineSeconds is shorter than HOOK_TIMEOUT twice plus GATE_TIMEOUT and a minute; the gate ends its watch early to write its cause",
			"job", refString(target.Self), "activeDeadlineSeconds", ads, "want", int64(gate.JobDeadline(cfg.Timeout, cfg.GateTimeout).Seconds()),
			"left", time.Until(deadline).Truncate(time.Second).String())
	}

	// The optional "Syncing…" message goes out while the gate watches.
	posted := make(chan struct{})
	go func() {
		defer close(posted)
		defer func() {
			if p := recover(); p != nil {
				log.Error("internal error posting the started message", "panic", fmt.Sprint(p))
			}
		}()
		postStarted(ctx, cfg, rd, target, log)
	}()
	defer func() { <-posted }()

	// The first read retries transient errors for HOOK_TIMEOUT, like the
	// report's; later ones are bounded by the gate itself.
	first := true
	g, err := gate.New(gate.Options{
		Client: dyn,
		Config: restCfg,
		App: func(ctx context.Context) (*argocd.Application, error) {
			if first {
				first = false
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, cfg.Timeout)
				defer cancel()
			}
			return rd.get(ctx, target.Namespace, target.Name)
		},
		Self:     target.Self,
		Wave:     wave,
		Deadline: deadline,
		Thresholds: gate.Thresholds{
			Restarts: cfg.GateRestarts, ImagePullGrace: cfg.GateImagePullGrace, ConfigErrorGrace: cfg.GateConfigErrorGrace,
			UnschedulableGrace: cfg.GateUnschedulableGrace, Timeout: cfg.GateTimeout,
		},
		MarkDegraded: cfg.GateMarkDegraded,
		Log:          log,
	})
	if err != nil {
		return kindError{errUsage, err}
	}
	// Commit statuses say "pending" while the gate watches; the report's
	// hook sets the final state after the gate's Job is done.
	waitPending := gatePending(ctx, cfg, func(ctx context.Context) (*argocd.Application, error) {
		return rd.get(ctx, target.Namespace, target.Name)
	}, log)
	res, err := g.Run(ctx)
	waitPending()
	switch {
	case errors.Is(err, gate.ErrApplication):
		return kindError{errUnreadable, fmt.Errorf("%w (read through %s)", err, readVia(cfg))}
	case errors.Is(err, gate.ErrInternal):
		return kindError{errPanic, err}
	case errors.Is(err, gate.ErrWatch):
		return kindError{errUnreadable, err}
	case err != nil:
		return err
	}
	if res.Healthy {
		log.Info("rollout healthy", "app", target.Namespace+"/"+target.Name, "watched", len(res.Watched),
			"ms", res.Elapsed.Milliseconds())
		return nil
	}
	log.Error("rollout failed", "app", target.Namespace+"/"+target.Name, "cause", res.Cause, "timedOut", res.TimedOut,
		"details", res.Details, "watched", len(res.Watched), "markedDegraded", len(res.Marked), "ms", res.Elapsed.Milliseconds())
	writeTerminationLog(cfg.GateTerminationLog, res.Cause, log)
	return kindError{errRollout, errors.New(res.Cause)}
}

// ownJob reads the gate's own Job (for its wave and deadline); nil when
// unknown or unreadable.
func ownJob(ctx context.Context, dyn dynamic.Interface, self *argocd.Ref, log *slog.Logger) *unstructured.Unstructured {
	if self == nil {
		return nil
	}
	jobs := schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}
	job, err := dyn.Resource(jobs).Namespace(self.Namespace).Get(ctx, self.Name, metav1.GetOptions{})
	if err != nil {
		log.Warn("cannot read the gate's own Job for its sync wave and deadline; assuming wave 0 (set GATE_WAVE)", "job", self.String(), "error", err.Error())
		return nil
	}
	return job
}

// gateWave is GATE_WAVE, else the own Job's wave as Argo CD reads it, else 0.
func gateWave(cfg *config.Config, job *unstructured.Unstructured, self *argocd.Ref) (int64, string) {
	if cfg.GateWave != "" {
		w, _ := strconv.ParseInt(cfg.GateWave, 10, 64) // validated by config
		return w, "GATE_WAVE"
	}
	switch {
	case self == nil:
		return 0, "default (own Job unknown)"
	case job == nil:
		return 0, "default"
	}
	for _, a := range []string{syncWaveAnnotation, helmWeightAnnotation} {
		if v, ok := job.GetAnnotations()[a]; ok {
			if w, err := strconv.ParseInt(v, 10, 64); err == nil {
				return w, a
			}
		}
	}
	return 0, "default"
}

// jobDeadline is when the Job controller ends job: status.startTime (else
// started, when this process started, which is later) plus
// spec.activeDeadlineSeconds. Zero when job is nil or has no deadline.
func jobDeadline(job *unstructured.Unstructured, started time.Time) time.Time {
	if job == nil {
		return time.Time{}
	}
	secs, ok, err := unstructured.NestedInt64(job.Object, "spec", "activeDeadlineSeconds")
	if !ok || err != nil || secs <= 0 {
		return time.Time{}
	}
	from := started
	if s, ok, _ := unstructured.NestedString(job.Object, "status", "startTime"); ok {
		if t, err := time.Parse(time.RFC3339, s); err == nil && t.Before(from) {
			from = t
		}
	}
	return from.Add(time.Duration(secs) * time.Second)
}

func refString(r *argocd.Ref) string {
	if r == nil {
		return ""
	}
	return r.String()
}

// writeTerminationLog leaves the cause in the pod's termination message,
// where `kubectl describe pod` shows it and the SyncFail report's diagnosis
// of the failed gate Job quotes it. A failure to write is only logged: the
// exit code already fails the hook.
func writeTerminationLog(path, cause string, log *slog.Logger) {
	if path == "" {
		return
	}
	cause = visibleLine(cause)
	if len(cause) > maxTerminationMessage {
		cut := maxTerminationMessage - len("…")
		for cut > 0 && !utf8.RuneStart(cause[cut]) {
			cut--
		}
		cause = cause[:cut] + "…"
	}
	if err := os.WriteFile(path, []byte(cause+"\n"), 0o644); err != nil {
		log.Warn("cannot write the termination message", "path", path, "error", err.Error())
	}
}
