package settings

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"strings"
	"time"
	"unicode"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// EventReason is the reason of the Warning Event on a central object with
// an ignored value.
const EventReason = "SyncreportSettingsInvalid"

var eventsGVR = schema.GroupVersionResource{Version: "v1", Resource: "events"}

// maxEventMessage stays under the API server's 1024-byte limit on a core/v1
// Event message.
const maxEventMessage = 1000

// Warn makes each Problem visible to the platform team: a warning log line,
// and a Warning Event on the ConfigMap or Secret (kubectl describe, kubectl
// get events -n argocd). The Event's name is fixed by the object's
// resourceVersion and the key, so the hooks of a whole fleet make one Event
// per mistake: the first creates it, the others find it exists. app names
// the app whose hook saw it first. Failing to create the Event is logged,
// never an error: it is a notice about a sync that goes on.
func Warn(ctx context.Context, dyn dynamic.Interface, problems []Problem, app string, log *slog.Logger) {
	for _, p := range problems {
		log.Warn("central setting ignored: "+p.Error(), "object", p.Object.Source(), "key", p.Key)
		if dyn == nil || p.Object.UID == "" {
			continue
		}
		ev := event(p, app, time.Now())
		_, err := dyn.Resource(eventsGVR).Namespace(p.Object.Namespace).Create(ctx, ev, metav1.CreateOptions{})
		switch {
		case err == nil:
			log.Info("event created", "event", ev.GetName(), "reason", EventReason)
		case apierrors.IsAlreadyExists(err):
			// Another hook of the fleet reported it already.
		default:
			log.Warn("cannot create the Warning Event for an ignored central setting (grant create on events in "+p.Object.Namespace+")",
				"event", ev.GetName(), "error", err.Error())
		}
	}
}

// EventName is the Event's name for a problem: the object's name and a hash
// of its UID, resourceVersion and the key. A new version of the object, the
// mistake fixed or not, gets an Event of its own.
func EventName(p Problem) string {
	h := sha256.Sum256([]byte(p.Object.UID + "\x00" + p.Object.ResourceVersion + "\x00" + p.Key))
	suffix := ".syncreport-" + hex.EncodeToString(h[:8])
	// An Event's name is a DNS subdomain of at most 253 characters, as the
	// object's may be: cut the object's part, never the hash.
	name := p.Object.Name
	if n := 253 - len(suffix); len(name) > n {
		name = strings.TrimRight(name[:n], ".-")
	}
	return name + suffix
}

func event(p Problem, app string, now time.Time) *unstructured.Unstructured {
	msg := "key " + p.Key + ": " + strings.TrimPrefix(p.Err.Error(), p.Key+": ") + "; ignored by the hooks that read it (they use the default or the app's own value)"
	if app != "" {
		msg += "; first seen by the hook of application " + app
	}
	// kubectl describe prints the message raw: no control or bidi
	// character from a ConfigMap value may act on a terminal.
	msg = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == 0x2028 || r == 0x2029 {
			return '\uFFFD'
		}
		return r
	}, strings.ToValidUTF8(msg, "\uFFFD"))
	if len(msg) > maxEventMessage {
		msg = strings.ToValidUTF8(msg[:maxEventMessage], "") + "…"
	}
	ts := now.UTC().Format(time.RFC3339)
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1",
		"kind":       "Event",
		"metadata":   map[string]any{"name": EventName(p), "namespace": p.Object.Namespace},
		"involvedObject": map[string]any{
			"apiVersion": "v1", "kind": p.Object.Kind, "namespace": p.Object.Namespace, "name": p.Object.Name,
			"uid": p.Object.UID, "resourceVersion": p.Object.ResourceVersion,
		},
		"reason":             EventReason,
		"message":            msg,
		"type":               "Warning",
		"source":             map[string]any{"component": "syncreport"},
		"reportingComponent": "syncreport",
		"firstTimestamp":     ts,
		"lastTimestamp":      ts,
		"count":              int64(1),
	}}
}
