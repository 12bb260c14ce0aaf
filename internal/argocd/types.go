// Package argocd holds the small slice of Argo CD's Application that
// syncreport reads, and the code that finds and reads it. The product never
// imports the argo-cd module: these structs mirror only the fields we use,
// with the JSON names of argoproj.io/v1alpha1.
package argocd

import "time"

// Application is an argoproj.io/v1alpha1 Application, reduced to what the
// report needs.
type Application struct {
	Metadata Metadata `json:"metadata"`
	Spec     Spec     `json:"spec"`
	Status   Status   `json:"status"`
	// Operation is the requested operation; Argo CD clears it once the
	// controller picks it up, so the running one is in Status.OperationState.
	Operation *Operation `json:"operation,omitempty"`
}

// Metadata is the object metadata syncreport uses.
type Metadata struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Spec is the desired state: project, sources, destination, sync policy.
type Spec struct {
	Project     string      `json:"project"`
	Source      *Source     `json:"source,omitempty"`
	Sources     []Source    `json:"sources,omitempty"`
	Destination Destination `json:"destination"`
	SyncPolicy  *SyncPolicy `json:"syncPolicy,omitempty"`
}

// Source is one Git/Helm/OCI source of the app.
type Source struct {
	RepoURL        string `json:"repoURL"`
	Path           string `json:"path,omitempty"`
	Chart          string `json:"chart,omitempty"`
	TargetRevision string `json:"targetRevision,omitempty"`
}

// Destination is where the app is deployed.
type Destination struct {
	Server    string `json:"server,omitempty"`
	Name      string `json:"name,omitempty"`
	Namespace string `json:"namespace,omitempty"`
}

// SyncPolicy is the app's automation and retry policy.
type SyncPolicy struct {
	Automated *struct {
		Prune    bool `json:"prune,omitempty"`
		SelfHeal bool `json:"selfHeal,omitempty"`
	} `json:"automated,omitempty"`
	Retry *RetryStrategy `json:"retry,omitempty"`
}

// RetryStrategy is Argo CD's retry block. Argo CD stores `limit: 0` as an
// empty object, so a nil Limit inside a present block means 0; a negative
// limit means retry forever.
type RetryStrategy struct {
	Limit *int64 `json:"limit,omitempty"`
}

// Status is the observed state written by the application controller.
type Status struct {
	Sync           SyncStatus       `json:"sync"`
	Health         HealthStatus     `json:"health"`
	OperationState *OperationState  `json:"operationState,omitempty"`
	Resources      []ResourceStatus `json:"resources,omitempty"`
	Conditions     []Condition      `json:"conditions,omitempty"`
	Summary        Summary          `json:"summary"`
}

// SyncStatus is the comparison result: Synced / OutOfSync and the revisions compared.
type SyncStatus struct {
	Status    string   `json:"status"`
	Revision  string   `json:"revision,omitempty"`
	Revisions []string `json:"revisions,omitempty"`
}

// HealthStatus is an aggregated or per-resource health.
type HealthStatus struct {
	Status  string `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
}

// Condition is an app condition; types ending in "Error" are failures.
type Condition struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// Summary carries the images deployed by the app.
type Summary struct {
	Images []string `json:"images,omitempty"`
}

// ResourceStatus is one entry of status.resources: what the app manages.
type ResourceStatus struct {
	Group     string        `json:"group,omitempty"`
	Version   string        `json:"version,omitempty"`
	Kind      string        `json:"kind"`
	Namespace string        `json:"namespace,omitempty"`
	Name      string        `json:"name"`
	Status    string        `json:"status,omitempty"`
	Health    *HealthStatus `json:"health,omitempty"`
	Hook      bool          `json:"hook,omitempty"`
	SyncWave  int64         `json:"syncWave,omitempty"`
}

// OperationState is the state of the current or last operation.
type OperationState struct {
	Operation  Operation   `json:"operation"`
	Phase      string      `json:"phase"`
	Message    string      `json:"message,omitempty"`
	SyncResult *SyncResult `json:"syncResult,omitempty"`
	StartedAt  time.Time   `json:"startedAt"`
	FinishedAt *time.Time  `json:"finishedAt,omitempty"`
	// RetryCount is N-1 on attempt N and absent on the first.
	RetryCount int64 `json:"retryCount,omitempty"`
}

// Operation is a requested sync with its initiator, --info entries and retry policy.
type Operation struct {
	Sync        *SyncOperation `json:"sync,omitempty"`
	InitiatedBy InitiatedBy    `json:"initiatedBy"`
	Info        []Info         `json:"info,omitempty"`
	Retry       *RetryStrategy `json:"retry,omitempty"`
}

// SyncOperation names the revision(s) being synced.
type SyncOperation struct {
	Revision  string   `json:"revision,omitempty"`
	Revisions []string `json:"revisions,omitempty"`
	// Source and Sources override the app's for this operation (a rollback).
	Source  *Source  `json:"source,omitempty"`
	Sources []Source `json:"sources,omitempty"`
}

// InitiatedBy is `{}` without login, `{"username":…}` for users and
// `{"automated":true}` for auto-sync.
type InitiatedBy struct {
	Username  string `json:"username,omitempty"`
	Automated bool   `json:"automated,omitempty"`
}

// Info is one `argocd app sync --info name=value` entry.
type Info struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// SyncResult is the per-resource outcome of the sync so far.
type SyncResult struct {
	Resources []ResourceResult `json:"resources,omitempty"`
	Revision  string           `json:"revision,omitempty"`
	Revisions []string         `json:"revisions,omitempty"`
	// Source and Sources are what this sync deployed, in the order of Revisions.
	Source  *Source  `json:"source,omitempty"`
	Sources []Source `json:"sources,omitempty"`
}

// ResourceResult is one resource or hook in syncResult.resources. Failed
// hooks and Degraded resources show hookPhase Failed with status Synced;
// status SyncFailed appears only when an apply was rejected.
type ResourceResult struct {
	Group     string `json:"group,omitempty"`
	Version   string `json:"version,omitempty"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	Status    string `json:"status,omitempty"`
	Message   string `json:"message,omitempty"`
	HookType  string `json:"hookType,omitempty"`
	HookPhase string `json:"hookPhase,omitempty"`
	SyncPhase string `json:"syncPhase,omitempty"`
}

// Ref identifies one Kubernetes object.
type Ref struct {
	Group     string `json:"group"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// Ref returns the identity of a sync result entry.
func (r ResourceResult) Ref() Ref {
	return Ref{Group: r.Group, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name}
}

// Ref returns the identity of a status.resources entry.
func (r ResourceStatus) Ref() Ref {
	return Ref{Group: r.Group, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name}
}

// String renders a ref as kind/namespace/name, the way kubectl users read it.
func (r Ref) String() string {
	s := r.Kind
	if r.Namespace != "" {
		s += "/" + r.Namespace
	}
	return s + "/" + r.Name
}

// LiveRefs lists what the app has in the destination cluster: status.resources
// and the entries of the current sync result (hooks included: a failed
// PreSync Job is worth a look), without duplicates and without skip.
func (a *Application) LiveRefs(skip *Ref) []Ref {
	seen := map[Ref]bool{}
	var out []Ref
	add := func(r Ref) {
		if seen[r] || (skip != nil && r.Kind == skip.Kind && r.Name == skip.Name && r.Namespace == skip.Namespace) {
			return
		}
		seen[r] = true
		out = append(out, r)
	}
	for _, s := range a.Status.Resources {
		add(s.Ref())
	}
	if op := a.Status.OperationState; op != nil && op.SyncResult != nil {
		for _, e := range op.SyncResult.Resources {
			add(e.Ref())
		}
	}
	return out
}
