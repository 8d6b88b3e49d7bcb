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
	// SkipFailed keeps cells that failed in an earlier run as they are
	// (by default they are retried, resuming from their checkpoint).
	SkipFailed bool
	// ScratchRoot, when set, holds the per-cell folders the plugins
	// exchange matrices through (e.g. the host's /dev/shm folder); removed
	// per cell when it ends. Default: cells/<id>/scratch in the run folder.
	ScratchRoot string
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
	return &Runner{o: o, plugins: map[string]results.PluginInfo{}}, nil
}

// Summary counts a run's outcome.
type Summary struct {
	Done, Failed, Skipped int
	// Failures maps cell name to its error.
	Failures map[string]string
}

// Run runs every cell not yet done, in order, and keeps the manifest
// current. It returns ctx's error when interrupted; failed cells are in the
// Summary, not the error.
func (r *Runner) Run(ctx context.Context, g *grid.Grid, cells []grid.Cell) (Summary, error) {
	sum := Summary{Failures: map[string]string{}}
	man := results.Manifest{
		GridName: g.Name, GridFile: g.File, GridText: g.Source, Grid: g, Cells: cells, Seeds: g.Seeds,
		GitCommit: results.GitCommit(ctx, filepath.Dir(g.File)),
		Host:      results.CollectHost(), Created: time.Now().UTC(),
	}
	if old, err := r.o.Store.ReadManifest(); err == nil {
		man.Created = old.Created
	}
	writeManifest := func() error {
		// An earlier run, or another process sharing this run folder
		// (xcbench run --shard), may have recorded cells and plugins: keep
		// them. Cells of an earlier, different version of the grid file
		// are dropped.
		if cur, err := r.o.Store.ReadManifest(); err == nil {
			if cur.GridText == g.Source {
				man.Cells = unionCells(cur.Cells, man.Cells)
			}
			r.mu.Lock()
			for _, p := range cur.Plugins {
				if _, ok := r.plugins[p.Kind+"/"+p.Name]; !ok {
					r.plugins[p.Kind+"/"+p.Name] = p
				}
			}
			r.mu.Unlock()
		}
		man.Plugins = r.pluginList()
		man.Updated = time.Now().UTC()
		return r.o.Store.WriteManifest(man)
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
		cs := r.o.Store.Cell(cell.ID)
		st, err := cs.Status()
		if err != nil {
			return sum, err
		}
		if st.State == results.StateDone || (st.State == results.StateFailed && r.o.SkipFailed) {
			sum.Skipped++
			continue
		}
		st = r.runCell(ctx, g, cell, cs, st)
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
func (r *Runner) runCell(ctx context.Context, g *grid.Grid, cell grid.Cell, cs *results.CellStore, st results.Status) results.Status {
	st.State, st.Error = results.StateRunning, ""
	st.Attempts++
	if st.Started.IsZero() {
		st.Started = time.Now().UTC()
	}
	if err := cs.SetStatus(st); err != nil {
		st.State, st.Error = results.StateFailed, err.Error()
		return st
	}
	cctx := ctx
	if cell.Spec.Timeout > 0 {
		var cancel context.CancelFunc
		cctx, cancel = context.WithTimeout(ctx, cell.Spec.Timeout)
		defer cancel()
	}
	c := &cellRun{r: r, cell: cell, spec: cell.Spec, cs: cs, st: &st}
	err := c.run(cctx)
	c.killAll()
	switch {
	case err == nil:
		st.State = results.StateDone
	case ctx.Err() != nil:
		// Interrupted by the caller: leave it resumable.
		st.Error = "interrupted: " + err.Error()
	default:
		st.State, st.Error = results.StateFailed, err.Error()
	}
	if serr := cs.SetStatus(st); serr != nil && st.State != results.StateFailed {
		st.State, st.Error = results.StateFailed, serr.Error()
	}
	return st
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
		sum := sha256.Sum256(b)
		dir = filepath.Join(r.o.Store.Dir, "datasets", spec.Dataset.Name+"-"+hex.EncodeToString(sum[:4]))
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
func (nopProgress) CellDone(grid.Cell, results.Status) {}
func (nopProgress) GridDone()                          {}
