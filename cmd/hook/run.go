package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"unicode"

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
	// exitInterrupted: SIGTERM or SIGINT (Argo CD terminating the operation,
	// the Job deleted, the node drained) cut the run short. Not 128+15: the
	// same run can end with either signal, and a code of its own tells
	// "stopped from outside" from every verdict and error above.
	exitInterrupted = 6
)

// Error kinds that pick the exit code; wrap with fmt.Errorf("%w: %w", kind, err).
var (
	errUsage      = errors.New("usage")
	errUnreadable = errors.New("application not readable")
	errDelivery   = errors.New("delivery failed")
	errInterrupt  = errors.New("interrupted")
	errPanic      = errors.New("internal error")
)

func exitCode(err error) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errInterrupt):
		// First: an interrupted read or watch also fails with another kind.
		return exitInterrupted
	case errors.Is(err, errPanic):
		return exitInternal
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
  hook version [--format text|json]  print the version, the commit and the build date (the commit's time)
  hook --help                        this help and the environment variables

Exit codes: 0 done; 1 internal error (a bug); 2 bad configuration or usage; 3 application not readable;
4 delivery to a destination failed (only with FAIL_ON_DELIVERY_ERROR=true); 5 gate: the rollout failed or timed out;
6 interrupted (SIGTERM or SIGINT) before it finished.

Settings, lowest to highest: the defaults below < the ConfigMap SETTINGS_CONFIGMAP and the Secret
SETTINGS_SECRET in ARGOCD_NAMESPACE (shared by every app) < this environment < the Application's
syncreport.dev/* routing annotations. See docs/fleet-settings.md.

Environment:
`

// run runs one command and gives its error the kind that decides the exit
// code: a panic anywhere on run's goroutine is an internal error (exit 1,
// one line; the stack goes to stderr only), and a run whose context was
// cancelled by SIGTERM or SIGINT is interrupted (exit 6) whatever error the
// cut-short step returned, since that error says only how it was cut.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	defer func() {
		if v := recover(); v != nil {
			// The stack is for the developer; the message, which can become the
			// pod's termination message, stays one line.
			fmt.Fprintf(stderr, "panic: %v\n\n%s\n", v, debug.Stack())
			err = kindError{errPanic, fmt.Errorf("internal error (a bug, please report it): panic: %s", oneLine(fmt.Sprint(v)))}
			return
		}
		if ctx.Err() != nil {
			msg := "interrupted (SIGTERM or SIGINT) before it finished"
			if err != nil {
				err = kindError{errInterrupt, fmt.Errorf("%s: %w", msg, err)}
			} else {
				err = kindError{errInterrupt, errors.New(msg)}
			}
		}
	}()
	return dispatch(ctx, args, stdout, stderr)
}

// oneLine folds text into one line of at most 300 characters, for a message
// that can become the pod's termination message.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(strings.ToValidUTF8(s, "\uFFFD")), " ")
	if r := []rune(s); len(r) > 300 {
		s = string(r[:300]) + "…"
	}
	return s
}

// visibleLine makes a message fit for a terminal and the pod's termination
// message (kubectl describe pod prints it raw): one line, valid UTF-8, every
// control, separator or bidi character replaced, since messages quote pods,
// events and hooks that anyone deploying can write.
func visibleLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.NewReplacer("\r\n", "; ", "\n", "; ").Replace(s)
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t', r == '\r':
			return ' '
		case unicode.IsControl(r), r == 0x2028, r == 0x2029, r == 0x200e, r == 0x200f, r == 0x061c,
			r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			return '\uFFFD'
		}
		return r
	}, s)
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
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
		return runVersion(args, stdout, stderr)
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
