//go:build linux

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Argo CD Notifications (ACN), for the side-by-side comparison: the
// argocd-notifications entry point of the same Argo CD build, configured
// with the release's own catalog of triggers and templates.
const (
	// ACNChannel is where ACN posts; syncreport posts to #deploys.
	ACNChannel = "acn-deploys"
	acnMetrics = 9001
)

// ACNTriggers are the catalog triggers every compared Application
// subscribes to, as users do in the Application's annotations.
var ACNTriggers = []string{"on-sync-succeeded", "on-sync-failed", "on-sync-running", "on-health-degraded", "on-deployed"}

// ACNAnnotations subscribe an Application to ACNTriggers on Slack ACNChannel.
func ACNAnnotations() map[string]string {
	a := map[string]string{}
	for _, t := range ACNTriggers {
		a["notifications.argoproj.io/subscribe."+t+".slack"] = ACNChannel
	}
	return a
}

// Notifications starts the ACN controller on first use: it applies
// argocd-notifications-cm (the catalog in the argo-cd module, unchanged,
// plus the Slack service pointed at the stack's Slack server) and
// argocd-notifications-secret, then runs `argocd` as argocd-notifications.
func (s *Stack) Notifications(ctx context.Context) error {
	s.acnOnce.Do(func() { s.acnErr = s.startNotifications(ctx) })
	return s.acnErr
}

func (s *Stack) startNotifications(ctx context.Context) error {
	b, err := os.ReadFile(filepath.Join(s.Tools.ArgoModule, "notifications_catalog", "install.yaml"))
	if err != nil {
		return err
	}
	objs, err := Decode(b)
	if err != nil || len(objs) != 1 || objs[0].GetName() != "argocd-notifications-cm" {
		return fmt.Errorf("notifications_catalog/install.yaml: want the ConfigMap argocd-notifications-cm (%v)", err)
	}
	cm := objs[0]
	// The documented Slack service: the token from the Secret, and apiURL
	// (a Slack service option) to reach the test server instead of slack.com.
	if err := unstructured.SetNestedField(cm.Object, "token: $slack-token\napiURL: "+s.Slack.URL()+"\n", "data", "service.slack"); err != nil {
		return err
	}
	// The catalog's links are {{.context.argocdUrl}}/applications/…: the
	// documented context key (argocd-notifications-cm.yaml in the docs).
	if err := unstructured.SetNestedField(cm.Object, "argocdUrl: "+ArgoURL+"\n", "data", "context"); err != nil {
		return err
	}
	if err := ApplyObject(ctx, s.Dynamic, s.Mapper, ArgoNamespace, cm); err != nil {
		return err
	}
	secret := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata":   map[string]any{"name": "argocd-notifications-secret", "namespace": ArgoNamespace},
		"stringData": map[string]any{"slack-token": SlackToken},
	}}
	if err := ApplyObject(ctx, s.Dynamic, s.Mapper, ArgoNamespace, secret); err != nil {
		return err
	}
	// hack/tools/install-e2e.sh links argocd-notifications to the argocd
	// multi-call binary, which dispatches on its name as upstream's does.
	p, err := s.startProc("argocd-notifications", s.bin("argocd-notifications"), []string{
		"--namespace=" + ArgoNamespace,
		"--application-namespaces=" + AppNamespacesGlob,
		"--argocd-repo-server=127.0.0.1:" + strconv.Itoa(repoServerPort), "--argocd-repo-server-plaintext",
		"--metrics-port=" + strconv.Itoa(acnMetrics),
		"--loglevel=info", "--logformat=text",
	}, []string{"KUBECONFIG=" + s.Kubeconfig})
	if err != nil {
		return err
	}
	// The metrics port opens before the informers sync; an Application
	// created after that is still seen (an add event), so this is enough.
	return p.WaitReady(ctx, func(ctx context.Context) error { return dialOK(ctx, acnMetrics) })
}

// IsACN reports whether m was posted by ACN (to its channel).
func (m Message) IsACN() bool { return strings.TrimPrefix(m.Channel, "#") == ACNChannel }
