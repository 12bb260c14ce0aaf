package argocd

import "strings"

// SourceRevision is one source of an app and the revision its current (or
// last) operation deploys from it.
type SourceRevision struct {
	RepoURL string
	// Revision is what Argo CD resolved for this source: a commit SHA for a
	// Git source once the sync has resolved it; a branch, a tag, HEAD or ""
	// when it has not (an operation that failed before its sync result);
	// a chart version for a Helm chart source.
	Revision string
	// Chart is set for a Helm chart source (a Helm or OCI registry), which
	// has no commit to report on.
	Chart bool
}

// SourceRevisions pairs each source of the operation with its revision.
//
// Where each comes from, in order (Argo CD v3.6.1):
//   - status.operationState.syncResult: sources and revisions of what the
//     sync applied, in the same order (revision/source for one source);
//   - status.operationState.operation.sync: an operation that failed before
//     it had a sync result (manifest generation, a failed PreSync phase)
//     still names its revision(s) there; its sources are the app's unless the
//     operation overrides them (a rollback);
//   - spec.sources / spec.source for the sources when neither names them.
//
// status.sync (the comparison) is never used: it may describe a newer commit
// than the one this operation deployed, and a status on the wrong commit is
// worse than none. Nil when the app has no operation.
func (a *Application) SourceRevisions() []SourceRevision {
	op := a.Status.OperationState
	if op == nil {
		return nil
	}
	var sources []Source
	var revs []string
	if sr := op.SyncResult; sr != nil {
		sources = sourceList(sr.Source, sr.Sources)
		revs = revisionList(sr.Revision, sr.Revisions)
	}
	if s := op.Operation.Sync; s != nil {
		if len(sources) == 0 {
			sources = sourceList(s.Source, s.Sources)
		}
		if len(revs) == 0 {
			revs = revisionList(s.Revision, s.Revisions)
		}
	}
	if len(sources) == 0 {
		sources = sourceList(a.Spec.Source, a.Spec.Sources)
	}
	if len(revs) != len(sources) {
		// Which revision is which source's is unknown (a sync of some
		// sources only, by sourcePositions; sources read from a spec edited
		// since): pairing them by position could name a commit of one
		// repository on another. Set none.
		revs = nil
	}
	out := make([]SourceRevision, 0, len(sources))
	for i, s := range sources {
		sr := SourceRevision{RepoURL: s.RepoURL, Chart: s.Chart != "" || strings.HasPrefix(s.RepoURL, "oci://")}
		if i < len(revs) {
			sr.Revision = revs[i]
		}
		out = append(out, sr)
	}
	return out
}

func sourceList(one *Source, many []Source) []Source {
	if len(many) > 0 {
		return many
	}
	if one != nil && one.RepoURL != "" {
		return []Source{*one}
	}
	return nil
}

func revisionList(one string, many []string) []string {
	if len(many) > 0 {
		return many
	}
	if one != "" {
		return []string{one}
	}
	return nil
}
