package gate

import (
	"sort"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
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
// informers write it; the judge reads it under the same lock.
type store struct {
	mu     sync.Mutex
	spaces map[string]*space
}

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
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.space(ns).apply(k, name, u, nil)
}

// replace sets the whole content of kind k in ns to a fresh list, and
// marks it listed. It returns the first decoding error.
func (s *store) replace(k *kind, ns string, items []unstructured.Unstructured) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sp := s.space(ns)
	keep := map[string]bool{}
	var first error
	for i := range items {
		keep[items[i].GetName()] = true
		if err := sp.apply(k, items[i].GetName(), &items[i], nil); err != nil && first == nil {
			first = err
		}
	}
	sp.apply(k, "", nil, keep)
	sp.synced[k] = true
	return first
}

// apply stores u under name, deletes name when u is nil, or, with keep,
// deletes every name not in keep.
func (sp *space) apply(k *kind, name string, u *unstructured.Unstructured, keep map[string]bool) error {
	switch k {
	case kDeployment:
		return putDecoded(sp.deployments, name, u, keep)
	case kStatefulSet:
		return putDecoded(sp.statefulSets, name, u, keep)
	case kDaemonSet:
		return putDecoded(sp.daemonSets, name, u, keep)
	case kReplicaSet:
		return putDecoded(sp.replicaSets, name, u, keep)
	case kJob:
		return putDecoded(sp.jobs, name, u, keep)
	case kPod:
		return putDecoded(sp.pods, name, u, keep)
	case kEvent:
		return putDecoded(sp.events, name, u, keep)
	}
	return nil
}

func putDecoded[T any](m map[string]*T, name string, u *unstructured.Unstructured, keep map[string]bool) error {
	switch {
	case keep != nil:
		for n := range m {
			if !keep[n] {
				delete(m, n)
			}
		}
		return nil
	case u == nil:
		delete(m, name)
		return nil
	}
	v := new(T)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, v); err != nil {
		delete(m, name)
		return err
	}
	m[name] = v
	return nil
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
