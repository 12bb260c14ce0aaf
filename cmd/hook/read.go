package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/syncreport/syncreport/internal/argocd"
	"github.com/syncreport/syncreport/internal/argocdapi"
	"github.com/syncreport/syncreport/internal/config"
	"github.com/syncreport/syncreport/internal/report"
)

// appReader reads the Application in one of three ways: the local
// Kubernetes API (the hook runs in the Argo CD cluster), a kubeconfig for
// the Argo CD cluster (ARGOCD_KUBECONFIG_FILE), or the Argo CD API server
// (ARGOCD_SERVER), which also knows the commit behind a revision.
type appReader struct {
	get func(ctx context.Context, namespace, name string) (*argocd.Application, error)
	api *argocdapi.Client // nil unless ARGOCD_SERVER
	// dyn reads the Argo CD cluster: the central settings, their Events.
	// Nil in the Argo CD API mode.
	dyn dynamic.Interface
}

// newAppReader builds the remote readers, so their settings are checked
// before any I/O; for the local mode get stays nil until local() is called.
func newAppReader(cfg *config.Config, log *slog.Logger) (*appReader, error) {
	switch cfg.ReadMode() {
	case "argocd-api":
		c, err := argocdapi.New(argocdapi.Options{
			Server: cfg.ArgoCDServer, Token: cfg.ArgoCDAuthToken, Insecure: cfg.ArgoCDInsecure,
			CAFile: cfg.ArgoCDCAFile, PlainText: cfg.ArgoCDPlainText, Log: log, UserAgent: "syncreport/" + version,
		})
		if err != nil {
			return nil, err
		}
		return &appReader{get: c.GetApplication, api: c}, nil
	case "kubeconfig":
		rc, err := clientcmd.BuildConfigFromFlags("", cfg.ArgoCDKubeconfigFile)
		if err != nil {
			return nil, fmt.Errorf("ARGOCD_KUBECONFIG_FILE: %w", err)
		}
		rc.UserAgent = "syncreport/" + version
		dyn, err := dynamic.NewForConfig(rc)
		if err != nil {
			return nil, fmt.Errorf("ARGOCD_KUBECONFIG_FILE: %w", err)
		}
		r := &argocd.Reader{Client: dyn, Log: log, Identity: "the ARGOCD_KUBECONFIG_FILE identity in the Argo CD cluster"}
		return &appReader{get: r.Get, dyn: dyn}, nil
	}
	return &appReader{}, nil
}

// local reads through the hook's own cluster unless a remote mode is set.
func (a *appReader) local(dyn dynamic.Interface, log *slog.Logger) {
	if a.get == nil {
		a.get = (&argocd.Reader{Client: dyn, Log: log}).Get
		a.dyn = dyn
	}
}

// logAttrs say where the Application is read from, for the log.
func (a *appReader) logAttrs(cfg *config.Config) []any {
	attrs := []any{"mode", cfg.ReadMode()}
	if a.api != nil {
		attrs = append(attrs, "server", a.api.Server())
	}
	return attrs
}

func readVia(cfg *config.Config) string {
	switch cfg.ReadMode() {
	case "argocd-api":
		return "the Argo CD API, ARGOCD_SERVER"
	case "kubeconfig":
		return "ARGOCD_KUBECONFIG_FILE"
	}
	return "the local Kubernetes API"
}

// commit reads the synced revision's metadata from the Argo CD API. It is
// decoration: a failure is a warning, and it gets its own short deadline
// because argocd-server may have to fetch the repository to answer.
func (a *appReader) commit(ctx context.Context, app *argocd.Application, revs []string, log *slog.Logger) *report.Commit {
	if a.api == nil || len(revs) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	m, err := a.api.RevisionMetadata(ctx, app.Metadata.Namespace, app.Metadata.Name, revs[0])
	if err != nil {
		log.Warn("no commit metadata", "revision", revs[0], "error", err.Error())
		return nil
	}
	c := &report.Commit{Revision: revs[0], Author: m.Author, Subject: m.Subject()}
	if !m.Date.IsZero() {
		c.Date = &m.Date
	}
	return c
}
