// Command xcbench is the extreme-classification workbench: it runs
// experiment grids over out-of-process encoder, sampler and classifier
// plugins, scores them exactly as pyxclib does, and writes reports.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/xcbench/xcbench/core/executor"
	"github.com/xcbench/xcbench/plugins/host"
)

// commands collects the subcommand constructors; each file of this package
// appends its own from init, so subcommands stay independent of each other.
var commands []func() *cobra.Command

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "xcbench",
		Short:         "Extreme multi-label classification workbench (NGAME and friends)",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	for _, c := range commands {
		root.AddCommand(c())
	}
	return root
}

func main() {
	// SIGTERM (scancel, preemption, pod deletion) and SIGUSR1 (Slurm's
	// time-limit warning) stop a run as Ctrl-C does: interrupted cells stay
	// resumable from their last checkpoint.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGUSR1)
	err := newRootCmd().ExecuteContext(ctx)
	interrupted := ctx.Err() != nil
	stop()
	// Plugins ignore SIGINT (go-plugin), so whatever the command left
	// running is killed here, on success, error and Ctrl-C alike.
	host.KillAll()
	if err != nil {
		fmt.Fprintln(os.Stderr, "xcbench:", err)
		if interrupted {
			os.Exit(executor.ExitInterrupted) // a batch script may requeue on it
		}
		os.Exit(1)
	}
}
