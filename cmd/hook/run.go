package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/syncreport/syncreport/internal/config"
)

// Exit codes, documented in the README. They are decided here only, from the
// error kinds below.
const (
	exitOK         = 0
	exitInternal   = 1
	exitUsage      = 2 // bad configuration or command line
	exitUnreadable = 3 // the Application could not be found or read
	exitDelivery   = 4 // delivery failed and FAIL_ON_DELIVERY_ERROR=true
	exitRollout    = 5 // gate: the rollout failed or timed out
)

// Error kinds that pick the exit code; wrap with fmt.Errorf("%w: %w", kind, err).
var (
	errUsage      = errors.New("usage")
	errUnreadable = errors.New("application not readable")
	errDelivery   = errors.New("delivery failed")
)

func exitCode(err error) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errUsage):
		return exitUsage
	case errors.Is(err, errUnreadable):
		return exitUnreadable
	case errors.Is(err, errDelivery):
		return exitDelivery
	case errors.Is(err, errRollout):
		return exitRollout
	}
	return exitInternal
}

// kindError marks err with an exit kind without repeating the kind's words
// in the message a user reads.
type kindError struct{ kind, err error }

func (e kindError) Error() string   { return e.err.Error() }
func (e kindError) Unwrap() []error { return []error{e.kind, e.err} }

func usageErr(format string, a ...any) error {
	return kindError{errUsage, fmt.Errorf(format, a...)}
}

const usage = `syncreport hook — reports what an Argo CD sync really did.

Usage:
  hook [report]                      run as a PostSync/SyncFail hook: find the app, judge it, deliver the report
  hook render --app-file FILE|- [--format text|json|slack] [--argocd-url URL] [--channel CHANNEL]
                                     judge an Application document (kubectl get app -o json|yaml); no cluster,
                                     no Slack (hook render --help for its flags)
  hook gate                          run as a Sync hook: watch this sync's rollout, exit 0 when Healthy,
                                     5 as soon as it is definitively broken (crash loop, image pull, …) or GATE_TIMEOUT
  hook version                       print the version
  hook --help                        this help and the environment variables

Exit codes: 0 done; 2 bad configuration or usage; 3 application not readable;
4 delivery failed (only with FAIL_ON_DELIVERY_ERROR=true); 5 gate: the rollout failed or timed out.

Environment:
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "report"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	// `render` has flags, and prints its own usage.
	if cmd != "render" && len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") || cmd == "help" {
		io.WriteString(stdout, usage)
		return config.Usage(stdout)
	}
	switch cmd {
	case "report":
		if len(args) > 0 {
			return usageErr("report takes no arguments, got %q (settings come from the environment; see hook --help)", args[0])
		}
		return runReport(ctx, stdout, stderr)
	case "render":
		return runRender(args, stdout, stderr)
	case "gate":
		if len(args) > 0 {
			return usageErr("gate takes no arguments, got %q (settings come from the environment; see hook --help)", args[0])
		}
		return runGate(ctx, stderr)
	case "version":
		fmt.Fprintln(stdout, version)
		return nil
	}
	return usageErr("unknown command %q (want report, render, gate or version; see hook --help)", cmd)
}

// newFlagSet returns a flag set whose errors become usage errors instead of
// an os.Exit inside the flag package.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}
