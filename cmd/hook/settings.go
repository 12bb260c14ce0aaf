package main

import (
	"context"
	"log/slog"
	"maps"
	"os"
	"slices"

	"k8s.io/client-go/dynamic"

	"github.com/syncreport/syncreport/internal/config"
	"github.com/syncreport/syncreport/internal/settings"
)

// The settings are known in two steps, since the client that reads the
// central ones depends on settings that only the Job's environment may give
// (ARGOCD_NAMESPACE, ARGOCD_KUBECONFIG_FILE, ARGOCD_SERVER, …):
//
//	ownSettings (the environment) → clients → readCentral → resolve (+ the
//	Application's annotations) → the final config, validated
//
// Until resolve, the run uses ownSettings' values of those settings only.

// ownSettings parses the Job's environment and checks each value (exit 2
// on a mistake, before any I/O).
func ownSettings() (*config.Config, error) {
	cfg, err := settings.Env(os.LookupEnv)
	if err != nil {
		return nil, kindError{errUsage, err}
	}
	return cfg, nil
}

// readCentral reads the central ConfigMap and Secret through the client
// that reads the Application (nil in the Argo CD API mode: the hook has no
// access to the Argo CD namespace then).
func readCentral(ctx context.Context, own *config.Config, dyn dynamic.Interface, log *slog.Logger) settings.Central {
	if own.SettingsConfigMap == "" && own.SettingsSecret == "" {
		return settings.Central{}
	}
	if dyn == nil {
		log.Info("no central settings: the Argo CD API mode (ARGOCD_SERVER) cannot read the Argo CD namespace")
		return settings.Central{}
	}
	return settings.Read(ctx, dyn, own.ArgoCDNamespace, own.SettingsConfigMap, own.SettingsSecret, log)
}

// resolve layers the settings and validates them. A central mistake is
// logged and reported as a Warning Event on its object (through dyn), never
// an error; the app's own is (exit 2).
func resolve(ctx context.Context, central settings.Central, annotations map[string]string, app string,
	dyn dynamic.Interface, log *slog.Logger) (*config.Config, error) {
	res, err := settings.Resolve(os.LookupEnv, central, annotations)
	if err != nil {
		return nil, kindError{errUsage, err}
	}
	settings.Warn(ctx, dyn, res.Problems, app, log)
	for _, u := range res.Unused {
		log.Info("central credential " + u)
	}
	var attrs []any
	for _, name := range slices.Sorted(maps.Keys(res.Settings)) {
		if s := res.Settings[name]; s.Source != settings.SourceDefault {
			attrs = append(attrs, name, s.Value+" ("+s.Source+")")
		}
	}
	log.Info("settings", attrs...)
	return res.Config, nil
}

// beforeResolve is the error of a run that failed before it could resolve
// its settings: the settings it has then are final, so when they are
// invalid that is the error to fix (exit 2), else err is.
func beforeResolve(err error, central settings.Central) error {
	if _, cerr := settings.Resolve(os.LookupEnv, central, nil); cerr != nil {
		return kindError{errUsage, cerr}
	}
	return err
}
