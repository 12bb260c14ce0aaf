package settings

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/syncreport/syncreport/internal/argocd"
)

var (
	configMapsGVR = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	secretsGVR    = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
)

// readBudget bounds the reading of the central objects, retries included:
// they are an addition, and the report must keep its time.
const readBudget = 15 * time.Second

// Read gets the central ConfigMap and Secret from namespace (the Argo CD
// namespace) through dyn, the client that reads the Application. An empty
// name is not read. Absent, forbidden or unreadable objects are skipped
// with one log line each and come back nil: the central settings are an
// addition, so they never stop a report.
func Read(ctx context.Context, dyn dynamic.Interface, namespace, configMap, secret string, log *slog.Logger) Central {
	ctx, cancel := context.WithTimeout(ctx, readBudget)
	defer cancel()
	return Central{
		ConfigMap: readObject(ctx, dyn, configMapsGVR, "ConfigMap", namespace, configMap, log),
		Secret:    readObject(ctx, dyn, secretsGVR, "Secret", namespace, secret, log),
	}
}

func readObject(ctx context.Context, dyn dynamic.Interface, gvr schema.GroupVersionResource, kind, namespace, name string, log *slog.Logger) *Object {
	if name == "" {
		return nil
	}
	o := &Object{Kind: kind, Namespace: namespace, Name: name}
	var u *unstructured.Unstructured
	err := argocd.Retry(ctx, log, 0, "get "+o.Source(), func() error {
		var err error
		u, err = dyn.Resource(gvr).Namespace(namespace).Get(ctx, name, metav1.GetOptions{})
		return err
	})
	switch {
	case apierrors.IsNotFound(err):
		log.Info("no central settings: "+o.Source()+" does not exist", "object", o.Source())
		return nil
	case apierrors.IsForbidden(err):
		log.Info("no central settings: "+o.Source()+" is not readable by the hook's identity (get on it is not granted)", "object", o.Source())
		return nil
	case err != nil:
		log.Warn("central settings unreadable, using the app's own settings only", "object", o.Source(), "error", err.Error())
		return nil
	}
	o.UID, o.ResourceVersion = string(u.GetUID()), u.GetResourceVersion()
	o.Data, err = data(u, kind == "Secret")
	if err != nil {
		log.Warn("central settings unreadable, using the app's own settings only", "object", o.Source(), "error", err.Error())
		return nil
	}
	log.Info("central settings read", "object", o.Source(), "keys", slices.Sorted(maps.Keys(o.Data)))
	return o
}

// data is a ConfigMap's data, or a Secret's decoded (base64 in the API).
func data(u *unstructured.Unstructured, secret bool) (map[string]string, error) {
	m, _, err := unstructured.NestedStringMap(u.Object, "data")
	if err != nil {
		return nil, err
	}
	if !secret {
		return m, nil
	}
	for k, v := range m {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return nil, fmt.Errorf("key %s: not base64", k) // never the value
		}
		m[k] = string(b)
	}
	return m, nil
}
