package health

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utiljson "k8s.io/apimachinery/pkg/util/json"
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

// item is one ref on its way to a Result. An app has thousands, so it
// holds little: the object is kept only while its pods and events may be
// read.
type item struct {
	kind   *kindInfo
	obj    any // typed object once found, while it is unhealthy
	uid    types.UID
	prelim string // status from the object alone; "" until found
	result Result
	issue  *podIssue // the pod named in the cause, for its logs
	why    string    // why the object was not inspected
}

// drill reports whether the item's pods and events are worth reading.
func (it *item) drill() bool { return it.obj != nil && unhealthy(it.prelim) }

// decoded is the item's object, nil when there is no item or no object.
func (it *item) decoded() any {
	if it == nil {
		return nil
	}
	return it.obj
}

// namespace gathers what was read in one namespace.
type namespace struct {
	name string
	want map[*kindInfo]map[string]*item

	// The current ReplicaSet of each drilled Deployment, and pods, by the
	// UID of the drilled owner they belong to: grouped as they are read so
	// that assess need not copy them. Pods are split by what they show (see
	// keepPod).
	currentRS map[types.UID]*ReplicaSet
	podsBy    map[types.UID][]Pod      // pods that show a problem of their own
	quietBy   map[types.UID][]quietPod // pods only an event can explain
	events    []Event                  // involving drilled objects

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
	dec      decoder
}

// list reads every page of k in ns, handing each item to keep as JSON (valid
// only during the call). It returns "" when the list is complete, or why it
// is not.
func (d *diagnoser) list(ctx context.Context, k *kindInfo, ns, fieldSelector string, keep func(raw []byte)) string {
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

// page reads one LIST page, streamed when a rest.Config was given. Pages
// read whole through the dynamic client are turned back into JSON, so both
// ways decode alike.
func (d *diagnoser) page(ctx context.Context, res dynamic.ResourceInterface, k *kindInfo, ns, fieldSelector, cont string, keep func(raw []byte)) (string, error) {
	if d.stream != nil {
		return d.stream.page(ctx, k.gvr, ns, fieldSelector, cont, d.opts.PageSize, keep)
	}
	l, err := res.List(ctx, metav1.ListOptions{Limit: d.opts.PageSize, Continue: cont, FieldSelector: fieldSelector})
	if err != nil {
		return "", err
	}
	for i := range l.Items {
		raw, err := json.Marshal(l.Items[i].Object)
		if err != nil {
			return "", err
		}
		keep(raw)
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
	why := d.list(ctx, k, ns.name, "", func(raw []byte) {
		h := readHead(raw)
		if it := want[h.Metadata.Name]; it != nil {
			it.found(raw, &d.dec)
		}
	})
	for _, it := range want {
		it.settle(why)
	}
}

// head is what is read of a listed object to decide whether to decode the
// rest of it: most of a namespace's pods, say, belong to healthy workloads.
type head struct {
	Metadata struct {
		Name            string `json:"name"`
		OwnerReferences []struct {
			UID types.UID `json:"uid"`
		} `json:"ownerReferences"`
	} `json:"metadata"`
}

// readHead reads the head of a listed object. An object whose metadata
// does not decode keeps an empty name and matches nothing, as it did when
// the objects were read as maps.
func readHead(raw []byte) head {
	var h head
	if utiljson.Unmarshal(raw, &h) != nil {
		return head{}
	}
	return h
}

// ownedBy reports whether the object has an owner reference to one of uids.
func (h *head) ownedBy(uids map[types.UID]bool) bool {
	for _, o := range h.Metadata.OwnerReferences {
		if uids[o.UID] {
			return true
		}
	}
	return false
}

// object is any of the types of types.go.
type object interface{ meta() *ObjectMeta }

// Object is any of the types of types.go (for Decoder).
type Object = object

// Decoder reads listed or watched objects (JSON) into the types of
// types.go the way Diagnose does: unnamed fields skipped unread, labels and
// annotations trimmed to the few the rules read, equal maps shared. Its
// zero value is ready; it is not safe for concurrent use.
type Decoder struct{ d decoder }

// Decode reads raw into into, a pointer to one of the types of types.go.
func (d *Decoder) Decode(raw []byte, into Object) error {
	return d.d.decode(raw, into)
}

func (m *ObjectMeta) meta() *ObjectMeta { return m }

// decoder reads listed objects into the types of types.go.
type decoder struct {
	// maps holds the trimmed label and annotation maps made so far, by
	// content, so that equal ones are shared: the ReplicaSets of a big app
	// keep little more than a small revision number each, and even a map of
	// one entry costs some 300 bytes. They are never written once made.
	maps map[string]map[string]string
}

// decode reads a listed object straight into its small type: fields the
// type does not name are skipped unread, never held in memory. Keys match
// case-sensitively and integers stay integers, as the dynamic client's
// conversion did. Labels and annotations are trimmed to the few the rules
// read: a client-side apply's last-applied-configuration alone is the whole
// manifest again.
func (dec *decoder) decode(raw []byte, into object) error {
	if err := utiljson.Unmarshal(raw, into); err != nil {
		return err
	}
	m := into.meta()
	m.Labels = dec.only(m.Labels, revisionHashLabel, templateGenerationLabel)
	m.Annotations = dec.only(m.Annotations, revisionAnnotation, templateGenerationAnnotation)
	return nil
}

// only returns the entries of m under keys, or nil when there are none.
func (dec *decoder) only(m map[string]string, keys ...string) map[string]string {
	id := ""
	for _, k := range keys {
		if v, ok := m[k]; ok {
			id += strconv.Quote(k) + strconv.Quote(v)
		}
	}
	if id == "" {
		return nil
	}
	out, ok := dec.maps[id]
	if !ok {
		out = map[string]string{}
		for _, k := range keys {
			if v, ok := m[k]; ok {
				out[k] = v
			}
		}
		if dec.maps == nil {
			dec.maps = map[string]map[string]string{}
		}
		dec.maps[id] = out
	}
	return out
}

// found decodes the object and judges it on its own.
func (it *item) found(raw []byte, dec *decoder) {
	var err error
	switch it.kind {
	case kDeployment:
		var o Deployment
		err = dec.decode(raw, &o)
		it.obj = &o
		it.prelim, it.result.Message = deploymentStatus(&o)
	case kStatefulSet:
		var o StatefulSet
		err = dec.decode(raw, &o)
		it.obj = &o
		it.prelim, it.result.Message = statefulSetStatus(&o)
	case kDaemonSet:
		var o DaemonSet
		err = dec.decode(raw, &o)
		it.obj = &o
		it.prelim, it.result.Message = daemonSetStatus(&o)
	case kReplicaSet:
		var o ReplicaSet
		err = dec.decode(raw, &o)
		it.obj = &o
		it.prelim, it.result.Message = replicaSetStatus(&o)
	case kJob:
		var o Job
		err = dec.decode(raw, &o)
		it.obj = &o
		it.prelim, it.result.Message = jobStatus(&o)
	case kPod:
		var o Pod
		err = dec.decode(raw, &o)
		it.obj = &o
		it.prelim, it.result.Message = podStatus(&o)
	case kPVC:
		var o PersistentVolumeClaim
		err = dec.decode(raw, &o)
		it.obj = &o
		it.prelim, it.result.Message = pvcStatus(&o)
	case kService:
		var o Service
		err = dec.decode(raw, &o)
		it.obj = &o
		it.prelim, it.result.Message = serviceStatus(&o)
	case kIngress:
		var o Ingress
		err = dec.decode(raw, &o)
		it.obj = &o
		it.prelim, it.result.Message = ingressStatus(&o)
	case kHPA:
		var o HorizontalPodAutoscaler
		err = dec.decode(raw, &o)
		it.obj = &o
		it.prelim, it.result.Message = hpaStatus(&o)
	}
	if err != nil {
		it.obj, it.prelim, it.result.Message = nil, "", ""
		it.why = "cannot decode: " + err.Error()
		return
	}
	it.uid = it.obj.(object).meta().UID
	it.result.Status = it.prelim
	if !unhealthy(it.prelim) {
		// Judged for good: nothing more is read about it, and the Assess*
		// functions give a healthy object no cause.
		it.obj = nil
	}
}

// settle gives a ref that was not found its verdict: Missing when the list
// was complete, else Unknown with the reason it was not inspected.
func (it *item) settle(why string) {
	switch {
	case it.prelim != "":
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

// listReplicaSets reads ReplicaSets once: for ReplicaSet refs and for the
// drill-down of unhealthy Deployments.
func (d *diagnoser) listReplicaSets(ctx context.Context, ns *namespace) {
	owners := map[types.UID]bool{}
	deployments := map[types.UID]*Deployment{}
	for _, it := range ns.items(kDeployment) {
		if it.drill() {
			owners[it.uid] = true
			deployments[it.uid] = it.obj.(*Deployment)
		}
	}
	want := ns.items(kReplicaSet)
	if len(want) == 0 && len(owners) == 0 {
		return
	}
	ns.currentRS = map[types.UID]*ReplicaSet{}
	why := d.list(ctx, kReplicaSet, ns.name, "", func(raw []byte) {
		h := readHead(raw)
		it := want[h.Metadata.Name]
		if it != nil {
			it.found(raw, &d.dec)
		}
		if !h.ownedBy(owners) {
			return
		}
		rs, ok := it.decoded().(*ReplicaSet) // a ref as well: decoded once
		if !ok {
			rs = &ReplicaSet{}
			if d.dec.decode(raw, rs) != nil {
				return
			}
		}
		// Only the current revision's ReplicaSet is judged (see
		// CurrentReplicaSet); a Deployment keeps ten old ones by default.
		for _, o := range h.Metadata.OwnerReferences {
			if d := deployments[o.UID]; d != nil && currentFor(d, rs, ns.currentRS[o.UID]) {
				ns.currentRS[o.UID] = rs
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
// unhealthy workload (the drilled Deployments' current ReplicaSets, StatefulSets,
// DaemonSets, Jobs and ReplicaSet refs). Pods are filtered by owner before
// decoding, so memory follows the broken workloads, not the namespace.
func (d *diagnoser) listPods(ctx context.Context, ns *namespace) {
	owners := map[types.UID]bool{}
	for _, rs := range ns.currentRS {
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
	ns.podsBy, ns.quietBy = map[types.UID][]Pod{}, map[types.UID][]quietPod{}
	why := d.list(ctx, kPod, ns.name, "", func(raw []byte) {
		h := readHead(raw)
		it := want[h.Metadata.Name]
		if it != nil {
			it.found(raw, &d.dec)
		}
		if !h.ownedBy(owners) {
			return
		}
		p, ok := it.decoded().(*Pod)
		if !ok {
			p = &Pod{}
			if d.dec.decode(raw, p) != nil {
				return
			}
		}
		for _, o := range h.Metadata.OwnerReferences {
			if owners[o.UID] {
				ns.keepPod(o.UID, p)
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

// keepPod files a pod of a drilled workload under its owner until events
// are read; a big rollout has thousands, so each is kept only as far as it
// can matter. A pod that shows a problem of its own is kept whole: events
// only add detail to its cause. A ready or finished pod can never be the
// cause: it is dropped. Any other pod may still be named for a Warning
// event, and is kept as a quietPod.
func (ns *namespace) keepPod(owner types.UID, p *Pod) {
	switch {
	case diagnosePod(p, nil).severity > 0:
		ns.podsBy[owner] = append(ns.podsBy[owner], *p)
	case p.Status.Phase == podSucceeded || podReady(p):
	default:
		ns.quietBy[owner] = append(ns.quietBy[owner], quietOf(p))
	}
}

// quietPod is a pod that shows no problem of its own and is not ready.
// Only a Warning event can still make it the cause, and podIssueOf then
// reads no more than these facts of it: a fifth of a Pod's size.
type quietPod struct {
	name      string
	uid       types.UID
	labels    map[string]string // the revision labels the *Pods functions match
	notReady  string            // the first container not ready, if any
	restarts  int32             // of all containers
	running   bool              // phase Running
	scheduled bool              // PodScheduled is True
}

func quietOf(p *Pod) quietPod {
	q := quietPod{name: p.Name, uid: p.UID, labels: p.Labels, notReady: firstNotReady(p), running: p.Status.Phase == podRunning}
	for _, cs := range p.Status.ContainerStatuses {
		q.restarts += cs.RestartCount
	}
	c := podCondition(p, podScheduled)
	q.scheduled = c != nil && c.Status == conditionTrue
	return q
}

// pod rebuilds a Pod owned by owner that shows these facts, and nothing of
// its own: not ready, no container state, one container status standing
// for all (named after the first container not ready, with all restarts),
// phase Running or none. Given the same events, podIssueOf finds for it
// what it finds for the whole pod.
func (q *quietPod) pod(owner types.UID) Pod {
	p := Pod{ObjectMeta: ObjectMeta{Name: q.name, UID: q.uid, Labels: q.labels,
		OwnerReferences: []metav1.OwnerReference{{UID: owner}}}}
	if q.running {
		p.Status.Phase = podRunning
	}
	if q.scheduled {
		p.Status.Conditions = []Condition{{Type: podScheduled, Status: conditionTrue}}
	}
	p.Status.ContainerStatuses = []ContainerStatus{{Name: q.notReady, RestartCount: q.restarts}}
	return p
}

// listEvents reads Warning events once, if anything in the namespace is
// unhealthy, keeping those that involve an unhealthy object, its
// ReplicaSets or its pods. A Pending claim's explanation may be a Normal
// event (WaitForFirstConsumer, ExternalProvisioning), so with one present
// all events are read and filtered here.
func (d *diagnoser) listEvents(ctx context.Context, ns *namespace) {
	// A sorted slice rather than a set: a rollout has thousands of pods,
	// this is when memory peaks, and a set of UIDs takes twice as much.
	var uids []types.UID
	allTypes := false
	ns.eachInvolved(func(kind, _ string, uid types.UID) {
		uids = append(uids, uid)
		allTypes = allTypes || kind == kPVC.kind
	})
	if len(uids) == 0 {
		return
	}
	slices.Sort(uids)
	var names map[string]bool // kind/name, built for the first event that lacks the UID
	involves := func(io ObjectReference) bool {
		if _, ok := slices.BinarySearch(uids, io.UID); ok || io.UID != "" {
			return ok
		}
		if names == nil {
			names = map[string]bool{}
			ns.eachInvolved(func(kind, name string, _ types.UID) { names[kind+"/"+name] = true })
		}
		return names[io.Kind+"/"+io.Name]
	}
	selector := "type=" + eventWarning
	if allTypes {
		selector = ""
	}
	ns.eventsWhy = d.list(ctx, kEvent, ns.name, selector, func(raw []byte) {
		var e Event
		if d.dec.decode(raw, &e) != nil {
			return
		}
		io := e.InvolvedObject
		if !involves(io) {
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

// eachInvolved visits what an event must involve to be kept: the unhealthy
// objects, their ReplicaSets and their pods.
func (ns *namespace) eachInvolved(visit func(kind, name string, uid types.UID)) {
	for _, m := range ns.want {
		for _, it := range m {
			if it.drill() {
				visit(it.kind.kind, it.result.Ref.Name, it.uid)
			}
		}
	}
	for _, rs := range ns.currentRS {
		visit(kReplicaSet.kind, rs.Name, rs.UID)
	}
	for _, list := range ns.podsBy {
		for _, p := range list {
			visit(kPod.kind, p.Name, p.UID)
		}
	}
	for _, list := range ns.quietBy {
		for _, q := range list {
			visit(kPod.kind, q.name, q.uid)
		}
	}
}

// assess turns what was read into results with causes.
func (ns *namespace) assess() {
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
	// podsOf returns the pods of owner that can name a cause: those with a
	// problem of their own, and the quiet ones that an event is about.
	podsOf := func(owner types.UID) []Pod {
		pods := slices.Clip(ns.podsBy[owner])
		for _, q := range ns.quietBy[owner] {
			if len(evBy[string(q.uid)]) > 0 || len(evBy["Pod/"+q.name]) > 0 {
				pods = append(pods, q.pod(owner))
			}
		}
		return pods
	}
	for _, m := range ns.want {
		for _, it := range m {
			if it.obj == nil {
				continue // not found, or judged by found
			}
			drill := it.drill()
			var evs []Event
			if drill {
				evs = eventsOf(it.kind.kind, it.result.Ref.Name, it.uid)
			}
			var pods []Pod
			if drill && it.kind != kDeployment {
				pods = podsOf(it.uid)
			}
			for _, p := range pods {
				evs = append(evs, eventsOf("Pod", p.Name, p.UID)...)
			}
			note := it.result.Note
			var r Result
			var is podIssue
			switch o := it.obj.(type) {
			case *Deployment:
				var rs []ReplicaSet
				if x := ns.currentRS[o.UID]; drill && x != nil {
					rs = []ReplicaSet{*x}
				}
				for _, x := range rs {
					evs = append(evs, eventsOf("ReplicaSet", x.Name, x.UID)...)
					for _, p := range podsOf(x.UID) {
						pods = append(pods, p)
						evs = append(evs, eventsOf("Pod", p.Name, p.UID)...)
					}
				}
				r, is = assessDeployment(o, rs, pods, evs)
			case *StatefulSet:
				r, is = assessStatefulSet(o, pods, evs)
			case *DaemonSet:
				r, is = assessDaemonSet(o, pods, evs)
			case *ReplicaSet:
				r, is = assessReplicaSet(o, pods, evs)
			case *Job:
				r, is = assessJob(o, pods, evs)
			case *Pod:
				r, is = assessPod(o, evs)
			case *PersistentVolumeClaim:
				r = AssessPVC(o, evs)
			case *Service:
				r = AssessService(o, evs)
			case *Ingress:
				r = AssessIngress(o, evs)
			case *HorizontalPodAutoscaler:
				r = AssessHPA(o, evs)
			}
			if is.severity > 0 {
				it.issue = &is
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
