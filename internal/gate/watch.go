package gate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
)

// ErrWatch means a kind the gate needs may not be listed or watched; the
// message names the resource, the namespace and the verbs to grant.
var ErrWatch = errors.New("cannot watch the rollout")

// listPageSize bounds one LIST page.
const listPageSize = 500

// watcher keeps the store current with one list+watch loop per watched
// kind and namespace, on the dynamic client: LIST, then WATCH from the
// list's resourceVersion (with bookmarks), re-WATCH from the last version
// seen when the server closes the stream, re-LIST when that version is too
// old (410 Gone). Each change reaches the store once, at watch latency.
// (client-go's informers do the same, but tools/cache would add
// dependencies to the module and weight to the binary.)
type watcher struct {
	ctx   context.Context
	dyn   dynamic.Interface
	store *store
	log   *slog.Logger

	// changed is poked (never blocking) after every stored change.
	changed chan struct{}
	// fatal gets the first error that makes judging impossible.
	fatal chan error

	mu      sync.Mutex
	running map[string]bool // "ns/resource"
	wg      sync.WaitGroup
}

func newWatcher(ctx context.Context, dyn dynamic.Interface, st *store, log *slog.Logger) *watcher {
	return &watcher{
		ctx: ctx, dyn: dyn, store: st, log: log,
		changed: make(chan struct{}, 1),
		fatal:   make(chan error, 1),
		running: map[string]bool{},
	}
}

func (w *watcher) poke() {
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

func (w *watcher) fail(err error) {
	select {
	case w.fatal <- err:
	default:
	}
}

// ensure starts the loops for the kinds and namespaces in need that are
// not running yet.
func (w *watcher) ensure(need map[string][]*kind) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for ns, kinds := range need {
		for _, k := range kinds {
			key := ns + "/" + k.resource()
			if w.running[key] {
				continue
			}
			w.running[key] = true
			w.wg.Add(1)
			go func() {
				defer w.wg.Done()
				w.loop(ns, k)
			}()
		}
	}
}

// wait returns once every loop has stopped (after ctx ends).
func (w *watcher) wait() { w.wg.Wait() }

// loop lists and watches kind k in ns until the context ends or an error
// makes it pointless (forbidden, not served).
func (w *watcher) loop(ns string, k *kind) {
	res := w.dyn.Resource(k.gvr).Namespace(ns)
	log := w.log.With("resource", k.resource(), "namespace", ns)
	delay := backoff{}
	for w.ctx.Err() == nil {
		rv, err := w.list(res, ns, k)
		if err != nil {
			if w.stop(err, ns, k) {
				return
			}
			log.Debug("list failed, retrying", "error", err.Error())
			delay.sleep(w.ctx)
			continue
		}
		delay.reset()
		log.Debug("listed", "resourceVersion", rv)
		for w.ctx.Err() == nil {
			start := time.Now()
			next, err := w.watch(res, ns, k, rv)
			if next != "" {
				rv = next
			}
			if err == nil {
				// The server closed the stream: resume from rv, without
				// spinning on a stream that closes at once.
				if next == "" && time.Since(start) < time.Second {
					delay.sleep(w.ctx)
				}
				continue
			}
			if apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
				log.Debug("resourceVersion too old, listing again", "resourceVersion", rv)
				break
			}
			if w.stop(err, ns, k) {
				return
			}
			log.Debug("watch failed, retrying", "error", err.Error())
			delay.sleep(w.ctx)
		}
	}
}

// stop handles an error that no retry fixes: a required kind the gate may
// not read is fatal, an optional one (events) is given up.
func (w *watcher) stop(err error, ns string, k *kind) bool {
	if !apierrors.IsForbidden(err) && !apierrors.IsNotFound(err) {
		return false
	}
	switch {
	case k.optional:
		w.log.Warn("judging without "+k.resource(), "namespace", ns, "error", err.Error())
		w.store.markListed(k, ns)
		w.poke()
	case apierrors.IsForbidden(err):
		w.fail(fmt.Errorf("%w: forbidden to list and watch %s in namespace %s (grant get, list, watch on %s)", ErrWatch, k.resource(), ns, k.resource()))
	default:
		w.fail(fmt.Errorf("%w: %s/%s not served by the cluster", ErrWatch, k.gvr.GroupVersion(), k.gvr.Resource))
	}
	return true
}

// list reads every object of k in ns into the store and returns the
// resourceVersion to watch from.
func (w *watcher) list(res dynamic.ResourceInterface, ns string, k *kind) (string, error) {
	var items []unstructured.Unstructured
	var rv, cont string
	for {
		l, err := res.List(w.ctx, metav1.ListOptions{FieldSelector: k.fieldSelector, Limit: listPageSize, Continue: cont})
		if err != nil {
			return "", err
		}
		if rv == "" {
			// Every page of a paged list is read at the first page's version.
			rv = l.GetResourceVersion()
		}
		items = append(items, l.Items...)
		if cont = l.GetContinue(); cont == "" {
			break
		}
	}
	if err := w.store.replace(k, ns, items); err != nil {
		w.log.Warn("cannot decode", "resource", k.resource(), "namespace", ns, "error", err.Error())
	}
	w.poke()
	return rv, nil
}

// watch applies the changes after rv to the store until the stream ends.
// It returns the last resourceVersion seen, and nil when the server just
// closed the stream.
func (w *watcher) watch(res dynamic.ResourceInterface, ns string, k *kind, rv string) (string, error) {
	wi, err := res.Watch(w.ctx, metav1.ListOptions{FieldSelector: k.fieldSelector, ResourceVersion: rv, AllowWatchBookmarks: true})
	if err != nil {
		return "", err
	}
	defer wi.Stop()
	last := ""
	for {
		select {
		case <-w.ctx.Done():
			return last, nil
		case ev, ok := <-wi.ResultChan():
			if !ok {
				return last, nil
			}
			if ev.Type == watch.Error {
				return last, apierrors.FromObject(ev.Object)
			}
			u, ok := ev.Object.(*unstructured.Unstructured)
			if !ok {
				continue
			}
			last = u.GetResourceVersion()
			switch ev.Type {
			case watch.Added, watch.Modified:
				if err := w.store.put(k, ns, u.GetName(), u); err != nil {
					w.log.Warn("cannot decode", "resource", k.resource(), "namespace", ns, "name", u.GetName(), "error", err.Error())
				}
			case watch.Deleted:
				_ = w.store.put(k, ns, u.GetName(), nil)
			default: // Bookmark: only the version moves
				continue
			}
			w.poke()
		}
	}
}

// backoff waits 200ms, doubling to 5s, between failed requests.
type backoff struct{ d time.Duration }

func (b *backoff) reset() { b.d = 0 }

func (b *backoff) sleep(ctx context.Context) {
	switch {
	case b.d == 0:
		b.d = 200 * time.Millisecond
	case b.d < 5*time.Second:
		b.d *= 2
	}
	t := time.NewTimer(b.d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
