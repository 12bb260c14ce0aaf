package gate

import (
	"encoding/json"
	"sort"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/syncreport/syncreport/internal/health"
)

// kind is one watched resource type.
type kind struct {
	group, name string // API group and Kind, as Argo CD writes them
	gvr         schema.GroupVersionResource
	// fieldSelector narrows the watch (events: Warnings only).
	fieldSelector string
	// optional kinds may be forbidden: the gate judges without them.
	optional bool
}

func (k *kind) resource() string { return k.gvr.GroupResource().String() }

var (
	kDeployment  = &kind{group: "apps", name: "Deployment", gvr: schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}}
	kStatefulSet = &kind{group: "apps", name: "StatefulSet", gvr: schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "statefulsets"}}
	kDaemonSet   = &kind{group: "apps", name: "DaemonSet", gvr: schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "daemonsets"}}
	kReplicaSet  = &kind{group: "apps", name: "ReplicaSet", gvr: schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"}}
	kJob         = &kind{group: "batch", name: "Job", gvr: schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}}
	kPod         = &kind{group: "", name: "Pod", gvr: schema.GroupVersionResource{Version: "v1", Resource: "pods"}}
	kEvent       = &kind{group: "", name: "Event", gvr: schema.GroupVersionResource{Version: "v1", Resource: "events"},
		fieldSelector: "type=Warning", optional: true}

	// workloadKinds are the kinds the gate judges.
	workloadKinds = []*kind{kDeployment, kStatefulSet, kDaemonSet, kReplicaSet, kJob, kPod}
)

// kindOf maps an Argo CD resource's group and kind to a watched kind, or nil.
func kindOf(group, name string) *kind {
	if group == "extensions" {
		// Pre-1.16 manifests; the objects are served from apps.
		group = "apps"
	}
	for _, k := range workloadKinds {
		if k.group == group && k.name == name {
			return k
		}
	}
	return nil
}

// needs lists the kinds to watch to judge a workload of kind k: itself, the
// ReplicaSets of a Deployment, the pods and the Warning events.
func (k *kind) needs() []*kind {
	switch k {
	case kDeployment:
		return []*kind{kDeployment, kReplicaSet, kPod, kEvent}
	case kPod:
		return []*kind{kPod, kEvent}
	}
	return []*kind{k, kPod, kEvent}
}

// store holds the decoded live objects of the watched namespaces. The
// informers write it; the judge reads it under the same lock. A shared
// namespace can hold thousands of pods and events the gate has no use
// for, so what is kept is small: objects are decoded as health decodes
// them (named fields only, labels and annotations trimmed), a pod that is
// ready or finished and shows no problem is kept as health.SlimPod's
// record, and events are bounded (keepEvent, maxEvents).
type store struct {
	mu     sync.Mutex
	spaces map[string]*space
	dec    health.Decoder
}

// maxEvents bounds the Warning events kept per namespace: the newest are
// kept, as they explain the rollout under way.
const maxEvents = 500

// space is one namespace: objects by kind and name.
type space struct {
	// synced says, per kind, whether the kind has been listed.
	synced       map[*kind]bool
	deployments  map[string]*health.Deployment
	statefulSets map[string]*health.StatefulSet
	daemonSets   map[string]*health.DaemonSet
	replicaSets  map[string]*health.ReplicaSet
	jobs         map[string]*health.Job
	pods         map[string]*health.Pod
	events       map[string]*health.Event
}

func newStore() *store { return &store{spaces: map[string]*space{}} }

// space returns ns, creating it; callers hold mu.
func (s *store) space(ns string) *space {
	sp := s.spaces[ns]
	if sp == nil {
		sp = &space{
			synced:       map[*kind]bool{},
			deployments:  map[string]*health.Deployment{},
			statefulSets: map[string]*health.StatefulSet{},
			daemonSets:   map[string]*health.DaemonSet{},
			replicaSets:  map[string]*health.ReplicaSet{},
			jobs:         map[string]*health.Job{},
			pods:         map[string]*health.Pod{},
			events:       map[string]*health.Event{},
		}
		s.spaces[ns] = sp
	}
	return sp
}

// isSynced reports whether kind k of namespace ns has been listed; callers hold mu.
func (s *store) isSynced(ns string, k *kind) bool {
	sp := s.spaces[ns]
	return sp != nil && sp.synced[k]
}

// put decodes u and stores it under kind k; a nil u deletes name.
func (s *store) put(k *kind, ns, name string, u *unstructured.Unstructured) error {
	var raw []byte
	if u != nil {
		var err error
		if raw, err = json.Marshal(u.Object); err != nil {
			return err
		}
	}
	return s.putRaw(k, ns, name, raw)
}

// putRaw decodes raw (JSON) and stores it under kind k; a nil raw deletes
// name.
func (s *store) putRaw(k *kind, ns, name string, raw []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.space(ns).apply(&s.dec, k, name, raw)
}

// replace sets the whole content of kind k in ns to a fresh list, and
// marks it listed. It returns the first decoding error.
func (s *store) replace(k *kind, ns string, items []unstructured.Unstructured) error {
	seen := map[string]bool{}
	var first error
	for i := range items {
		seen[items[i].GetName()] = true
		if err := s.put(k, ns, items[i].GetName(), &items[i]); err != nil && first == nil {
			first = err
		}
	}
	s.listed(k, ns, seen)
	return first
}

// listed ends a LIST of kind k in ns that saw the names in seen: the
// others are gone. It marks the kind listed.
func (s *store) listed(k *kind, ns string, seen map[string]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sp := s.space(ns)
	sp.prune(k, seen)
	sp.synced[k] = true
}

// apply decodes raw and stores it under name, or deletes name when raw is
// nil.
func (sp *space) apply(dec *health.Decoder, k *kind, name string, raw []byte) error {
	switch k {
	case kDeployment:
		return putDecoded(dec, sp.deployments, name, raw, nil)
	case kStatefulSet:
		return putDecoded(dec, sp.statefulSets, name, raw, nil)
	case kDaemonSet:
		return putDecoded(dec, sp.daemonSets, name, raw, nil)
	case kReplicaSet:
		return putDecoded(dec, sp.replicaSets, name, raw, nil)
	case kJob:
		return putDecoded(dec, sp.jobs, name, raw, nil)
	case kPod:
		return putDecoded(dec, sp.pods, name, raw, health.SlimPod)
	case kEvent:
		err := putDecoded(dec, sp.events, name, raw, keepEvent)
		sp.boundEvents()
		return err
	}
	return nil
}

// prune deletes the objects of kind k whose names are not in seen.
func (sp *space) prune(k *kind, seen map[string]bool) {
	switch k {
	case kDeployment:
		pruneMap(sp.deployments, seen)
	case kStatefulSet:
		pruneMap(sp.statefulSets, seen)
	case kDaemonSet:
		pruneMap(sp.daemonSets, seen)
	case kReplicaSet:
		pruneMap(sp.replicaSets, seen)
	case kJob:
		pruneMap(sp.jobs, seen)
	case kPod:
		pruneMap(sp.pods, seen)
	case kEvent:
		pruneMap(sp.events, seen)
	}
}

func pruneMap[T any](m map[string]*T, seen map[string]bool) {
	for n := range m {
		if !seen[n] {
			delete(m, n)
		}
	}
}

// putDecoded decodes raw into m[name] (deleting it when raw is nil or does
// not decode); keep, when set, returns what to store, nil for nothing.
func putDecoded[T any, P interface {
	*T
	health.Object
}](dec *health.Decoder, m map[string]*T, name string, raw []byte, keep func(*T) *T) error {
	if raw == nil {
		delete(m, name)
		return nil
	}
	v := new(T)
	if err := dec.Decode(raw, P(v)); err != nil {
		delete(m, name)
		return err
	}
	if keep != nil {
		if v = keep(v); v == nil {
			delete(m, name)
			return nil
		}
	}
	m[name] = v
	return nil
}

// keepEvent keeps the events that can explain a workload the gate judges:
// those about its pods, ReplicaSets and the workloads themselves.
func keepEvent(e *health.Event) *health.Event {
	switch e.InvolvedObject.Kind {
	case "Pod", "ReplicaSet", "Deployment", "StatefulSet", "DaemonSet", "Job":
		return e
	}
	return nil
}

// boundEvents drops the oldest events beyond maxEvents.
func (sp *space) boundEvents() {
	for len(sp.events) > maxEvents {
		oldest, at := "", time.Time{}
		for n, e := range sp.events {
			if t := health.EventTime(e); oldest == "" || t.Before(at) {
				oldest, at = n, t
			}
		}
		delete(sp.events, oldest)
	}
}

// markListed marks kind k of ns as listed without content (an optional
// kind the gate may not read).
func (s *store) markListed(k *kind, ns string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.space(ns).synced[k] = true
}

// replicaSetsOf returns the ReplicaSets owned by uid.
func (sp *space) replicaSetsOf(uid types.UID) []health.ReplicaSet {
	var out []health.ReplicaSet
	for _, rs := range sp.replicaSets {
		if ownedBy(&rs.ObjectMeta, uid) {
			out = append(out, *rs)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// podsOf returns the pods owned by any of uids.
func (sp *space) podsOf(uids ...types.UID) []health.Pod {
	var out []health.Pod
	for _, p := range sp.pods {
		for _, uid := range uids {
			if ownedBy(&p.ObjectMeta, uid) {
				out = append(out, *p)
				break
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// eventList returns the namespace's Warning events; health's rules keep
// those that involve the object they judge.
func (sp *space) eventList() []health.Event {
	out := make([]health.Event, 0, len(sp.events))
	for _, e := range sp.events {
		out = append(out, *e)
	}
	return out
}

func ownedBy(m *health.ObjectMeta, uid types.UID) bool {
	for _, o := range m.OwnerReferences {
		if o.UID == uid {
			return true
		}
	}
	return false
}
