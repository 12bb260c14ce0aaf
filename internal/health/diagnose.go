package health

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/syncreport/syncreport/internal/argocd"
)

// Defaults for Options.
const (
	DefaultMaxRequests = 20
	DefaultPageSize    = 1000
)

// eventWindow is how far back events count. It matches the apiserver's
// default --event-ttl; clusters that keep events longer would otherwise
// explain today's rollout with last week's failure.
const eventWindow = time.Hour

// Options tunes Diagnose. The zero value is usable.
type Options struct {
	// MaxRequests caps the API requests Diagnose makes: every LIST page
	// and every log read counts. Default DefaultMaxRequests.
	MaxRequests int
	// PageSize is the LIST page size (limit). Default DefaultPageSize.
	PageSize int64
	// Config, when set, streams LIST pages and decodes one object at a
	// time, so memory stays flat whatever the page size; without it pages
	// are read through the dynamic client, whole.
	Config *rest.Config
	// LogLines, when positive, reads that many trailing log lines of each
	// crashed container named in a Cause, through Logs.
	LogLines int
	// Logs reads container logs; required when LogLines > 0. See NewLogSource.
	Logs LogSource
	// Now is the clock; events last seen more than an hour before Now are
	// ignored. Default time.Now.
	Now func() time.Time
}

// Diagnosis is the outcome of Diagnose.
type Diagnosis struct {
	// Results holds one entry per distinct ref, worst first.
	Results []Result
	// Partial is true when the request cap, the context or an API error
	// cut the inspection short; then PartialReason says where. Results of
	// objects that were not read say Unknown, never Healthy.
	Partial       bool
	PartialReason string
	// Requests is the number of API requests made.
	Requests int
}

// Diagnose reads the live objects for refs (deduplicated) with the dynamic
// client and judges each (see the Assess* functions). Cost follows the
// app's shape, not its size: one paged LIST per kind and namespace, then,
// only where something is unhealthy, one of ReplicaSets, pods and Warning
// events per namespace; never a GET per object. A kind it may not list
// degrades to a Note on the results that needed it. Diagnose returns an
// error only for invalid arguments; API failures, the request cap and the
// context's deadline make the Diagnosis Partial.
func Diagnose(ctx context.Context, dyn dynamic.Interface, refs []argocd.Ref, opts Options) (*Diagnosis, error) {
	if dyn == nil {
		return nil, errors.New("diagnose: no dynamic client")
	}
	if opts.LogLines > 0 && opts.Logs == nil {
		return nil, errors.New("diagnose: LogLines set without a log source")
	}
	if opts.MaxRequests <= 0 {
		opts.MaxRequests = DefaultMaxRequests
	}
	if opts.PageSize <= 0 {
		opts.PageSize = DefaultPageSize
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	d := &diagnoser{dyn: dyn, opts: opts, since: now().Add(-eventWindow)}
	if opts.Config != nil {
		s, err := newStreamer(opts.Config)
		if err != nil {
			return nil, err
		}
		d.stream = s
	}

	var items []*item
	spaces := map[string]*namespace{}
	var order []*namespace
	seen := map[argocd.Ref]bool{}
	for _, r := range refs {
		if seen[r] {
			continue
		}
		seen[r] = true
		it := &item{result: Result{Ref: r, Status: StatusUnknown}, kind: kindFor(r.Group, r.Kind)}
		items = append(items, it)
		switch {
		case it.kind == nil:
			// No health rule: Argo CD shows no health for such kinds either.
		case r.Namespace == "":
			it.result.Note = "not inspected (no namespace)"
		default:
			ns := spaces[r.Namespace]
			if ns == nil {
				ns = &namespace{name: r.Namespace, want: map[*kindInfo]map[string]*item{}}
				spaces[r.Namespace] = ns
				order = append(order, ns)
			}
			if ns.want[it.kind] == nil {
				ns.want[it.kind] = map[string]*item{}
			}
			ns.want[it.kind][r.Name] = it
		}
	}

	// Statuses of every namespace first, so a tight cap costs causes, not verdicts.
	for _, ns := range order {
		for _, k := range topKinds {
			if len(ns.want[k]) > 0 {
				d.listWanted(ctx, ns, k)
			}
		}
	}
	for _, ns := range order {
		d.listReplicaSets(ctx, ns)
	}
	for _, ns := range order {
		d.listPods(ctx, ns)
	}
	for _, ns := range order {
		d.listEvents(ctx, ns)
	}
	for _, ns := range order {
		ns.assess()
	}
	if opts.LogLines > 0 {
		d.readLogs(ctx, items)
	}

	sort.SliceStable(items, func(i, j int) bool { return rank(items[i].result.Status) < rank(items[j].result.Status) })
	out := &Diagnosis{Requests: d.requests, Results: make([]Result, len(items))}
	for i, it := range items {
		out.Results[i] = it.result
	}
	if len(d.partial) > 0 {
		out.Partial = true
		out.PartialReason = strings.Join(d.partial, "; ")
	}
	return out, nil
}

// kindInfo is one row of the kind table: no discovery is needed for these.
type kindInfo struct {
	group, kind string
	gvr         schema.GroupVersionResource
}

func (k *kindInfo) resource() string {
	return k.gvr.GroupResource().String()
}

var (
	kDeployment  = &kindInfo{"apps", "Deployment", gvr("apps", "v1", "deployments")}
	kStatefulSet = &kindInfo{"apps", "StatefulSet", gvr("apps", "v1", "statefulsets")}
	kDaemonSet   = &kindInfo{"apps", "DaemonSet", gvr("apps", "v1", "daemonsets")}
	kReplicaSet  = &kindInfo{"apps", "ReplicaSet", gvr("apps", "v1", "replicasets")}
	kJob         = &kindInfo{"batch", "Job", gvr("batch", "v1", "jobs")}
	kPod         = &kindInfo{"", "Pod", gvr("", "v1", "pods")}
	kPVC         = &kindInfo{"", "PersistentVolumeClaim", gvr("", "v1", "persistentvolumeclaims")}
	kService     = &kindInfo{"", "Service", gvr("", "v1", "services")}
	kIngress     = &kindInfo{"networking.k8s.io", "Ingress", gvr("networking.k8s.io", "v1", "ingresses")}
	kHPA         = &kindInfo{"autoscaling", "HorizontalPodAutoscaler", gvr("autoscaling", "v2", "horizontalpodautoscalers")}
	kEvent       = &kindInfo{"", "Event", gvr("", "v1", "events")}

	// topKinds are listed first, in this order; ReplicaSets and pods are
	// listed after them, once, for both the refs and the drill-down.
	topKinds = []*kindInfo{kDeployment, kStatefulSet, kDaemonSet, kJob, kPVC, kService, kIngress, kHPA}
)

func kindFor(group, kind string) *kindInfo {
	if group == "extensions" {
		// Pre-1.16 groups still appear in old manifests; the objects are
		// served from their current groups.
		switch kind {
		case "Deployment", "DaemonSet", "ReplicaSet":
			group = "apps"
		case "Ingress":
			group = "networking.k8s.io"
		}
	}
	for _, k := range []*kindInfo{kDeployment, kStatefulSet, kDaemonSet, kReplicaSet, kJob, kPod, kPVC, kService, kIngress, kHPA} {
		if k.group == group && k.kind == kind {
			return k
		}
	}
	return nil
}

// item is one ref on its way to a Result.
type item struct {
	kind   *kindInfo
	obj    any // typed object once found
	uid    types.UID
	prelim string // status from the object alone
	result Result
	issue  podIssue
	why    string // why the object was not inspected
}

// drill reports whether the item's pods and events are worth reading.
func (it *item) drill() bool { return it.obj != nil && unhealthy(it.prelim) }

// namespace gathers what was read in one namespace.
type namespace struct {
	name string
	want map[*kindInfo]map[string]*item

	rs     []ReplicaSet // owned by drilled Deployments
	pods   []Pod        // owned by drilled workloads
	events []Event      // involving drilled objects

	// Why the drill-down reads were incomplete ("" when complete or not needed).
	rsWhy, podsWhy, eventsWhy string
}

func (ns *namespace) items(k *kindInfo) map[string]*item { return ns.want[k] }

type diagnoser struct {
	dyn      dynamic.Interface
	stream   *streamer // nil: whole pages through dyn
	opts     Options
	since    time.Time
	requests int
	partial  []string
	stopped  string // set once the cap or the context ends all reads
}

// list reads every page of k in ns, handing each item to keep. It returns ""
// when the list is complete, or why it is not.
func (d *diagnoser) list(ctx context.Context, k *kindInfo, ns, fieldSelector string, keep func(*unstructured.Unstructured)) string {
	res := d.dyn.Resource(k.gvr).Namespace(ns)
	var cont string
	for {
		if d.stopped != "" {
			return d.stopped
		}
		if d.requests >= d.opts.MaxRequests {
			d.stopped = fmt.Sprintf("request cap %d reached", d.opts.MaxRequests)
			d.partial = append(d.partial, fmt.Sprintf("%s before listing all %s in namespace %s", d.stopped, k.resource(), ns))
			return d.stopped
		}
		if err := ctx.Err(); err != nil {
			return d.stop(ctx, k, ns)
		}
		d.requests++
		next, err := d.page(ctx, res, k, ns, fieldSelector, cont, keep)
		if err != nil {
			switch {
			case ctx.Err() != nil:
				return d.stop(ctx, k, ns)
			case apierrors.IsForbidden(err):
				return fmt.Sprintf("forbidden: cannot list %s in namespace %s", k.resource(), ns)
			case apierrors.IsNotFound(err):
				return fmt.Sprintf("%s %s not served by the cluster", k.gvr.GroupVersion(), k.gvr.Resource)
			}
			why := fmt.Sprintf("list %s in namespace %s: %v", k.resource(), ns, err)
			d.partial = append(d.partial, why)
			return "error: " + why
		}
		if cont = next; cont == "" {
			return ""
		}
	}
}

// page reads one LIST page, streamed when a rest.Config was given.
func (d *diagnoser) page(ctx context.Context, res dynamic.ResourceInterface, k *kindInfo, ns, fieldSelector, cont string, keep func(*unstructured.Unstructured)) (string, error) {
	if d.stream != nil {
		return d.stream.page(ctx, k.gvr, ns, fieldSelector, cont, d.opts.PageSize, keep)
	}
	l, err := res.List(ctx, metav1.ListOptions{Limit: d.opts.PageSize, Continue: cont, FieldSelector: fieldSelector})
	if err != nil {
		return "", err
	}
	for i := range l.Items {
		keep(&l.Items[i])
	}
	return l.GetContinue(), nil
}

func (d *diagnoser) stop(ctx context.Context, k *kindInfo, ns string) string {
	d.stopped = "context ended"
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		d.stopped = "deadline exceeded"
	}
	d.partial = append(d.partial, fmt.Sprintf("%s after %d requests, while listing %s in namespace %s", d.stopped, d.requests, k.resource(), ns))
	return d.stopped
}

func gvr(group, version, resource string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: group, Version: version, Resource: resource}
}

// listWanted lists k in ns and keeps the objects the refs name.
func (d *diagnoser) listWanted(ctx context.Context, ns *namespace, k *kindInfo) {
	want := ns.items(k)
	why := d.list(ctx, k, ns.name, "", func(u *unstructured.Unstructured) {
		if it := want[u.GetName()]; it != nil {
			it.found(u)
		}
	})
	for _, it := range want {
		it.settle(why)
	}
}

// found decodes the object and judges it on its own.
func (it *item) found(u *unstructured.Unstructured) {
	var err error
	switch it.kind {
	case kDeployment:
		var o Deployment
		err = fromUnstructured(u, &o)
		it.obj = &o
		it.prelim, it.result.Message = deploymentStatus(&o)
	case kStatefulSet:
		var o StatefulSet
		err = fromUnstructured(u, &o)
		it.obj = &o
		it.prelim, it.result.Message = statefulSetStatus(&o)
	case kDaemonSet:
		var o DaemonSet
		err = fromUnstructured(u, &o)
		it.obj = &o
		it.prelim, it.result.Message = daemonSetStatus(&o)
	case kReplicaSet:
		var o ReplicaSet
		err = fromUnstructured(u, &o)
		it.obj = &o
		it.prelim, it.result.Message = replicaSetStatus(&o)
	case kJob:
		var o Job
		err = fromUnstructured(u, &o)
		it.obj = &o
		it.prelim, it.result.Message = jobStatus(&o)
	case kPod:
		var o Pod
		err = fromUnstructured(u, &o)
		it.obj = &o
		it.prelim, it.result.Message = podStatus(&o)
	case kPVC:
		var o PersistentVolumeClaim
		err = fromUnstructured(u, &o)
		it.obj = &o
		it.prelim, it.result.Message = pvcStatus(&o)
	case kService:
		var o Service
		err = fromUnstructured(u, &o)
		it.obj = &o
		it.prelim, it.result.Message = serviceStatus(&o)
	case kIngress:
		var o Ingress
		err = fromUnstructured(u, &o)
		it.obj = &o
		it.prelim, it.result.Message = ingressStatus(&o)
	case kHPA:
		var o HorizontalPodAutoscaler
		err = fromUnstructured(u, &o)
		it.obj = &o
		it.prelim, it.result.Message = hpaStatus(&o)
	}
	if err != nil {
		it.obj, it.prelim, it.result.Message = nil, "", ""
		it.why = "cannot decode: " + err.Error()
		return
	}
	it.uid = u.GetUID()
	it.result.Status = it.prelim
}

// settle gives a ref that was not found its verdict: Missing when the list
// was complete, else Unknown with the reason it was not inspected.
func (it *item) settle(why string) {
	switch {
	case it.obj != nil:
	case it.why != "":
		it.result.Status = StatusUnknown
		it.result.addNote("not inspected (" + it.why + ")")
	case why == "":
		it.result.Status = StatusMissing
	default:
		it.result.Status = StatusUnknown
		it.result.addNote("not inspected (" + why + ")")
	}
}

func fromUnstructured(u *unstructured.Unstructured, into any) error {
	return runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into)
}

// listReplicaSets reads ReplicaSets once: for ReplicaSet refs and for the
// drill-down of unhealthy Deployments.
func (d *diagnoser) listReplicaSets(ctx context.Context, ns *namespace) {
	owners := map[types.UID]bool{}
	for _, it := range ns.items(kDeployment) {
		if it.drill() {
			owners[it.uid] = true
		}
	}
	want := ns.items(kReplicaSet)
	if len(want) == 0 && len(owners) == 0 {
		return
	}
	why := d.list(ctx, kReplicaSet, ns.name, "", func(u *unstructured.Unstructured) {
		if it := want[u.GetName()]; it != nil {
			it.found(u)
		}
		if len(owners) > 0 && hasOwner(u.GetOwnerReferences(), owners) {
			var rs ReplicaSet
			if fromUnstructured(u, &rs) == nil {
				ns.rs = append(ns.rs, rs)
			}
		}
	})
	for _, it := range want {
		it.settle(why)
	}
	if len(owners) > 0 {
		ns.rsWhy = why
	}
}

// listPods reads pods once: for Pod refs and for the pods of every
// unhealthy workload (the drilled Deployments' ReplicaSets, StatefulSets,
// DaemonSets, Jobs and ReplicaSet refs). Pods are filtered by owner before
// decoding, so memory follows the broken workloads, not the namespace.
func (d *diagnoser) listPods(ctx context.Context, ns *namespace) {
	owners := map[types.UID]bool{}
	for _, rs := range ns.rs {
		owners[rs.UID] = true
	}
	for _, k := range []*kindInfo{kStatefulSet, kDaemonSet, kJob, kReplicaSet} {
		for _, it := range ns.items(k) {
			if it.drill() {
				owners[it.uid] = true
			}
		}
	}
	want := ns.items(kPod)
	if len(want) == 0 && len(owners) == 0 && ns.rsWhy == "" {
		return
	}
	if len(want) == 0 && len(owners) == 0 {
		// ReplicaSets could not be read: there is nothing to match pods to.
		ns.podsWhy = ns.rsWhy
		return
	}
	why := d.list(ctx, kPod, ns.name, "", func(u *unstructured.Unstructured) {
		if it := want[u.GetName()]; it != nil {
			it.found(u)
		}
		if len(owners) > 0 && hasOwner(u.GetOwnerReferences(), owners) {
			var p Pod
			if fromUnstructured(u, &p) == nil {
				ns.pods = append(ns.pods, p)
			}
		}
	})
	for _, it := range want {
		it.settle(why)
	}
	if len(owners) > 0 {
		ns.podsWhy = why
	}
}

// listEvents reads Warning events once, if anything in the namespace is
// unhealthy, keeping those that involve an unhealthy object, its
// ReplicaSets or its pods. A Pending claim's explanation may be a Normal
// event (WaitForFirstConsumer, ExternalProvisioning), so with one present
// all events are read and filtered here.
func (d *diagnoser) listEvents(ctx context.Context, ns *namespace) {
	uids := map[types.UID]bool{}
	names := map[string]bool{} // kind/name, for events that lack the UID
	allTypes := false
	for _, m := range ns.want {
		for _, it := range m {
			if !it.drill() {
				continue
			}
			uids[it.uid] = true
			names[it.kind.kind+"/"+it.result.Ref.Name] = true
			if it.kind == kPVC {
				allTypes = true
			}
		}
	}
	if len(uids) == 0 {
		return
	}
	for _, rs := range ns.rs {
		uids[rs.UID] = true
		names["ReplicaSet/"+rs.Name] = true
	}
	for _, p := range ns.pods {
		uids[p.UID] = true
		names["Pod/"+p.Name] = true
	}
	selector := "type=" + eventWarning
	if allTypes {
		selector = ""
	}
	ns.eventsWhy = d.list(ctx, kEvent, ns.name, selector, func(u *unstructured.Unstructured) {
		var e Event
		if fromUnstructured(u, &e) != nil {
			return
		}
		io := e.InvolvedObject
		if !uids[io.UID] && !(io.UID == "" && names[io.Kind+"/"+io.Name]) {
			return
		}
		if e.Type != eventWarning && io.Kind != "PersistentVolumeClaim" {
			return
		}
		if t := eventTime(&e); !t.IsZero() && t.Before(d.since) {
			return
		}
		ns.events = append(ns.events, e)
	})
}

// assess turns what was read into results with causes.
func (ns *namespace) assess() {
	podsBy := map[types.UID][]Pod{}
	for _, p := range ns.pods {
		for _, o := range p.OwnerReferences {
			podsBy[o.UID] = append(podsBy[o.UID], p)
		}
	}
	rsBy := map[types.UID][]ReplicaSet{}
	for _, rs := range ns.rs {
		for _, o := range rs.OwnerReferences {
			rsBy[o.UID] = append(rsBy[o.UID], rs)
		}
	}
	evBy := map[string][]Event{}
	for _, e := range ns.events {
		key := string(e.InvolvedObject.UID)
		if key == "" {
			key = e.InvolvedObject.Kind + "/" + e.InvolvedObject.Name
		}
		evBy[key] = append(evBy[key], e)
	}
	eventsOf := func(kind, name string, uid types.UID) []Event {
		return append(append([]Event(nil), evBy[string(uid)]...), evBy[kind+"/"+name]...)
	}
	for _, m := range ns.want {
		for _, it := range m {
			if it.obj == nil {
				continue
			}
			drill := it.drill()
			var evs []Event
			if drill {
				evs = eventsOf(it.kind.kind, it.result.Ref.Name, it.uid)
			}
			var pods []Pod
			if drill && it.kind != kDeployment {
				pods = podsBy[it.uid]
			}
			for _, p := range pods {
				evs = append(evs, eventsOf("Pod", p.Name, p.UID)...)
			}
			note := it.result.Note
			var r Result
			switch o := it.obj.(type) {
			case *Deployment:
				var rs []ReplicaSet
				if drill {
					rs = rsBy[o.UID]
				}
				for _, x := range rs {
					evs = append(evs, eventsOf("ReplicaSet", x.Name, x.UID)...)
					for _, p := range podsBy[x.UID] {
						pods = append(pods, p)
						evs = append(evs, eventsOf("Pod", p.Name, p.UID)...)
					}
				}
				r, it.issue = assessDeployment(o, rs, pods, evs)
			case *StatefulSet:
				r, it.issue = assessStatefulSet(o, pods, evs)
			case *DaemonSet:
				r, it.issue = assessDaemonSet(o, pods, evs)
			case *ReplicaSet:
				r, it.issue = assessReplicaSet(o, pods, evs)
			case *Job:
				r, it.issue = assessJob(o, pods, evs)
			case *Pod:
				r, it.issue = assessPod(o, evs)
			case *PersistentVolumeClaim:
				r = AssessPVC(o, evs)
			case *Service:
				r = AssessService(o, evs)
			case *Ingress:
				r = AssessIngress(o, evs)
			case *HorizontalPodAutoscaler:
				r = AssessHPA(o, evs)
			}
			r.Ref, r.Note = it.result.Ref, note
			if drill {
				r.addNote(ns.causeNote(it.kind))
			}
			it.result = r
		}
	}
}

// causeNote says which drill-down reads an unhealthy object of kind k
// missed.
func (ns *namespace) causeNote(k *kindInfo) string {
	var whys []string
	add := func(why string) {
		if why == "" {
			return
		}
		for _, w := range whys {
			if w == why {
				return
			}
		}
		whys = append(whys, why)
	}
	switch k {
	case kDeployment:
		add(ns.rsWhy)
		add(ns.podsWhy)
	case kStatefulSet, kDaemonSet, kJob, kReplicaSet:
		add(ns.podsWhy)
	}
	add(ns.eventsWhy)
	if len(whys) == 0 {
		return ""
	}
	return "cause not fully inspected (" + strings.Join(whys, "; ") + ")"
}
