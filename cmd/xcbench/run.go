package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/xcbench/xcbench/core/grid"
	"github.com/xcbench/xcbench/core/results"
	"github.com/xcbench/xcbench/core/runner"
	"github.com/xcbench/xcbench/plugins/host"
	"github.com/xcbench/xcbench/plugins/sdk"
	"github.com/xcbench/xcbench/reports"
)

func init() { commands = append(commands, newRunCmd) }

// RunOptions holds `xcbench run`'s flags.
type RunOptions struct {
	Grid       string
	Out        string
	DryRun     bool
	InProcess  bool
	SkipFailed bool
	Format     string
	LogJSON    bool
	// Shard "i/n" runs only the cells whose index is i modulo n, so n
	// processes can share one run folder (one core each: the pure-Go
	// encoder keeps about one core busy).
	Shard string
	Exec  ExecutorOptions // --executor, --cell (executor.go)
}

func newRunCmd() *cobra.Command {
	o := &RunOptions{}
	cmd := &cobra.Command{
		Use:   "run <grid.yaml>",
		Short: "Run an experiment grid (resumes an interrupted run in the same --out folder)",
		Long: `Run expands the grid file (matrix x include/exclude x datasets x seeds),
runs every cell not yet done and prints a comparison table on stdout.
Overrides, last wins: the file, XCBENCH_<KEY> environment variables
(XCBENCH_EPOCHS=3, XCBENCH_EVAL__EVERY=2), then --epochs/--batch-size/--seeds
and --set key=value. Results go to runs/<grid name>/ (or --out): running the
same command again skips finished cells and resumes interrupted ones from
their last epoch checkpoint.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Grid = args[0]
			return runRun(cmd.Context(), cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Out, "out", "", "run folder (default runs/<grid name>)")
	f.BoolVar(&o.DryRun, "dry-run", false, "print the expanded cells and exit")
	f.BoolVar(&o.InProcess, "in-process", false, "run components inside this process instead of plugin processes (memory figures are then the whole process)")
	f.BoolVar(&o.SkipFailed, "skip-failed", false, "do not retry cells that failed in an earlier run")
	f.StringVar(&o.Format, "format", "term", "table format for the final comparison: term|md|csv|latex")
	f.BoolVar(&o.LogJSON, "log-json", false, "also print each epoch record as a JSON line on stderr")
	f.StringVar(&o.Shard, "shard", "", "i/n: run only every n-th cell starting at i (0-based), to split a grid over n processes sharing --out")
	grid.AddFlags(f)
	addExecutorFlags(f, &o.Exec)
	return cmd
}

func runRun(ctx context.Context, cmd *cobra.Command, o *RunOptions) error {
	g, err := grid.Load(o.Grid, grid.LoadOptions{Flags: cmd.Flags()})
	if err != nil {
		return err
	}
	cells, err := grid.Expand(g)
	if err != nil {
		return err
	}
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	if o.Shard != "" {
		if cells, err = shardCells(cells, o.Shard); err != nil {
			return err
		}
	}
	if cells, err = selectCellFlag(cells, &o.Exec); err != nil {
		return err
	}
	if o.DryRun {
		return printCells(stdout, cells)
	}
	if o.Exec.Executor != "local" {
		return submitGrid(ctx, cmd, o, g, cells)
	}
	out := o.Out
	if out == "" {
		out = filepath.Join("runs", g.Name)
	}
	store, err := results.Open(out)
	if err != nil {
		return err
	}
	ctx, endTask, err := beginCellTask(ctx, &o.Exec, store, cells)
	if err != nil {
		return err
	}
	defer endTask()
	h, err := host.New(host.Options{InProcess: o.InProcess})
	if err != nil {
		return err
	}
	defer h.Close()
	var log io.Writer
	if o.LogJSON {
		log = stderr
	}
	r, err := runner.New(runner.Options{
		Launcher: hostLauncher{h}, Store: store,
		Data: runner.OpenData, Score: runner.Score, Synth: runner.Synth,
		Progress: newBars(stderr), Log: log, SkipFailed: o.SkipFailed, ScratchRoot: h.ScratchDir(),
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "xcbench: grid %s: %d cells -> %s\n", g.Name, len(cells), out)
	sum, err := r.Run(ctx, g, cells)
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("interrupted (%d cells done this run); resume with: xcbench run %s --out %s", sum.Done, o.Grid, out)
		}
		return err
	}
	fmt.Fprintf(stderr, "xcbench: %d done, %d failed, %d skipped (already finished)\n", sum.Done, sum.Failed, sum.Skipped)
	for name, e := range sum.Failures {
		fmt.Fprintf(stderr, "xcbench: FAILED %s: %s\n", name, firstErrLine(e))
	}
	if o.Exec.Cell >= 0 {
		return nil // one cluster task: the table is the whole run's (xcbench report)
	}
	rep, err := reports.Load(out)
	if err != nil {
		return err
	}
	return reports.Render(stdout, rep, o.Format)
}

// shardCells keeps the cells whose index is i modulo n, for "i/n".
func shardCells(cells []grid.Cell, shard string) ([]grid.Cell, error) {
	var i, n int
	if _, err := fmt.Sscanf(shard, "%d/%d", &i, &n); err != nil || n < 1 || i < 0 || i >= n {
		return nil, fmt.Errorf("--shard %q: want i/n with 0 <= i < n", shard)
	}
	var out []grid.Cell
	for k, c := range cells {
		if k%n == i {
			out = append(out, c)
		}
	}
	return out, nil
}

func firstErrLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}

func printCells(w io.Writer, cells []grid.Cell) error {
	t := tablewriter.NewTable(w, tablewriter.WithRenderer(renderer.NewBlueprint()), tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("#", "id", "cell", "encoder", "sampler", "classifier", "batch", "epochs")
	for i, c := range cells {
		s := c.Spec
		stage2 := ""
		if s.Stage2 != nil {
			stage2 = " + " + s.Stage2.Name
		}
		if err := t.Append([]string{strconv.Itoa(i + 1), c.ID, c.Name, s.Encoder.Name, s.Sampler.Name,
			s.Classifier.Name + stage2, strconv.Itoa(s.BatchSize), strconv.Itoa(s.Epochs)}); err != nil {
			return err
		}
	}
	return t.Render()
}

// hostLauncher adapts plugins/host to the runner.
type hostLauncher struct{ h *host.Host }

func (l hostLauncher) Launch(ctx context.Context, kind sdk.Kind, name string) (*runner.Component, error) {
	p, err := l.h.Launch(ctx, kind, name)
	if err != nil {
		return nil, err
	}
	return &runner.Component{
		Kind: kind, Name: name, Path: p.Path, SHA256: p.SHA256, Info: p.Info, Impl: p.Impl,
		ResetPeak: p.ResetPeak, PeakRSS: p.PeakRSS, Kill: p.Kill,
	}, nil
}

// bars draws one bar for the grid and one for the current epoch on stderr,
// only when stderr is a terminal so logs and CI output stay clean.
type bars struct {
	w          io.Writer
	on         bool
	grid, step *progressbar.ProgressBar
	cell       string
}

func newBars(w io.Writer) *bars {
	on := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			on = true
		}
	}
	return &bars{w: w, on: on}
}

func (b *bars) bar(n int, desc string) *progressbar.ProgressBar {
	return progressbar.NewOptions64(int64(n),
		progressbar.OptionSetWriter(b.w), progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(), progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetVisibility(b.on), progressbar.OptionClearOnFinish())
}

func (b *bars) GridStart(cells int) { b.grid = b.bar(cells, "cells") }
func (b *bars) CellStart(c grid.Cell, epochs int) {
	b.cell = c.Name
}
func (b *bars) EpochStart(epoch, batches int) {
	if b.step != nil {
		_ = b.step.Finish()
	}
	b.step = b.bar(batches, fmt.Sprintf("%s epoch %d", b.cell, epoch+1))
}
func (b *bars) Step() {
	if b.step != nil {
		_ = b.step.Add(1)
	}
}
func (b *bars) CellDone(c grid.Cell, st results.Status) {
	if b.step != nil {
		_ = b.step.Finish()
		b.step = nil
	}
	if b.grid != nil {
		_ = b.grid.Add(1)
	}
	if !b.on {
		fmt.Fprintf(b.w, "xcbench: cell %s: %s\n", c.Name, st.State)
	}
}
func (b *bars) GridDone() {
	if b.grid != nil {
		_ = b.grid.Finish()
	}
}
