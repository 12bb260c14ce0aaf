// Command argocd is Argo CD's multi-call binary cut down to what the end-to-end
// tests run: it dispatches on argv[0] (or ARGOCD_BINARY_NAME) exactly as
// upstream's cmd/main.go does, to the application controller, repo server,
// API server, notifications controller (the side-by-side comparison), the
// git askpass helper and the argocd CLI. Nothing of Argo CD is
// patched; hack/tools/install-e2e.sh builds it from the Go module proxy.
package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/spf13/cobra"
	"k8s.io/klog/v2"

	appcontroller "github.com/argoproj/argo-cd/v3/cmd/argocd-application-controller/commands"
	gitaskpass "github.com/argoproj/argo-cd/v3/cmd/argocd-git-ask-pass/commands"
	notification "github.com/argoproj/argo-cd/v3/cmd/argocd-notification/commands"
	reposerver "github.com/argoproj/argo-cd/v3/cmd/argocd-repo-server/commands"
	apiserver "github.com/argoproj/argo-cd/v3/cmd/argocd-server/commands"
	cli "github.com/argoproj/argo-cd/v3/cmd/argocd/commands"
	"github.com/argoproj/argo-cd/v3/common"
	"github.com/argoproj/argo-cd/v3/util/grpc"
	"github.com/argoproj/argo-cd/v3/util/log"
)

func init() {
	// As upstream: klog uses the configured log level and format.
	klog.SetLogger(log.NewLogrusLogger(log.NewWithCurrentConfig()))
}

func main() {
	grpc.DisableSRVLookups()

	name := filepath.Base(os.Args[0])
	if v := os.Getenv("ARGOCD_BINARY_NAME"); v != "" {
		name = v
	}
	var command *cobra.Command
	isCLI := false
	switch name {
	case common.CommandServer:
		command = apiserver.NewCommand()
	case common.CommandApplicationController:
		command = appcontroller.NewCommand()
	case common.CommandRepoServer:
		command = reposerver.NewCommand()
	case common.CommandNotifications:
		command = notification.NewCommand()
	case common.CommandGitAskPass:
		command = gitaskpass.NewCommand()
		isCLI = true
	default:
		command = cli.NewCommand()
		isCLI = true
	}
	if isCLI {
		command.SilenceErrors = true
		command.SilenceUsage = true
	}
	if err := command.Execute(); err != nil {
		msg, pluginErr := cli.NewDefaultPluginHandler().HandleCommandExecutionError(err, isCLI, os.Args)
		if pluginErr != nil {
			os.Stdout.WriteString(msg)
			if exitErr, ok := errors.AsType[*exec.ExitError](pluginErr); ok {
				os.Exit(exitErr.ExitCode())
			}
			os.Exit(1)
		}
	}
}
