package argocd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"syscall"
	"time"

	"github.com/cenkalti/backoff/v4"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// ApplicationsGVR is the Argo CD Application resource.
var ApplicationsGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}

// Reader reads Applications through the Kubernetes API.
type Reader struct {
	Client dynamic.Interface
	Log    *slog.Logger
	// InitialInterval is the first retry wait for transient API errors
	// (tests shorten it); the context's deadline bounds the total.
	InitialInterval time.Duration
	// Identity names who reads, for the Forbidden message; default "the
	// hook's service account".
	Identity string
}

// Get reads one Application, retrying transient API errors (5xx, 429,
// connection refused) until ctx is done. Forbidden and NotFound come back
// at once with a message that says what to fix.
func (r *Reader) Get(ctx context.Context, namespace, name string) (*Application, error) {
	var app *Application
	err := Retry(ctx, r.Log, r.InitialInterval, fmt.Sprintf("get application %s/%s", namespace, name), func() error {
		u, err := r.Client.Resource(ApplicationsGVR).Namespace(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		b, err := json.Marshal(u.Object)
		if err != nil {
			return backoff.Permanent(err)
		}
		a, err := Decode(b)
		if err != nil {
			return backoff.Permanent(err)
		}
		app = a
		return nil
	})
	if err != nil {
		return nil, explain(err, "get", "applications", "argoproj.io", namespace, name, r.Identity)
	}
	return app, nil
}

// Retry runs fn with exponential backoff while its error is transient and
// ctx has time left. A retry is logged only when its error text changes.
func Retry(ctx context.Context, log *slog.Logger, initial time.Duration, what string, fn func() error) error {
	b := backoff.NewExponentialBackOff()
	if initial > 0 {
		b.InitialInterval = initial
	}
	b.MaxInterval = 10 * time.Second
	b.MaxElapsedTime = 0 // the context's deadline is the only bound
	attempts, last := 0, ""
	var lastErr error
	err := backoff.Retry(func() error {
		attempts++
		err := fn()
		if err == nil {
			return nil
		}
		lastErr = err
		var perm *backoff.PermanentError
		if errors.As(err, &perm) || !Transient(err) {
			return backoff.Permanent(err)
		}
		if log != nil && err.Error() != last {
			log.Warn("retrying", "what", what, "attempt", attempts, "error", err.Error())
		}
		last = err.Error()
		return err
	}, backoff.WithContext(b, ctx))
	if err != nil && ctx.Err() != nil && lastErr != nil && !errors.Is(lastErr, ctx.Err()) {
		// The deadline is why we stopped; the last answer is what was wrong.
		return fmt.Errorf("gave up at the deadline after %d attempts: %w", attempts, lastErr)
	}
	return err
}

// Transient reports whether an API error is worth retrying.
func Transient(err error) bool {
	switch {
	case apierrors.IsTooManyRequests(err), apierrors.IsServerTimeout(err), apierrors.IsTimeout(err),
		apierrors.IsInternalError(err), apierrors.IsServiceUnavailable(err), apierrors.IsUnexpectedServerError(err):
		return true
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) && status.Status().Code >= 500 {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// explain rewrites Forbidden and NotFound into messages that say what to do.
func explain(err error, verb, resource, group, namespace, name, identity string) error {
	if identity == "" {
		identity = "the hook's service account"
	}
	gr := resource
	if group != "" {
		gr += "." + group
	}
	switch {
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%s %s/%s: forbidden: grant verb %q on %s in namespace %q to %s (%s)",
			resource, namespace, name, verb, gr, namespace, identity, apiMessage(err))
	case apierrors.IsNotFound(err):
		return fmt.Errorf("%s %s/%s not found in namespace %q (check the name, ARGOCD_NAMESPACE and ARGOCD_APP_NAMESPACE)",
			resource, namespace, name, namespace)
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("%s %s/%s: unauthorized: the API server rejected the hook's credentials", resource, namespace, name)
	}
	return fmt.Errorf("%s %s/%s: %w", resource, namespace, name, err)
}

func apiMessage(err error) string {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return status.Status().Message
	}
	return err.Error()
}
