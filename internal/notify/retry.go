package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// Notifier delivers one message once.
type Notifier interface {
	// Notify makes one attempt to deliver m. retry reports whether the
	// failure is transient and another attempt may succeed; it is meaningless
	// when err is nil.
	Notify(ctx context.Context, m Message) (retry bool, err error)
	// Name identifies the transport in logs and errors: "slack", "webhook", "stdout".
	Name() string
}

// Defaults of the zero Retrier.
const (
	DefaultInitialInterval = 500 * time.Millisecond
	DefaultMaxInterval     = 20 * time.Second
	DefaultAttemptTimeout  = 10 * time.Second
)

// Retrier runs a call until it succeeds, fails permanently, or its context
// ends, waiting with exponential backoff (and jitter) between attempts. The
// zero value uses the defaults; fields set to zero take theirs.
type Retrier struct {
	// InitialInterval is the first wait between attempts.
	InitialInterval time.Duration
	// MaxInterval caps the wait between attempts, except when Slack asks
	// for longer with Retry-After.
	MaxInterval time.Duration
	// AttemptTimeout bounds each attempt, so that one hung request does not
	// use up the whole deadline and leave no time to retry.
	AttemptTimeout time.Duration
	// MaxAttempts stops after this many attempts; 0 leaves the bound to the
	// context deadline alone.
	MaxAttempts int
}

// Deliver calls n.Notify until success, a permanent error, or ctx is done,
// using the zero Retrier. See Retrier.Deliver.
func Deliver(ctx context.Context, n Notifier, m Message, log *slog.Logger) (attempts int, err error) {
	return Retrier{}.Deliver(ctx, n, m, log)
}

// Deliver calls n.Notify until success, a permanent error, or ctx is done,
// and returns the number of attempts made. Give ctx a deadline: without one,
// transient failures are retried for ever (unless MaxAttempts is set).
//
// When Slack answers 429 with Retry-After, the next attempt waits exactly that
// long; if that would pass the deadline, Deliver stops at once rather than
// sleeping into it. The final error is a *DeliveryError saying how many
// attempts were made, wrapping the last cause. A retry is logged at Warn only
// when its error text differs from the previous attempt's, at Debug otherwise.
func (r Retrier) Deliver(ctx context.Context, n Notifier, m Message, log *slog.Logger) (attempts int, err error) {
	return r.Do(ctx, n.Name(), func(ctx context.Context) (bool, error) { return n.Notify(ctx, m) }, log)
}

// Call runs f under r, retrying while its error is temporary (IsTemporary),
// for Slack calls other than delivery, e.g.
//
//	id, _, err := notify.Call(ctx, r, "users.lookupByEmail",
//		func(ctx context.Context) (string, error) { return bot.LookupUserByEmail(ctx, email) }, log)
func Call[T any](ctx context.Context, r Retrier, name string, f func(context.Context) (T, error), log *slog.Logger) (T, int, error) {
	var v T
	n, err := r.Do(ctx, name, func(ctx context.Context) (bool, error) {
		got, err := f(ctx)
		if err != nil {
			return IsTemporary(err), err
		}
		v = got
		return false, nil
	}, log)
	return v, n, err
}

// Do runs op until it succeeds, reports a permanent failure (retry false), or
// ctx ends. Each attempt gets its own context bounded by AttemptTimeout. name
// identifies the operation in logs and in the final error. Retry-After is
// taken from an *Error in op's error chain. Deliver describes the rest.
func (r Retrier) Do(ctx context.Context, name string, op func(context.Context) (retry bool, err error), log *slog.Logger) (attempts int, err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(orDefault(r.InitialInterval, DefaultInitialInterval)),
		backoff.WithMaxInterval(orDefault(r.MaxInterval, DefaultMaxInterval)),
		backoff.WithMaxElapsedTime(0), // the context deadline bounds the whole
	)
	var last error
	for {
		if err := ctx.Err(); err != nil {
			return attempts, &DeliveryError{Op: name, Attempts: attempts, Err: last, why: err.Error(), ctxErr: err}
		}
		attempts++
		timeout := orDefault(r.AttemptTimeout, DefaultAttemptTimeout)
		actx, cancel := context.WithTimeout(ctx, timeout)
		retry, err := op(actx)
		timedOut := errors.Is(actx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
		cancel()
		if err == nil {
			return attempts, nil
		}
		if timedOut {
			// Otherwise indistinguishable from the parent deadline in the text.
			err = fmt.Errorf("attempt timed out after %s: %w", timeout, err)
		}
		prev := last
		last = err

		// The parent context ending is final whatever the attempt said; an
		// attempt's own timeout is just another transient failure.
		if cerr := ctx.Err(); cerr != nil {
			cause := err
			if prev != nil && errors.Is(err, cerr) {
				// The deadline cut this attempt short; the attempt before says
				// why we were still trying.
				cause = prev
			}
			return attempts, &DeliveryError{Op: name, Attempts: attempts, Err: cause, why: cerr.Error(), ctxErr: cerr}
		}
		if !retry {
			return attempts, &DeliveryError{Op: name, Attempts: attempts, Err: err, Permanent: true}
		}
		if r.MaxAttempts > 0 && attempts >= r.MaxAttempts {
			return attempts, &DeliveryError{Op: name, Attempts: attempts, Err: err, why: "attempt limit reached"}
		}

		wait := b.NextBackOff()
		asked := false
		if ra := retryAfterOf(err); ra > 0 {
			wait, asked = ra, true
		}
		if deadline, ok := ctx.Deadline(); ok {
			if left := time.Until(deadline); wait >= left {
				why := fmt.Sprintf("next attempt in %s would be past the deadline in %s", wait.Round(time.Millisecond), left.Round(time.Millisecond))
				if asked {
					why = fmt.Sprintf("%s asked to retry after %s, past the deadline in %s", askedBy(name), wait, left.Round(time.Millisecond))
				}
				return attempts, &DeliveryError{Op: name, Attempts: attempts, Err: err, why: why}
			}
		}

		level := slog.LevelWarn
		if prev != nil && prev.Error() == err.Error() {
			level = slog.LevelDebug
		}
		log.Log(ctx, level, name+" call failed, retrying",
			"notifier", name, "attempt", attempts, "retry_in", wait, "from_retry_after", asked, "err", err)

		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
}

// retryAfterOf is the wait the server asked for (429 or 503 with
// Retry-After), from an *Error (Slack) or *HTTPError (JSON webhook) in
// err's chain; 0 if none asked.
func retryAfterOf(err error) time.Duration {
	var serr *Error
	if errors.As(err, &serr) {
		return serr.RetryAfter
	}
	var herr *HTTPError
	if errors.As(err, &herr) {
		return herr.RetryAfter
	}
	var ferr *ForgeError
	if errors.As(err, &ferr) {
		return ferr.RetryAfter
	}
	return 0
}

// askedBy names who sent a Retry-After in the final error.
func askedBy(op string) string {
	if op == JSONWebhookName {
		return "the webhook receiver"
	}
	if strings.HasPrefix(op, CommitStatusName) {
		return "the Git provider"
	}
	return "Slack"
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// DeliveryError is the final failure of Deliver, Do and Call.
type DeliveryError struct {
	// Op is the notifier name or operation, e.g. "slack".
	Op string
	// Attempts is how many attempts were made; 0 if the context had ended first.
	Attempts int
	// Permanent reports that the last attempt failed in a way retrying cannot fix.
	Permanent bool
	// Err is the last attempt's error, or the one before when the context
	// ended during the last attempt; nil when no attempt was made.
	Err error

	why    string // why retrying stopped, when not Permanent
	ctxErr error  // the parent context's error, when that is why
}

// Error says how the retries ended, after how many attempts, and the last cause.
func (e *DeliveryError) Error() string {
	s := fmt.Sprintf("%s: failed permanently after %s", e.Op, attemptsText(e.Attempts))
	if !e.Permanent {
		s = fmt.Sprintf("%s: gave up after %s (%s)", e.Op, attemptsText(e.Attempts), e.why)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the last cause and, if it ended the retries, the context's
// error, so both errors.Is(err, ErrChannelNotFound) and
// errors.Is(err, context.DeadlineExceeded) work.
func (e *DeliveryError) Unwrap() []error {
	var errs []error
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	if e.ctxErr != nil {
		errs = append(errs, e.ctxErr)
	}
	return errs
}

func attemptsText(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return fmt.Sprintf("%d attempts", n)
}
