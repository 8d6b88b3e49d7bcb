// Command xcbench is the extreme-classification workbench: it runs
// experiment grids over out-of-process encoder, sampler and classifier
// plugins, scores them exactly as pyxclib does, and writes reports.
package main

import (
	"context"
	"errors"
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
	stop()
	// Plugins ignore SIGINT (go-plugin), so whatever the command left
	// running is killed here, on success, error and Ctrl-C alike.
	host.KillAll()
	if err != nil {
		fmt.Fprintln(os.Stderr, "xcbench:", err)
		os.Exit(exitStatus(err))
	}
}

// Exit statuses (documented in `xcbench run --help` and the README).
const (
	ExitError       = 1
	ExitInvalid     = 2
	ExitFailedCells = 3
	// ExitInterrupted: a signal stopped the run, every cell resumable; a
	// Slurm batch script requeues its task on it after a SIGUSR1 warning.
	ExitInterrupted = executor.ExitInterrupted
)

// codedError carries the exit status for an error.
type codedError struct {
	code int
	err  error
}

func (e codedError) Error() string { return e.err.Error() }
func (e codedError) Unwrap() error { return e.err }

func exitCode(code int, err error) error { return codedError{code, err} }

func exitStatus(err error) int {
	var c codedError
	if errors.As(err, &c) {
		return c.code
	}
	if errors.Is(err, context.Canceled) {
		return ExitInterrupted
	}
	return ExitError
}
