package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/syncreport/syncreport/internal/argocd"
	"github.com/syncreport/syncreport/internal/argocdapi"
	"github.com/syncreport/syncreport/internal/config"
	"github.com/syncreport/syncreport/internal/health"
	"github.com/syncreport/syncreport/internal/notify"
	"github.com/syncreport/syncreport/internal/recipients"
	"github.com/syncreport/syncreport/internal/report"
	"github.com/syncreport/syncreport/internal/settings"
)

// runReport is what the hook Job runs: locate → read → judge → deliver.
func runReport(ctx context.Context, stdout, stderr io.Writer) error {
	start := time.Now()
	own, err := ownSettings()
	if err != nil {
		return err
	}
	log := newLogger(stderr, own.LogLevel)
	// Until the settings are resolved, the Job's own HOOK_TIMEOUT bounds the
	// run; then the resolved one does, from the same start.
	bctx, cancel := context.WithTimeout(ctx, own.Timeout)
	defer cancel()

	// Building the reader checks ARGOCD_SERVER/ARGOCD_KUBECONFIG_FILE before any I/O.
	rd, err := newAppReader(own, log)
	if err != nil {
		return kindError{errUsage, err}
	}
	rc, dyn, err := kubeClient(log)
	if err != nil {
		return beforeResolve(kindError{errUnreadable, err}, settings.Central{})
	}
	rd.local(dyn, log)
	central := readCentral(bctx, own, rd.dyn, log)
	target, err := argocd.Locate(bctx, dyn, argocd.Where{
		AppName: own.AppName, AppNamespace: own.AppNamespace, ArgoCDNamespace: own.ArgoCDNamespace,
		PodName: own.PodName, PodNamespace: own.PodNamespace,
	}, log)
	if err != nil {
		return beforeResolve(kindError{errUnreadable, err}, central)
	}
	log.Info("located application", "app", target.Namespace+"/"+target.Name, "via", target.Via)
	log.Info("reading application", rd.logAttrs(own)...)
	app, err := rd.get(bctx, target.Namespace, target.Name)
	if err != nil {
		return beforeResolve(kindError{errUnreadable, fmt.Errorf("%w (read through %s)", err, readVia(own))}, central)
	}
	cfg, err := resolve(bctx, central, app.Metadata.Annotations, target.Namespace+"/"+target.Name, rd.dyn, log)
	if err != nil {
		return err
	}
	if cfg.LogLevel != own.LogLevel {
		log = newLogger(stderr, cfg.LogLevel)
	}
	ctx, cancel = context.WithDeadline(ctx, start.Add(cfg.Timeout))
	defer cancel()

	opts := report.Options{Self: target.Self, SelfImages: target.SelfImages, SelfHook: target.SelfHook, ArgoCDURL: cfg.ArgoCDURL}
	app = awaitFinal(ctx, app, opts, func(ctx context.Context) (*argocd.Application, error) {
		return rd.get(ctx, target.Namespace, target.Name)
	}, log)
	opts.Now = time.Now()
	r := report.Build(app, opts)
	r.Commit = rd.commit(ctx, app, r.Revisions, log)
	if cfg.Diagnose && (r.Verdict != report.Succeeded || len(r.Failures) > 0) {
		// A clean PostSync needs no diagnosis: Argo CD has just seen
		// every resource Healthy.
		report.ApplyDiagnosis(&r, diagnose(ctx, cfg, rc, dyn, app, target.Self, log))
	}
	settings := recipients.Settings{Channel: cfg.SlackChannel, ChannelFailed: cfg.SlackChannelFailed}
	if cfg.NotifyCommitAuthor && r.Commit != nil {
		settings.CommitAuthor = argocdapi.RevisionMetadata{Author: r.Commit.Author}.AuthorEmail()
	}
	r.Recipients = recipients.Collect(app, string(r.Verdict), settings)
	log.Info("verdict", "app", target.Namespace+"/"+target.Name, "verdict", string(r.Verdict),
		"hook", r.Hook, "phase", r.Phase, "attempt", r.Attempt, "willRetry", r.WillRetry, "failures", len(r.Failures))
	err = post(ctx, cfg, &r, target, stdout, log)
	if err != nil && cfg.FailOnDeliveryError {
		return kindError{errDelivery, err}
	}
	return nil
}

// post delivers the report unless NOTIFY_ON or RETRY_NOTIFY mutes it. A
// hook's muted report still sets the commit statuses: a status is the
// commit's state, not a message, and the gate's pending (or an earlier
// sync's failure on the same commit) must not stay its last word. An
// on-demand run (the CronJob) that is muted sets none: it is not this
// sync's own report, and its "progressing" could land after the hook's
// final state.
func post(ctx context.Context, cfg *config.Config, r *report.Report, target argocd.Target, stdout io.Writer, log *slog.Logger) error {
	switch {
	case !notifies(cfg.NotifyVerdicts(), *r, target):
		log.Info("not posting: verdict muted by NOTIFY_ON", "verdict", string(r.Verdict), "message", r.Message, "notifyOn", cfg.NotifyOn)
		// A "Syncing…" message the gate posted must not stay so. Only a
		// hook of the sync ends it: an on-demand run's muted verdict (the
		// CronJob's "rollout still in progress") is not the sync's, and
		// would replace its final one.
		if target.SelfHook != "" || target.Self == nil {
			endStarted(ctx, cfg, *r, log)
		}
		return mutedCommitStatus(ctx, cfg, *r, target, log)
	case !report.ShouldNotify(*r, retryPolicy(cfg.RetryNotify)):
		if !liveUpdates(cfg) {
			log.Info("not posting this attempt (RETRY_NOTIFY)", "policy", cfg.RetryNotify, "attempt", r.Attempt, "maxAttempts", r.MaxAttempts)
			return mutedCommitStatus(ctx, cfg, *r, target, log)
		}
		// Every attempt updates the sync's live message; the other
		// destinations hear of the first and the final one only, but the
		// commit status follows every attempt (pending while Argo CD retries).
		log.Info("this attempt goes to the live Slack message only (RETRY_NOTIFY=update)", "attempt", r.Attempt, "maxAttempts", r.MaxAttempts)
		status := make(chan error, 1)
		go func() { status <- mutedCommitStatus(ctx, cfg, *r, target, log) }()
		err := deliverSlack(ctx, cfg, r, stdout, log)
		return errors.Join(err, <-status)
	}
	return deliver(ctx, cfg, r, stdout, log)
}

// mutedCommitStatus sets the commit statuses of a report whose messages
// were muted, when this run is a hook of the sync (see post).
func mutedCommitStatus(ctx context.Context, cfg *config.Config, r report.Report, target argocd.Target, log *slog.Logger) error {
	hook := target.SelfHook != "" || target.Self == nil
	if !hook || !slices.Contains(cfg.Destinations(), notify.CommitStatusName) {
		return nil
	}
	send, err := commitStatusSender(cfg, r, log)
	if err == nil {
		err = send(ctx)
	}
	if err != nil {
		log.Error("destination failed", "destination", notify.CommitStatusName, "error", err.Error(),
			"failOnDeliveryError", cfg.FailOnDeliveryError)
	}
	return err
}

// notifies applies NOTIFY_ON. A hook's report is the only one of its sync:
// when it could not settle the outcome (progressing, unknown) that outcome
// may still be a success, so it is posted whenever successes are, rather
// than lost without a word. A run that could not read its own Job cannot
// tell itself from the CronJob's and counts as a hook: a message too many
// beats a sync nobody hears of. Other runs (the CronJob) follow NOTIFY_ON
// as is.
func notifies(verdicts []string, r report.Report, t argocd.Target) bool {
	if slices.Contains(verdicts, string(r.Verdict)) {
		return true
	}
	hook := t.SelfHook != "" || t.Self == nil
	return hook && (r.Verdict == report.Progressing || r.Verdict == report.Unknown) &&
		slices.Contains(verdicts, string(report.Succeeded))
}

// Bounds of a hook's wait for a final verdict (report.Pending).
const (
	// healthSettle is how long a PostSync hook gives status.health to catch
	// up with the sync engine, which started the hook on health it had seen
	// but the application controller had not saved yet. A Degraded app stays
	// Degraded: waiting longer only delays its report.
	healthSettle = 15 * time.Second
	// The re-reads back off from waitFirst to waitMax.
	waitFirst = 500 * time.Millisecond
	waitMax   = 5 * time.Second
)

// awaitFinal re-reads the Application, backing off, while report.Pending
// gives a reason, for at most half of the time left (the rest is for the
// diagnosis and delivery) and for WaitHealth at most healthSettle. Only a
// hook waits: its sync is running, and its report is that sync's only one.
// What is still pending at the end is said in the report, never a success.
func awaitFinal(ctx context.Context, app *argocd.Application, o report.Options,
	get func(context.Context) (*argocd.Application, error), log *slog.Logger) *argocd.Application {
	if o.SelfHook == "" {
		return app
	}
	start := time.Now()
	deadline := start.Add(time.Minute)
	if dl, ok := ctx.Deadline(); ok {
		deadline = start.Add(time.Until(dl) / 2)
	}
	interval, said := waitFirst, ""
	for {
		w, reason := report.Pending(app, o)
		if w == report.Ready {
			if said != "" {
				log.Info("done waiting", "waited", time.Since(start).Round(time.Millisecond).String())
			}
			return app
		}
		limit := deadline
		if settle := start.Add(healthSettle); w == report.WaitHealth && settle.Before(limit) {
			limit = settle
		}
		if time.Now().Add(interval).After(limit) {
			log.Warn("stopped waiting for a final verdict", "waitingFor", reason, "waited", time.Since(start).Round(time.Second).String())
			return app
		}
		if reason != said {
			log.Info("waiting before judging", "for", reason)
			said = reason
		}
		select {
		case <-ctx.Done():
			return app
		case <-time.After(interval):
		}
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		a, err := get(rctx)
		cancel()
		if err != nil {
			log.Warn("cannot re-read the application; judging with the last copy", "error", err.Error())
		} else {
			app = a
		}
		interval = min(interval*2, waitMax)
	}
}

// deliverSlack sends the report to every channel and, with SLACK_DM, to
// every resolved user, through the Slack side's notifier (NOTIFIER: a bot,
// an incoming webhook or stdout). It resolves the recipients' Slack IDs
// into r as it goes.
func deliverSlack(ctx context.Context, cfg *config.Config, r *report.Report, stdout io.Writer, log *slog.Logger) error {
	n, err := newNotifier(cfg, r, stdout, log)
	if err != nil {
		return err
	}
	// SLACK_ATTEMPT_TIMEOUT bounds each Slack request, so a hung one leaves
	// time within HOOK_TIMEOUT to retry.
	retrier := notify.Retrier{AttemptTimeout: cfg.SlackAttemptTimeout}
	var errs []error
	var liveBot *notify.Bot // set for the bot transport
	send := func(channel string) {
		if liveBot != nil {
			if live, err := sendLive(ctx, cfg, liveBot, retrier, *r, channel, log); live {
				if err != nil {
					errs = append(errs, err)
				}
				return
			}
		}
		if !report.ShouldNotify(*r, retryPolicy(cfg.RetryNotify)) {
			log.Info("not posting this attempt here (RETRY_NOTIFY)", "channel", channel, "policy", retryPolicy(cfg.RetryNotify), "attempt", r.Attempt)
			return
		}
		attempts, err := retrier.Deliver(ctx, n, slackMessage(*r, channel), log)
		if err != nil {
			log.Error("report not delivered", "notifier", n.Name(), "channel", channel, "attempts", attempts,
				"error", err.Error(), "failOnDeliveryError", cfg.FailOnDeliveryError)
			errs = append(errs, err)
			return
		}
		log.Info("report delivered", "notifier", n.Name(), "channel", channel, "attempts", attempts)
	}
	bot, ok := n.(*notify.Bot)
	if !ok {
		// A webhook posts to its own channel and a stdout print happens once.
		if extra := recipients.Channels(r.Recipients); n.Name() == "webhook" && len(extra) > 0 {
			log.Warn("the webhook transport posts only to its own channel; other channels need SLACK_TOKEN", "ignored", extra)
		}
		send(cfg.SlackChannel)
		return errors.Join(errs...)
	}
	liveBot = bot
	// send posts through n: before re-posting after an ambiguous failure
	// (timeout, reset, 5xx) the bot looks for the earlier post in the channel.
	n = notify.Dedup(bot, log)
	// Lookups only turn emails into mentions: a spell of 429/5xx or hung
	// answers must not spend the deadline the channel post needs. They
	// share a third of the time left, a few attempts each; past that the
	// people stay plain text in the report.
	lctx, cancelLookups := context.WithTimeout(ctx, lookupBudget(ctx))
	defer cancelLookups()
	lookups := retrier
	lookups.MaxAttempts = maxLookupAttempts
	recipients.Resolve(lctx, r.Recipients, func(ctx context.Context, email string) (string, error) {
		id, _, err := notify.Call(ctx, lookups, "users.lookupByEmail",
			func(ctx context.Context) (string, error) { return bot.LookupUserByEmail(ctx, email) }, log)
		switch {
		case errors.Is(err, notify.ErrUserNotFound):
			return "", fmt.Errorf("%w: %w", recipients.ErrUserNotFound, err)
		case errors.Is(err, notify.ErrMissingScope):
			return "", fmt.Errorf("%w: %w", recipients.ErrMissingScope, err)
		}
		return id, err
	}, log)
	for _, ch := range recipients.Channels(r.Recipients) {
		send(ch)
	}
	if cfg.SlackDM {
		for _, u := range recipients.Users(r.Recipients) {
			if u.SlackID == "" {
				continue
			}
			dm, _, err := notify.Call(ctx, retrier, "conversations.open",
				func(ctx context.Context) (string, error) { return bot.OpenDM(ctx, u.SlackID) }, log)
			if err != nil {
				log.Warn("cannot open a direct message", "user", u.Value, "error", err.Error())
				continue
			}
			send(dm)
		}
	}
	return errors.Join(errs...)
}

// maxLookupAttempts bounds the users.lookupByEmail attempts per email.
const maxLookupAttempts = 3

// lookupBudget is the share of ctx's time left that the email look-ups may
// use: a third, so that the channel post keeps the rest. Without a deadline
// they get a minute.
func lookupBudget(ctx context.Context) time.Duration {
	dl, ok := ctx.Deadline()
	if !ok {
		return time.Minute
	}
	return time.Until(dl) / 3
}

func newNotifier(cfg *config.Config, r *report.Report, stdout io.Writer, log *slog.Logger) (notify.Notifier, error) {
	hc := &http.Client{Transport: http.DefaultTransport}
	switch cfg.Transport() {
	case "slack":
		return notify.NewBot(cfg.SlackToken, cfg.SlackAPIURL, hc)
	case "webhook":
		return notify.NewWebhook(cfg.SlackWebhookURL, hc)
	}
	if cfg.Notifier == "auto" {
		log.Warn("no Slack credentials configured: printing the report to stdout (set SLACK_TOKEN+SLACK_CHANNEL or SLACK_WEBHOOK_URL)")
	}
	return notify.NewStdout(stdout, func(m notify.Message) ([]byte, error) {
		var b bytes.Buffer
		err := write(&b, cfg.StdoutFormat, *r, m.Channel)
		return b.Bytes(), err
	}), nil
}

// diagnose reads the live objects behind the app's resources. It gets at
// most half of the time left, so delivery keeps the rest; what it cannot
// finish comes back Partial rather than as an error.
func diagnose(ctx context.Context, cfg *config.Config, rc *rest.Config, dyn dynamic.Interface, app *argocd.Application, self *argocd.Ref, log *slog.Logger) *health.Diagnosis {
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Until(dl)/2)
		defer cancel()
	}
	opts := health.Options{MaxRequests: cfg.MaxRequests, LogLines: cfg.LogLines, Config: rc}
	if cfg.LogLines > 0 {
		logs, err := health.NewLogSource(rc)
		if err != nil {
			log.Warn("container logs unavailable", "error", err.Error())
			opts.LogLines = 0
		}
		opts.Logs = logs
	}
	// The refs are made here, not passed in, so that the thousands of a big
	// app can be freed while Diagnose runs (it copies them): an argument of
	// this function, which defers, stays reachable until it returns.
	refs := app.LiveRefs(self)
	start, n := time.Now(), len(refs)
	d, err := health.Diagnose(ctx, dyn, refs, opts)
	if err != nil {
		log.Warn("diagnosis skipped", "error", err.Error())
		return nil
	}
	log.Info("diagnosis", "resources", n, "requests", d.Requests, "partial", d.Partial,
		"partialReason", d.PartialReason, "ms", time.Since(start).Milliseconds())
	return d
}

// kubeClient uses the in-cluster config in a Job and the usual kubeconfig
// rules (KUBECONFIG, ~/.kube/config) elsewhere.
func kubeClient(log *slog.Logger) (*rest.Config, dynamic.Interface, error) {
	rc, err := rest.InClusterConfig()
	if err != nil {
		rc, err = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
			clientcmd.NewDefaultClientConfigLoadingRules(), &clientcmd.ConfigOverrides{}).ClientConfig()
		if err != nil {
			return nil, nil, fmt.Errorf("no Kubernetes credentials: not in a cluster and no usable kubeconfig: %w", err)
		}
	}
	rc.UserAgent = "syncreport/" + version
	rc.QPS, rc.Burst = 20, 40
	rc.WarningHandler = rest.NoWarnings{}
	// client-go waits out 429s and retries some 5xx on its own, logging only
	// at klog's debug levels: say so, or a throttled hook looks hung.
	rc.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			resp, err := rt.RoundTrip(req)
			if err == nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500) {
				log.Warn("kubernetes API answered "+resp.Status, "method", req.Method, "path", req.URL.Path,
					"retryAfter", resp.Header.Get("Retry-After"))
			}
			return resp, err
		})
	}
	dyn, err := dynamic.NewForConfig(rc)
	return rc, dyn, err
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level)) // validated by config
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
