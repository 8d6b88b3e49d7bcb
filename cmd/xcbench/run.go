package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/xcbench/xcbench/core/buildinfo"
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
	// RestartCells are cell ids to start over from scratch.
	RestartCells []string
	// MaxCells bounds the grid's expansion.
	MaxCells int
	// UpdateLock replaces changed pins in the grid's plugin lock file
	// instead of refusing the changed binaries.
	UpdateLock bool
	Exec       ExecutorOptions // --executor, --cell (executor.go)
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
their last epoch checkpoint.

Before anything trains, every cell is validated: components exist, params
match each component's schema (name and type, with the grid file's line),
data folders and their headers read. --dry-run stops after that.

Exit status: 0 every cell done (or running in another process sharing
--out); 2 invalid grid or cells (nothing ran); 3 one or more cells failed
(the others ran; the summary names the failed ones); 130 interrupted
(Ctrl-C, SIGTERM: rerun the same command to resume); 1 any other error.`,
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
	f.StringSliceVar(&o.RestartCells, "restart-cell", nil, "cell id(s) to start over, discarding their records and checkpoints (the way out of a cell whose state cannot resume)")
	f.IntVar(&o.MaxCells, "max-cells", grid.DefaultMaxCells, "refuse grids that expand to more cells than this")
	f.BoolVar(&o.UpdateLock, "update-lock", false, "accept external plugin binaries whose sha256 differs from the grid's lock file, and rewrite it")
	grid.AddFlags(f)
	addExecutorFlags(f, &o.Exec)
	return cmd
}

func runRun(ctx context.Context, cmd *cobra.Command, o *RunOptions) error {
	if err := reports.CheckFormat(o.Format); err != nil { // before the grid runs, not after
		return fmt.Errorf("run --format: %w", err)
	}
	g, err := grid.Load(o.Grid, grid.LoadOptions{Flags: cmd.Flags()})
	if err != nil {
		return exitCode(ExitInvalid, err)
	}
	cells, err := grid.ExpandMax(g, o.MaxCells)
	if err != nil {
		return exitCode(ExitInvalid, err)
	}
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	if o.Shard != "" {
		if cells, err = shardCells(cells, o.Shard); err != nil {
			return exitCode(ExitInvalid, err)
		}
	}
	if cells, err = selectCellFlag(cells, &o.Exec); err != nil {
		return exitCode(ExitInvalid, err)
	}
	restart := map[string]bool{}
	for _, id := range o.RestartCells {
		found := false
		for _, c := range cells {
			found = found || c.ID == id
		}
		if !found {
			return exitCode(ExitInvalid, fmt.Errorf("--restart-cell %s: no such cell in this grid (see --dry-run for ids)", id))
		}
		restart[id] = true
	}
	h, lock, err := newRunHost(ctx, g, cells, o.InProcess, o.UpdateLock, stderr)
	if errors.Is(err, host.ErrUnknownComponent) {
		return exitCode(ExitInvalid, fmt.Errorf("grid %s: %w", o.Grid, err))
	}
	if err != nil {
		return err
	}
	defer h.Close()
	if err := runner.Validate(ctx, hostLauncher{h}, g, cells); err != nil {
		if errors.Is(err, runner.ErrInvalidCells) {
			return exitCode(ExitInvalid, fmt.Errorf("grid %s: %w", o.Grid, err))
		}
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
	var log io.Writer
	if o.LogJSON {
		log = stderr
	}
	r, err := runner.New(runner.Options{
		Launcher: hostLauncher{h}, Store: store,
		Data: runner.OpenData, Score: runner.Score, Synth: runner.Synth,
		Progress: newBars(stderr), Log: log, Warnings: stderr, SkipFailed: o.SkipFailed, ScratchRoot: h.ScratchDir(),
		RestartCells: restart, Build: buildinfo.Get(), Args: os.Args[1:], Fault: faultFromEnv(),
		PluginLock: lock,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "xcbench: grid %s: %d cells -> %s\n", g.Name, len(cells), out)
	sum, err := r.Run(ctx, g, cells)
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return exitCode(ExitInterrupted, fmt.Errorf("interrupted (%d cells done this run); resume with: xcbench run %s --out %s", sum.Done, o.Grid, out))
		}
		return err
	}
	fmt.Fprintf(stderr, "xcbench: %d done, %d failed, %d skipped (already finished), %d running in another process\n", sum.Done, sum.Failed, sum.Skipped, sum.Busy)
	names := make([]string, 0, len(sum.Failures))
	for name := range sum.Failures {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(stderr, "xcbench: FAILED %s: %s\n", name, firstErrLine(sum.Failures[name]))
	}
	if o.Exec.Cell >= 0 {
		stdout = io.Discard // one cluster task: the table is the whole run's (xcbench report)
	}
	rep, err := reports.Load(out)
	if err != nil {
		return err
	}
	if err := reports.Render(stdout, rep, o.Format); err != nil {
		return err
	}
	if sum.Failed > 0 {
		return exitCode(ExitFailedCells, fmt.Errorf("%d of %d cells failed: %s (rerun the same command to retry them)", sum.Failed, len(cells), strings.Join(names, "; ")))
	}
	return nil
}

// faultFromEnv reads XCBENCH_FAULT=kill@<point>: the process SIGKILLs
// itself the first time the runner reaches that point (runner.Point*,
// e.g. kill@committed:2). It exists for the resume tests, which must kill
// a real process at an exact step, not after a guessed delay.
func faultFromEnv() func(string) {
	v := os.Getenv("XCBENCH_FAULT")
	point, ok := strings.CutPrefix(v, "kill@")
	if !ok || point == "" {
		return nil
	}
	return func(p string) {
		if p == point {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way; write nothing more
		}
	}
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
		ResetPeak: p.ResetPeak, PeakRSS: p.PeakRSS, Kill: p.Kill, PID: p.PID,
	}, nil
}

// bars draws one bar for the grid and one for the current epoch on stderr,
// only when stderr is a terminal so logs and CI output stay clean.
type bars struct {
	w          io.Writer
	on         bool
	grid, step *progressbar.ProgressBar
	phase      *progressbar.ProgressBar
	phaseStop  func()
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

// PhaseStart shows a spinner with the phase's elapsed time: stage 2 and
// whole-corpus encodes can take minutes without a step to count.
func (b *bars) PhaseStart(stage, phase string) {
	if !b.on {
		return
	}
	desc := fmt.Sprintf("%s: %s", b.cell, phase)
	if stage == results.StageStage2 {
		desc = fmt.Sprintf("%s: stage 2 %s", b.cell, phase)
	}
	bar := progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(b.w), progressbar.OptionSetDescription(desc),
		progressbar.OptionSpinnerType(14), progressbar.OptionSetElapsedTime(true),
		progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
	_ = bar.RenderBlank()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // the phase has no steps: tick the spinner and clock
		defer close(done)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				_ = bar.Add(1)
			}
		}
	}()
	b.phase = bar
	b.phaseStop = func() { close(stop); <-done }
}

func (b *bars) PhaseDone() {
	if b.phase != nil {
		b.phaseStop()
		_ = b.phase.Finish()
		b.phase, b.phaseStop = nil, nil
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
