package gate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/syncreport/syncreport/internal/argocd"
)

// Marking a broken Deployment Degraded (Options.MarkDegraded).
//
// In a multi-step sync Argo CD waits for every resource of the running
// wave to be Healthy or Degraded before it looks at a failed Sync hook
// (gitops-engine pkg/sync/sync_context.go), and a crash-looping Deployment
// is Progressing until its progress deadline. So the gate writes, on a
// Deployment it found broken, the condition the Deployment controller
// writes once progressDeadlineSeconds passed: Progressing=False, reason
// ProgressDeadlineExceeded. Argo CD's Deployment health check
// (gitops-engine pkg/health/health_deployment.go) then says Degraded, the
// wave completes as failed and the SyncFail hooks run.
//
// The controller keeps that condition: its DeploymentTimedOut is true as
// soon as the reason is already ProgressDeadlineExceeded, and
// SetDeploymentCondition leaves an equal status and reason alone
// (k8s.io/kubernetes pkg/controller/deployment/util/deployment_util.go).
// It replaces it only when the rollout makes progress (more updated, ready
// or available replicas, fewer old ones: Progressing=True
// ReplicaSetUpdated), completes (NewReplicaSetAvailable) or gets a new
// ReplicaSet (a new template: NewReplicaSetCreated).
const (
	reasonDeadlineExceeded = "ProgressDeadlineExceeded"
	// markPrefix starts the condition's message, so that a reader can
	// tell the gate's mark from the controller's.
	markPrefix = "syncreport gate: "
	// maxMarkMessage bounds the condition's message, in bytes.
	maxMarkMessage = 1024
	// markAttempts bounds read-and-patch rounds lost to a concurrent
	// status write (409 Conflict).
	markAttempts = 3
	// markTimeout bounds marking every broken Deployment, so the gate's
	// verdict is not held up by a slow API server.
	markTimeout = 10 * time.Second
)

// errAlreadyMarked means the Deployment already carries the condition.
var errAlreadyMarked = errors.New("already past its progress deadline")

// markBroken marks every Deployment of v.broken and logs each outcome; a
// failure is logged and otherwise ignored: the gate fails the hook anyway.
// It returns the Deployments marked.
func (g *Gate) markBroken(ctx context.Context, v verdict) []argocd.Ref {
	o := g.opts
	if !o.MarkDegraded {
		return nil
	}
	if len(v.broken) == 0 {
		o.Log.Info("no Deployment to mark Degraded: only a Deployment failed by its pods is marked; Argo CD waits for the running wave as usual",
			"cause", v.cause)
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, markTimeout)
	defer cancel()
	var marked []argocd.Ref
	for _, b := range v.broken {
		err := markDegraded(ctx, o.Client, b, o.Clock.Now())
		switch {
		case errors.Is(err, errAlreadyMarked):
			o.Log.Info("Deployment already marked past its progress deadline", "deployment", b.ref.String())
		case err != nil:
			o.Log.Warn("cannot mark the Deployment Degraded; Argo CD waits for it until its progress deadline",
				"deployment", b.ref.String(), "error", err.Error())
		default:
			o.Log.Info("marked the Deployment Degraded (Progressing=False, ProgressDeadlineExceeded): Argo CD fails the sync's running wave",
				"deployment", b.ref.String())
			marked = append(marked, b.ref)
		}
	}
	return marked
}

// markDegraded writes the ProgressDeadlineExceeded condition on b through
// the deployments/status subresource, as a JSON merge patch of the whole
// condition list (the other conditions kept) guarded by the
// resourceVersion read, so that it never undoes a status write it did not
// see; it reads again and retries on a conflict.
func markDegraded(ctx context.Context, dyn dynamic.Interface, b brokenDeployment, now time.Time) error {
	res := dyn.Resource(kDeployment.gvr).Namespace(b.ref.Namespace)
	for attempt := 1; ; attempt++ {
		d, err := res.Get(ctx, b.ref.Name, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("read deployment %s/%s: %w", b.ref.Namespace, b.ref.Name, err)
		}
		patch, err := degradedPatch(d, b, now)
		if err != nil {
			return err
		}
		_, err = res.Patch(ctx, b.ref.Name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: "syncreport-gate"}, "status")
		switch {
		case err == nil:
			return nil
		case apierrors.IsConflict(err) && attempt < markAttempts:
			continue
		case apierrors.IsForbidden(err):
			return fmt.Errorf("%w (grant patch on deployments/status in namespace %s)", err, b.ref.Namespace)
		case apierrors.IsConflict(err):
			return fmt.Errorf("deployment %s/%s: status changed under %d attempts: %w", b.ref.Namespace, b.ref.Name, markAttempts, err)
		}
		return fmt.Errorf("patch deployment %s/%s status: %w", b.ref.Namespace, b.ref.Name, err)
	}
}

// degradedPatch returns the merge patch that sets d's Progressing
// condition to False/ProgressDeadlineExceeded, keeping its other
// conditions in place. It refuses when the mark would not hold or not be
// true: progressDeadlineSeconds disabled (the controller then removes any
// Progressing condition), or a generation other than the one judged.
func degradedPatch(d *unstructured.Unstructured, b brokenDeployment, now time.Time) ([]byte, error) {
	id := b.ref.Namespace + "/" + b.ref.Name
	deadline, found, _ := unstructured.NestedInt64(d.Object, "spec", "progressDeadlineSeconds")
	if !found || deadline == math.MaxInt32 {
		return nil, fmt.Errorf("deployment %s: progressDeadlineSeconds unset or disabled, so its controller would remove the condition", id)
	}
	if g := d.GetGeneration(); g != b.generation {
		return nil, fmt.Errorf("deployment %s is at generation %d, not the broken %d", id, g, b.generation)
	}
	conds, _, err := unstructured.NestedSlice(d.Object, "status", "conditions")
	if err != nil {
		return nil, fmt.Errorf("deployment %s: status.conditions: %w", id, err)
	}
	ts := now.UTC().Format(time.RFC3339)
	mark := map[string]any{
		"type": "Progressing", "status": "False", "reason": reasonDeadlineExceeded,
		"message":        markMessage(b.cause),
		"lastUpdateTime": ts, "lastTransitionTime": ts,
	}
	replaced := false
	for i, c := range conds {
		m, ok := c.(map[string]any)
		if !ok || m["type"] != "Progressing" {
			continue
		}
		if m["reason"] == reasonDeadlineExceeded {
			return nil, errAlreadyMarked
		}
		if m["status"] == "False" && m["lastTransitionTime"] != nil {
			// As the controller's SetDeploymentCondition: the status does
			// not change, so neither does its transition time.
			mark["lastTransitionTime"] = m["lastTransitionTime"]
		}
		conds[i], replaced = mark, true
	}
	if !replaced {
		conds = append(conds, mark)
	}
	return json.Marshal(map[string]any{
		"metadata": map[string]any{"resourceVersion": d.GetResourceVersion()},
		"status":   map[string]any{"conditions": conds},
	})
}

// markMessage is the condition's message: the cause on one line, cut to
// maxMarkMessage bytes at a rune boundary.
func markMessage(cause string) string {
	s := markPrefix + oneLine(cause)
	if len(s) <= maxMarkMessage {
		return s
	}
	cut := maxMarkMessage - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
