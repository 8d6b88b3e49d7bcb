package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/xcbench/xcbench/core/buildinfo"
	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/core/grid"
	"github.com/xcbench/xcbench/core/results"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// DataFunc loads a dataset for ground truth, filters and propensities.
type DataFunc func(ctx context.Context, dir string, options json.RawMessage) (*data.Dataset, error)

// ScoreFunc scores predictions for the first rows test documents of ds
// (rows = ds.TestY.Rows for all) and returns metric name -> value in [0,1]
// ("P@1", "nDCG@3", "PSP@5", ...).
type ScoreFunc func(pred sdk.TopK, ds *data.Dataset, rows int, ks []int) (map[string]float64, error)

// SynthFunc writes a synthetic dataset described by params into dir (which
// exists and is empty) in a format DataFunc reads.
type SynthFunc func(ctx context.Context, params map[string]any, dir string) error

// Progress receives the runner's progress; calls come from one goroutine.
type Progress interface {
	GridStart(cells int)
	CellStart(cell grid.Cell, epochs int)
	// EpochStart announces an epoch with an estimate of its batches
	// (-1 when unknown).
	EpochStart(epoch, batches int)
	Step()
	// PhaseStart and PhaseDone bracket the cell's phases other than the
	// training steps (refresh, encode, predict, eval, stage-2 training),
	// which can run for minutes with no step to count.
	PhaseStart(stage, phase string)
	PhaseDone()
	CellDone(cell grid.Cell, status results.Status)
	GridDone()
}

// Options configure a Runner.
type Options struct {
	Launcher Launcher
	Store    *results.Store
	Data     DataFunc
	Score    ScoreFunc
	// Synth generates synthetic datasets; nil rejects grids that use them.
	Synth SynthFunc
	// Progress may be nil.
	Progress Progress
	// Log receives one JSON line per record, as stored (nil = discard).
	Log io.Writer
	// Warnings receives one line per recovered problem (nil = discard).
	Warnings io.Writer
	// SkipFailed keeps cells that failed in an earlier run as they are
	// (by default they are retried, resuming from their checkpoint).
	SkipFailed bool
	// ScratchRoot, when set, holds the per-cell folders the plugins
	// exchange matrices through (e.g. the host's /dev/shm folder); removed
	// per cell when it ends. Default: cells/<id>/scratch in the run folder.
	ScratchRoot string
	// RestartCells names cells (by id) to start over: their folder is
	// removed before they run (the way out of state that cannot resume).
	RestartCells map[string]bool
	// Build identifies this binary in the manifest and each cell's status
	// (zero = buildinfo.Get()).
	Build buildinfo.Info
	// Args is the command line, recorded in the manifest.
	Args []string
	// Fault, when set, is called at every point where an interruption
	// must leave a resumable cell (see the Point* constants): the
	// fault-injection hook of the resume tests. Nil in normal runs.
	Fault func(point string)
	// PluginLock, when set, is recorded in the manifest.
	PluginLock *results.PluginLock
}

// Runner runs grids.
type Runner struct {
	o Options

	mu      sync.Mutex
	plugins map[string]results.PluginInfo

	cacheKey string
	cacheDS  *data.Dataset
}

// New checks the options and makes a Runner.
func New(o Options) (*Runner, error) {
	switch {
	case o.Launcher == nil:
		return nil, errors.New("runner: Options.Launcher is nil")
	case o.Store == nil:
		return nil, errors.New("runner: Options.Store is nil")
	case o.Data == nil:
		return nil, errors.New("runner: Options.Data is nil")
	case o.Score == nil:
		return nil, errors.New("runner: Options.Score is nil")
	}
	if o.Progress == nil {
		o.Progress = nopProgress{}
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Warnings == nil {
		o.Warnings = io.Discard
	}
	return &Runner{o: o, plugins: map[string]results.PluginInfo{}}, nil
}

// Summary counts a run's outcome.
type Summary struct {
	Done, Failed, Skipped int
	// Busy counts cells another process held the lock of (running
	// elsewhere, e.g. another --shard); they are neither done nor failed.
	Busy int
	// Failures maps cell name to its error.
	Failures map[string]string
}

// Run runs every cell not yet done, in order, and keeps the manifest
// current. It returns ctx's error when interrupted; failed cells are in the
// Summary, not the error.
func (r *Runner) Run(ctx context.Context, g *grid.Grid, cells []grid.Cell) (Summary, error) {
	sum := Summary{Failures: map[string]string{}}
	build := r.o.Build
	if build.Commit == "" {
		build = buildinfo.Get()
	}
	host := results.CollectHost()
	gridSum := sha256.Sum256([]byte(g.Source))
	proc := results.Process{
		Build: build, Host: host.Hostname, PID: os.Getpid(), Started: time.Now().UTC(),
		GridSHA256: hex.EncodeToString(gridSum[:]), Args: r.o.Args,
	}
	man := results.Manifest{
		GridName: g.Name, GridFile: g.File, GridText: g.Source, Grid: g, Cells: cells, Seeds: g.Seeds,
		GridSHA256: proc.GridSHA256, Host: host, Created: proc.Started,
	}
	man.PluginLock = r.o.PluginLock
	writeManifest := func() error {
		// An earlier run, or another process sharing this run folder
		// (xcbench run --shard), may have recorded cells, plugins and
		// processes: keep them. Cells of an earlier, different version of
		// the grid file are dropped.
		return r.o.Store.UpdateManifest(func(cur results.Manifest, have bool) (results.Manifest, error) {
			man.Processes = []results.Process{proc}
			if have {
				man.Created = cur.Created
				if cur.GridText == g.Source {
					man.Cells = unionCells(cur.Cells, man.Cells)
				}
				for _, p := range cur.Processes {
					if p.PID != proc.PID || p.Host != proc.Host || !p.Started.Equal(proc.Started) {
						man.Processes = append(man.Processes, p)
					}
				}
				r.mu.Lock()
				for _, p := range cur.Plugins {
					if _, ok := r.plugins[p.Kind+"/"+p.Name]; !ok {
						r.plugins[p.Kind+"/"+p.Name] = p
					}
				}
				r.mu.Unlock()
			}
			sort.SliceStable(man.Processes, func(i, j int) bool { return man.Processes[i].Started.Before(man.Processes[j].Started) })
			man.GitCommit, man.GitDirty = manifestBuild(man.Processes)
			man.Plugins = r.pluginList()
			man.Updated = time.Now().UTC()
			return man, nil
		})
	}
	if err := writeManifest(); err != nil {
		return sum, err
	}
	r.o.Progress.GridStart(len(cells))
	defer r.o.Progress.GridDone()
	for _, cell := range cells {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		st, ran, err := r.cell(ctx, g, cell, build, host.Hostname)
		if err != nil {
			return sum, err
		}
		switch {
		case errors.Is(ran, results.ErrLocked):
			sum.Busy++
			fmt.Fprintf(r.o.Warnings, "xcbench: cell %s skipped: %v\n", cell.Name, ran)
			r.o.Progress.CellDone(cell, results.Status{State: "running elsewhere", Error: ran.Error()})
			continue
		case ran == errSkipped:
			sum.Skipped++
			continue
		}
		if werr := writeManifest(); werr != nil {
			return sum, werr
		}
		switch st.State {
		case results.StateDone:
			sum.Done++
		case results.StateFailed:
			sum.Failed++
			sum.Failures[cell.Name] = st.Error
		}
		r.o.Progress.CellDone(cell, st)
		if err := ctx.Err(); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

var errSkipped = errors.New("skipped")

// cell runs one cell under its lock. ran is errSkipped for a cell already
// finished, an error wrapping results.ErrLocked for one another process is
// running, nil when it ran (st then holds its final state); err is an error
// of the run folder itself, which stops the grid.
func (r *Runner) cell(ctx context.Context, g *grid.Grid, cell grid.Cell, build buildinfo.Info, host string) (st results.Status, ran, err error) {
	cs := r.o.Store.Cell(cell.ID)
	unlock, err := cs.TryLock()
	if errors.Is(err, results.ErrLocked) {
		return st, err, nil
	}
	if err != nil {
		return st, nil, err
	}
	defer unlock()
	if r.o.RestartCells[cell.ID] {
		if err := cs.Reset(); err != nil {
			return st, nil, err
		}
		// The lock file went with the folder; hold a fresh one.
		unlock()
		if unlock, err = cs.TryLock(); err != nil {
			return st, nil, err
		}
	}
	st, serr := cs.Status()
	if serr != nil {
		// status.json is derived state: move the bad one aside and let
		// the cell resume from its records and checkpoints.
		if qerr := cs.QuarantineStatus(); qerr != nil {
			return st, nil, qerr
		}
		fmt.Fprintf(r.o.Warnings, "xcbench: cell %s: %v; moved aside, resuming from its checkpoint\n", cell.Name, serr)
		st = results.Status{Epoch: -1, Error: "previous status.json unreadable, moved aside: " + serr.Error()}
	}
	if st.State == results.StateDone || (st.State == results.StateFailed && r.o.SkipFailed) {
		return st, errSkipped, nil
	}
	return r.runCell(ctx, g, cell, cs, st, build, host), nil, nil
}

// manifestBuild is the processes' common commit and dirty flag, or
// "mixed" when they ran different builds.
func manifestBuild(ps []results.Process) (string, *bool) {
	if len(ps) == 0 {
		return "", nil
	}
	c, d := ps[0].Build.Commit, ps[0].Build.Dirty
	for _, p := range ps[1:] {
		if p.Build.Commit != c || (p.Build.Dirty == nil) != (d == nil) || (d != nil && *p.Build.Dirty != *d) {
			return "mixed", nil
		}
	}
	return c, d
}

// unionCells returns b's cells in b's order, then a's cells that b lacks
// (by id): a run that passes the whole expanded grid puts the manifest back
// in grid order, whatever order shards wrote it in.
func unionCells(a, b []grid.Cell) []grid.Cell {
	seen := make(map[string]bool, len(a)+len(b))
	for _, c := range b {
		seen[c.ID] = true
	}
	if len(b) < len(a) && containsAll(a, seen) {
		// A subset (one cluster task's cell, one shard) keeps the order
		// of the manifest it joins, with its own version of its cells.
		byID := make(map[string]grid.Cell, len(b))
		for _, c := range b {
			byID[c.ID] = c
		}
		out := make([]grid.Cell, len(a))
		for i, c := range a {
			if nc, ok := byID[c.ID]; ok {
				c = nc
			}
			out[i] = c
		}
		return out
	}
	out := append(make([]grid.Cell, 0, len(a)+len(b)), b...)
	for _, c := range a {
		if !seen[c.ID] {
			out = append(out, c)
			seen[c.ID] = true
		}
	}
	return out
}

// containsAll reports whether a holds every id in ids.
func containsAll(a []grid.Cell, ids map[string]bool) bool {
	n := 0
	for _, c := range a {
		if ids[c.ID] {
			n++
		}
	}
	return n == len(ids)
}

func (r *Runner) pluginList() []results.PluginInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]results.PluginInfo, 0, len(r.plugins))
	for _, p := range r.plugins {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Kind+out[i].Name < out[j].Kind+out[j].Name })
	return out
}

// runCell runs one cell and returns its final status (already stored).
// Interrupted cells stay "running" so the next run resumes them.
func (r *Runner) runCell(ctx context.Context, g *grid.Grid, cell grid.Cell, cs *results.CellStore, st results.Status, build buildinfo.Info, host string) results.Status {
	st.State, st.Error = results.StateRunning, ""
	st.Attempts++
	st.Host = host
	if b := build.String(); len(st.Builds) == 0 || st.Builds[len(st.Builds)-1] != b {
		st.Builds = append(st.Builds, b)
	}
	if st.Started.IsZero() {
		st.Started = time.Now().UTC()
	}
	if err := cs.SetStatus(st); err != nil {
		st.State, st.Error = results.StateFailed, err.Error()
		return st
	}
	if err := cs.WriteCell(cell); err != nil {
		st.State, st.Error = results.StateFailed, err.Error()
		_ = cs.SetStatus(st)
		return st
	}
	cctx := ctx
	if cell.Spec.Timeout > 0 {
		var cancel context.CancelFunc
		cctx, cancel = context.WithTimeout(ctx, cell.Spec.Timeout)
		defer cancel()
	}
	c := &cellRun{r: r, g: g, cell: cell, spec: cell.Spec, cs: cs, st: &st}
	err := c.run(cctx)
	c.killAll()
	switch {
	case err == nil:
		st.State = results.StateDone
	case ctx.Err() != nil:
		// Interrupted by the caller: leave it resumable.
		st.Error = "interrupted: " + err.Error()
	case cctx.Err() == context.DeadlineExceeded:
		st.State, st.Error = results.StateFailed, fmt.Sprintf("cell timed out after %s (grid timeout): %v", cell.Spec.Timeout, err)
	default:
		st.State, st.Error = results.StateFailed, err.Error()
	}
	if serr := cs.SetStatus(st); serr != nil && st.State != results.StateFailed {
		st.State, st.Error = results.StateFailed, serr.Error()
	}
	if st.State == results.StateDone {
		// Best effort: a finished cell's records are complete whether or
		// not its resume state could be removed.
		if perr := cs.PruneFinished(); perr != nil {
			fmt.Fprintf(r.o.Warnings, "xcbench: cell %s: %v\n", cell.Name, perr)
		}
	}
	return st
}

// DatasetDir is where a cell's data set is: its folder, or for a synthetic
// one the folder the runner generates it into under the run folder.
func DatasetDir(runDir string, d grid.Dataset) string {
	if d.Synth == nil {
		return d.Path
	}
	b, _ := json.Marshal(d.Synth)
	sum := sha256.Sum256(b)
	return filepath.Join(runDir, "datasets", d.Name+"-"+hex.EncodeToString(sum[:4]))
}

// dataset prepares (synthetic) data and loads it, caching the last one
// since consecutive cells usually share it.
func (r *Runner) dataset(ctx context.Context, spec grid.Spec) (string, *data.Dataset, error) {
	dir := spec.Dataset.Path
	if spec.Dataset.Synth != nil {
		if r.o.Synth == nil {
			return "", nil, fmt.Errorf("dataset %s: synthetic datasets are not supported by this runner", spec.Dataset.Name)
		}
		b, _ := json.Marshal(spec.Dataset.Synth)
		dir = DatasetDir(r.o.Store.Dir, spec.Dataset)
		if _, err := os.Stat(filepath.Join(dir, ".complete")); err != nil {
			// Processes sharing the run folder (shards, cluster tasks) may
			// generate the same set at once: each writes its own temporary
			// folder and the first rename wins (the sets are identical).
			if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
				return "", nil, err
			}
			tmp, err := os.MkdirTemp(filepath.Dir(dir), filepath.Base(dir)+".tmp*")
			if err != nil {
				return "", nil, err
			}
			defer os.RemoveAll(tmp)
			if err := r.o.Synth(ctx, spec.Dataset.Synth, tmp); err != nil {
				return "", nil, fmt.Errorf("dataset %s: synth: %w", spec.Dataset.Name, err)
			}
			if err := os.WriteFile(filepath.Join(tmp, ".complete"), b, 0o644); err != nil {
				return "", nil, err
			}
			if err := os.Rename(tmp, dir); err != nil {
				if _, serr := os.Stat(filepath.Join(dir, ".complete")); serr != nil {
					// Not another process's finished set: a leftover.
					os.RemoveAll(dir)
					if err := os.Rename(tmp, dir); err != nil {
						return "", nil, err
					}
				}
			}
		}
	}
	opts, err := datasetOptions(spec.Dataset)
	if err != nil {
		return "", nil, err
	}
	key := dir + "\x00" + string(opts)
	if r.cacheKey == key {
		return dir, r.cacheDS, nil
	}
	ds, err := r.o.Data(ctx, dir, opts)
	if err != nil {
		return "", nil, fmt.Errorf("dataset %s (%s): %w", spec.Dataset.Name, dir, err)
	}
	r.cacheKey, r.cacheDS = key, ds
	return dir, ds, nil
}

func datasetOptions(d grid.Dataset) (json.RawMessage, error) {
	if len(d.Options) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(d.Options)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: options: %w", d.Name, err)
	}
	return b, nil
}

type nopProgress struct{}

func (nopProgress) GridStart(int)                      {}
func (nopProgress) CellStart(grid.Cell, int)           {}
func (nopProgress) EpochStart(int, int)                {}
func (nopProgress) Step()                              {}
func (nopProgress) PhaseStart(string, string)          {}
func (nopProgress) PhaseDone()                         {}
func (nopProgress) CellDone(grid.Cell, results.Status) {}
func (nopProgress) GridDone()                          {}
