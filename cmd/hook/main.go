// Command hook is syncreport: an Argo CD hook Job that reads its
// Application, judges what really happened to the rollout and reports it.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		// One line: with FallbackToLogsOnError it ends the termination
		// message, and joined delivery errors hold newlines.
		fmt.Fprintln(os.Stderr, "hook:", visibleLine(err.Error()))
		os.Exit(exitCode(err))
	}
}
