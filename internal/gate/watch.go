package gate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"

	"github.com/syncreport/syncreport/internal/health"
)

// ErrWatch means a kind the gate needs may not be listed or watched; the
// message names the resource, the namespace and the verbs to grant.
var ErrWatch = errors.New("cannot watch the rollout")

// ErrInternal is a bug in the gate (a recovered panic of one of its loops).
var ErrInternal = errors.New("internal error (a bug, please report it)")

// listPageSize bounds one LIST page. Streamed pages are read one object at
// a time; through the dynamic client a page is held whole (some 10 MB for
// 500 pods).
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
	pager *health.Pager // nil: pages through dyn, whole
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

func newWatcher(ctx context.Context, dyn dynamic.Interface, pager *health.Pager, st *store, log *slog.Logger) *watcher {
	return &watcher{
		ctx: ctx, dyn: dyn, pager: pager, store: st, log: log,
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

// recoverAs turns a panic of a loop into the run's error: the process
// must exit 1 ("a bug"), not with the runtime's 2, which the README
// documents as bad configuration. Call it deferred.
func (w *watcher) recoverAs(what string) {
	if p := recover(); p != nil {
		w.log.Error("panic", "in", what, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		w.fail(fmt.Errorf("%w: panic while %s: %v", ErrInternal, what, p))
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
				defer w.recoverAs("watching " + key)
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
// resourceVersion to watch from. Each page goes into the store as it
// arrives, one object at a time when streamed (w.pager): memory follows
// what the store keeps, not the namespace's size.
func (w *watcher) list(res dynamic.ResourceInterface, ns string, k *kind) (string, error) {
	seen := map[string]bool{}
	var rv, cont string
	var bad error
	keep := func(name string, put func() error) {
		seen[name] = true
		if err := put(); err != nil && bad == nil {
			bad = err
		}
	}
	for {
		var next, pageRV string
		if w.pager != nil {
			var err error
			next, pageRV, err = w.pager.Page(w.ctx, k.gvr, ns, k.fieldSelector, cont, listPageSize, func(raw []byte) {
				name := nameOf(raw)
				keep(name, func() error { return w.store.putRaw(k, ns, name, raw) })
			})
			if err != nil {
				return "", err
			}
		} else {
			l, err := res.List(w.ctx, metav1.ListOptions{FieldSelector: k.fieldSelector, Limit: listPageSize, Continue: cont})
			if err != nil {
				return "", err
			}
			for i := range l.Items {
				keep(l.Items[i].GetName(), func() error { return w.store.put(k, ns, l.Items[i].GetName(), &l.Items[i]) })
			}
			next, pageRV = l.GetContinue(), l.GetResourceVersion()
		}
		if rv == "" {
			// Every page of a paged list is read at the first page's version.
			rv = pageRV
		}
		if cont = next; cont == "" {
			break
		}
	}
	w.store.listed(k, ns, seen)
	if bad != nil {
		w.log.Warn("cannot decode", "resource", k.resource(), "namespace", ns, "error", bad.Error())
	}
	w.poke()
	return rv, nil
}

// nameOf reads metadata.name of a listed object.
func nameOf(raw []byte) string {
	var h struct {
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	_ = json.Unmarshal(raw, &h)
	return h.Metadata.Name
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
