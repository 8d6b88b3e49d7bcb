package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/xcbench/xcbench/core/executor"
	"github.com/xcbench/xcbench/core/grid"
	"github.com/xcbench/xcbench/core/results"
)

// ExecutorOptions are `xcbench run`'s flags for spreading a grid over a
// cluster (--executor) and for running one cell of it (--cell, what each
// cluster task runs).
type ExecutorOptions struct {
	Executor    string
	Slurm       executor.SlurmOptions
	K8s         executor.K8sOptions
	MaxAttempts int
	// Cell is the index of the one cell to run (-1: all).
	Cell   int
	CellID string
}

func addExecutorFlags(f *pflag.FlagSet, x *ExecutorOptions) {
	f.StringVar(&x.Executor, "executor", "local", "local: run the cells here; slurm: submit one job array (one task per cell); k8s: write a Kubernetes Indexed Job manifest")
	f.StringVar(&x.Slurm.Partition, "partition", "", "slurm: partition")
	f.IntVar(&x.Slurm.Parallelism, "array-parallelism", 0, "slurm/k8s: cells running at once (0 = no cap)")
	f.StringVar(&x.Slurm.Time, "time", "", "slurm: time limit per cell (sbatch --time); a cell warned 120s before it checkpoints and requeues itself")
	f.StringVar(&x.Slurm.Mem, "mem", "", "slurm/k8s: memory per cell (sbatch --mem, e.g. 16G)")
	f.IntVar(&x.Slurm.GPUsPerCell, "gpus-per-cell", 0, "slurm/k8s: GPUs per cell")
	f.IntVar(&x.Slurm.CPUsPerCell, "cpus-per-cell", 0, "slurm/k8s: CPUs per cell (0 = scheduler default)")
	f.StringArrayVar(&x.Slurm.SbatchArgs, "sbatch-arg", nil, "slurm: extra sbatch option, e.g. --sbatch-arg=--account=xc (repeatable)")
	f.StringVar(&x.K8s.Image, "k8s-image", "", "k8s: container image with xcbench on its PATH")
	f.StringVar(&x.K8s.PVC, "k8s-pvc", "", "k8s: ReadWriteMany claim holding the working directory (grids, data, run folder)")
	f.StringVar(&x.K8s.Mount, "k8s-mount", "/xcbench", "k8s: where the claim is mounted in the pods")
	f.StringVar(&x.K8s.Namespace, "k8s-namespace", "", "k8s: namespace")
	f.IntVar(&x.MaxAttempts, "max-attempts", 0, "with --executor: starts each submitted cell gets (default 3); with --cell: give up on a cell that already started this many times")
	f.IntVar(&x.Cell, "cell", -1, "run only the cell at this index of the expanded grid (0-based, as --dry-run numbers minus one); what each cluster task runs")
	f.StringVar(&x.CellID, "cell-id", "", "with --cell: fail unless that cell has this id (set by the generated batch scripts)")
}

// selectCellFlag narrows cells to --cell's one cell.
func selectCellFlag(cells []grid.Cell, x *ExecutorOptions) ([]grid.Cell, error) {
	if x.Cell < 0 {
		if x.CellID != "" {
			return nil, errors.New("--cell-id needs --cell")
		}
		return cells, nil
	}
	c, err := executor.SelectCell(cells, x.Cell, x.CellID)
	if err != nil {
		return nil, err
	}
	return []grid.Cell{c}, nil
}

// beginCellTask takes --cell's cell lease for the run (a no-op without
// --cell); end releases it.
func beginCellTask(ctx context.Context, x *ExecutorOptions, store *results.Store, cells []grid.Cell) (context.Context, func(), error) {
	if x.Cell < 0 {
		return ctx, func() {}, nil
	}
	return executor.BeginCell(ctx, store, cells[0], x.MaxAttempts, executor.Locker{})
}

// submitGrid hands the grid to a cluster scheduler instead of running it:
// every cell not done, not running and not queued, one task per cell.
func submitGrid(ctx context.Context, cmd *cobra.Command, o *RunOptions, g *grid.Grid, cells []grid.Cell) error {
	x := &o.Exec
	if x.Executor != "slurm" && x.Executor != "k8s" {
		return fmt.Errorf("--executor %q: want local, slurm or k8s", x.Executor)
	}
	if o.Shard != "" || x.Cell >= 0 {
		return fmt.Errorf("--executor %s submits the whole grid; --shard and --cell select cells to run here", x.Executor)
	}
	out := o.Out
	if out == "" {
		out = filepath.Join("runs", g.Name)
	}
	out, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	store, err := results.Open(out)
	if err != nil {
		return err
	}
	if err := initManifest(store, g, cells); err != nil {
		return err
	}
	bin, err := os.Executable()
	if err != nil {
		return fmt.Errorf("--executor: locate the xcbench binary: %w", err)
	}
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	t := executor.Task{
		Binary: bin, Grid: g.File, Run: out, Dir: wd, Args: overrideArgs(cmd.Flags()),
		Env: executor.TaskEnv(os.Environ()), Name: g.Name, Cells: cells, MaxAttempts: x.MaxAttempts,
		Command: submitCommand(g.File, out, cmd.Flags()),
	}
	states := executor.Survey(store, cells, time.Now())
	subs, err := executor.Submissions(out)
	if err != nil {
		return err
	}
	queued, _, _ := executor.SlurmQueue(ctx, subs)
	for i := range states {
		states[i].Queue = queued[states[i].Cell.ID]
	}
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	var sub executor.Submission
	switch x.Executor {
	case "slurm":
		sub, err = executor.SubmitSlurm(ctx, t, x.Slurm, states)
	case "k8s":
		ko := x.K8s
		ko.Parallelism, ko.Mem, ko.GPUsPerCell, ko.CPUsPerCell = x.Slurm.Parallelism, x.Slurm.Mem, x.Slurm.GPUsPerCell, x.Slurm.CPUsPerCell
		sub, err = executor.WriteK8s(t, ko, states)
	}
	if errors.Is(err, executor.ErrNothingToSubmit) {
		fmt.Fprintf(stderr, "xcbench: grid %s: %s (%s) -> %s\n", g.Name, err, executor.Counts(states), out)
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "xcbench: grid %s: %d of %d cells (%s) -> %s\n", g.Name, len(sub.Cells), len(cells), executor.Counts(states), out)
	switch x.Executor {
	case "slurm":
		fmt.Fprintf(stderr, "xcbench: submitted Slurm job array %s (%s); watch with: xcbench status %s\n", sub.JobID, sub.Script, out)
		fmt.Fprintln(stdout, sub.JobID)
	case "k8s":
		fmt.Fprintf(stderr, "xcbench: wrote %s; submit with: kubectl apply -f %s\n", sub.Script, sub.Script)
		fmt.Fprintln(stdout, sub.Script)
	}
	return nil
}

// initManifest records the whole grid, in grid order, before any task
// runs, so `xcbench status` and the report see every cell and tasks
// joining one cell at a time keep that order.
func initManifest(store *results.Store, g *grid.Grid, cells []grid.Cell) error {
	return store.UpdateManifest(func(man results.Manifest, have bool) (results.Manifest, error) {
		now := time.Now().UTC()
		if !have || man.GridText != g.Source {
			man = results.Manifest{GridName: g.Name, GridFile: g.File, GridText: g.Source, Grid: g, Seeds: g.Seeds,
				Host: results.CollectHost(), Created: now}
		}
		seen := map[string]bool{}
		for _, c := range man.Cells {
			seen[c.ID] = true
		}
		for _, c := range cells {
			if !seen[c.ID] {
				man.Cells = append(man.Cells, c)
			}
		}
		man.Updated = now
		return man, nil
	})
}

// overrideArgs are the grid override flags the user gave (grid.AddFlags),
// for the tasks to expand the same cells.
func overrideArgs(f *pflag.FlagSet) []string {
	var args []string
	for _, name := range []string{"epochs", "batch-size", "seeds"} {
		if fl := f.Lookup(name); fl != nil && fl.Changed {
			v := fl.Value.String()
			if sv, ok := fl.Value.(pflag.SliceValue); ok {
				v = strings.Join(sv.GetSlice(), ",")
			}
			args = append(args, "--"+name, v)
		}
	}
	if fl := f.Lookup("set"); fl != nil && fl.Changed {
		if sv, ok := fl.Value.(pflag.SliceValue); ok {
			for _, kv := range sv.GetSlice() {
				args = append(args, "--set", kv)
			}
		}
	}
	return args
}

// submitCommand is the command that submits what is left of the run.
func submitCommand(gridFile, out string, f *pflag.FlagSet) string {
	words := []string{"xcbench", "run", gridFile, "--out", out}
	f.Visit(func(fl *pflag.Flag) {
		switch fl.Name {
		case "out", "cell", "cell-id", "dry-run":
			return
		}
		vals := []string{fl.Value.String()}
		if sv, ok := fl.Value.(pflag.SliceValue); ok {
			vals = sv.GetSlice()
			if fl.Value.Type() == "stringSlice" {
				vals = []string{strings.Join(vals, ",")}
			}
		}
		for _, v := range vals {
			if fl.Value.Type() == "bool" {
				if v == "true" {
					words = append(words, "--"+fl.Name)
				}
				continue
			}
			words = append(words, "--"+fl.Name+"="+v)
		}
	})
	for i, w := range words {
		words[i] = executor.ShellQuote(w)
	}
	return strings.Join(words, " ")
}
