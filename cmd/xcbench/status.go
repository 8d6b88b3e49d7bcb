package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/cobra"

	"github.com/xcbench/xcbench/core/executor"
	"github.com/xcbench/xcbench/core/results"
)

func init() { commands = append(commands, newStatusCmd) }

func newStatusCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "status <run-dir>",
		Short: "Cells of a run by state, with attempts, host, last epoch and the scheduler's view",
		Long: `Status reads a run folder (local or shared by cluster tasks) and lists its
cells: pending (never started), running (a live task holds its lease),
interrupted (stopped at a checkpoint, or its node was lost: the next run
resumes it), done and failed, with attempts, host, job and last epoch. For
Slurm submissions it adds the queue state (squeue) and, when accounting is
on, how finished tasks ended (sacct). It ends with the command that runs
what is left: done cells are never run again.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			run := args[0]
			store, err := results.Open(run)
			if err != nil {
				return err
			}
			man, err := store.ReadManifest()
			if err != nil {
				return fmt.Errorf("status: %s is not a run folder: %w", run, err)
			}
			states := executor.Survey(store, man.Cells, time.Now())
			subs, err := executor.Submissions(run)
			if err != nil {
				return err
			}
			queued, ended, notes := executor.SlurmQueue(cmd.Context(), subs)
			for i := range states {
				states[i].Queue = queued[states[i].Cell.ID]
			}
			w := cmd.OutOrStdout()
			t := tablewriter.NewTable(w, tablewriter.WithRenderer(renderer.NewBlueprint()), tablewriter.WithHeaderAutoFormat(tw.Off))
			t.Header("#", "cell", "state", "attempts", "epoch", "host", "job", "slurm", "error")
			for _, s := range states {
				epoch := "-"
				if s.Epoch >= 0 {
					epoch = fmt.Sprintf("%d/%d", s.Epoch+1, s.Cell.Spec.Epochs)
				}
				slurm := s.Queue
				if slurm == "" {
					slurm = ended[s.Cell.ID]
				}
				if err := t.Append([]string{strconv.Itoa(s.Index), s.Cell.Name, s.State, strconv.Itoa(s.Attempts),
					epoch, s.Host, s.Job, slurm, firstErrLine(s.Error)}); err != nil {
					return err
				}
			}
			if err := t.Render(); err != nil {
				return err
			}
			fmt.Fprintf(w, "%d cells: %s\n", len(states), executor.Counts(states))
			for _, n := range notes {
				fmt.Fprintln(w, "note:", n)
			}
			if left := executor.ToSubmit(states); len(left) > 0 {
				cmdline := fmt.Sprintf("xcbench run %s --out %s", executor.ShellQuote(man.GridFile), executor.ShellQuote(run))
				if n := len(subs); n > 0 && subs[n-1].Command != "" {
					cmdline = subs[n-1].Command
				}
				fmt.Fprintf(w, "%d cells to run (failed, interrupted or never started); run them with:\n  %s\n", len(left), cmdline)
			}
			return nil
		},
	}
}
