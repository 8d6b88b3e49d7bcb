package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/core/grid"
	"github.com/xcbench/xcbench/core/memory"
	"github.com/xcbench/xcbench/core/npy"
	"github.com/xcbench/xcbench/core/results"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// Phases of an epoch, the keys of Record.Wall and Record.PeakRSS.
const (
	PhaseTrain   = "train"
	PhaseEncode  = "encode"
	PhaseRefresh = "refresh"
	PhasePredict = "predict"
	PhaseEval    = "eval"
)

type cellRun struct {
	r    *Runner
	g    *grid.Grid
	cell grid.Cell
	spec grid.Spec
	cs   *results.CellStore
	st   *results.Status

	ds      *data.Dataset
	dsDir   string
	comps   []*Component
	enc     sdk.Encoder
	smp     sdk.Sampler
	clf     sdk.Classifier
	rec     *results.Record // the record being filled
	scratch string
	elapsed float64
}

func (c *cellRun) killAll() {
	for _, comp := range c.comps {
		comp.Kill()
	}
	c.comps = nil
}

// run is the cell's whole life; panics from in-process components become
// errors so one bad component fails one cell.
func (c *cellRun) run(ctx context.Context) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	if c.dsDir, c.ds, err = c.r.dataset(ctx, c.spec); err != nil {
		return err
	}
	c.scratch = c.cs.ScratchDir()
	if c.r.o.ScratchRoot != "" {
		c.scratch = filepath.Join(c.r.o.ScratchRoot, c.cell.ID)
		defer os.RemoveAll(c.scratch)
	}
	if err := os.MkdirAll(c.scratch, 0o755); err != nil {
		return err
	}
	if err := c.launch(ctx); err != nil {
		return err
	}
	c.r.fault(PointLaunched)
	if c.spec.Baseline() {
		return c.baseline(ctx)
	}

	start, err := c.resume(ctx)
	if err != nil {
		return err
	}
	c.r.o.Progress.CellStart(c.cell, c.spec.Epochs)
	for e := start; e < c.spec.Epochs; e++ {
		if err := c.epoch(ctx, e); err != nil {
			return fmt.Errorf("epoch %d: %w", e, err)
		}
	}
	if c.spec.Stage2 != nil {
		recs, err := c.cs.Records()
		if err != nil {
			return err
		}
		for _, r := range recs {
			if r.Stage == results.StageStage2 {
				return nil
			}
		}
		if err := c.stage2(ctx); err != nil {
			return fmt.Errorf("stage2 %s: %w", c.spec.Stage2.Name, err)
		}
	}
	return nil
}

// launch starts and configures the encoder, sampler and classifier (the
// classifier alone for a baseline cell).
func (c *cellRun) launch(ctx context.Context) error {
	var ok bool
	if c.spec.Baseline() {
		clfComp, err := c.start(ctx, sdk.KindClassifier, c.spec.Classifier)
		if err != nil {
			return err
		}
		if c.clf, ok = clfComp.Impl.(sdk.Classifier); !ok {
			return fmt.Errorf("classifier %s: component is not an sdk.Classifier", c.spec.Classifier.Name)
		}
		return nil
	}
	encComp, err := c.start(ctx, sdk.KindEncoder, c.spec.Encoder)
	if err != nil {
		return err
	}
	if c.enc, ok = encComp.Impl.(sdk.Encoder); !ok {
		return fmt.Errorf("encoder %s: component is not an sdk.Encoder", c.spec.Encoder.Name)
	}
	smpComp, err := c.start(ctx, sdk.KindSampler, c.spec.Sampler)
	if err != nil {
		return err
	}
	if c.smp, ok = smpComp.Impl.(sdk.Sampler); !ok {
		return fmt.Errorf("sampler %s: component is not an sdk.Sampler", c.spec.Sampler.Name)
	}
	clfComp, err := c.start(ctx, sdk.KindClassifier, c.spec.Classifier)
	if err != nil {
		return err
	}
	if c.clf, ok = clfComp.Impl.(sdk.Classifier); !ok {
		return fmt.Errorf("classifier %s: component is not an sdk.Classifier", c.spec.Classifier.Name)
	}
	return nil
}

// start launches and configures one component.
func (c *cellRun) start(ctx context.Context, kind sdk.Kind, spec grid.Component) (*Component, error) {
	comp, err := c.r.o.Launcher.Launch(ctx, kind, spec.Name)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", kind, spec.Name, err)
	}
	c.comps = append(c.comps, comp)
	c.r.mu.Lock()
	c.r.plugins[string(kind)+"/"+spec.Name] = results.PluginInfo{
		Kind: string(kind), Name: spec.Name, Version: comp.Info.Version, Path: comp.Path, SHA256: comp.SHA256,
	}
	c.r.mu.Unlock()
	params, err := c.params(kind, spec, comp.Info)
	if err != nil {
		return nil, err
	}
	opts, err := datasetOptions(c.spec.Dataset)
	if err != nil {
		return nil, err
	}
	scratch := filepath.Join(c.scratch, string(kind))
	if err := os.MkdirAll(scratch, 0o755); err != nil {
		return nil, err
	}
	cfg := sdk.Config{
		Params: params, Seed: c.spec.Seed, ScratchDir: scratch,
		Dataset: sdk.Dataset{Dir: c.dsDir, Name: c.spec.Dataset.Name, Options: opts},
	}
	if err := c.call(ctx, spec.Name, CallConfigure, func(ctx context.Context) error { return comp.Impl.Configure(ctx, cfg) }); err != nil {
		return nil, fmt.Errorf("%s %s: configure: %w", kind, spec.Name, err)
	}
	return comp, nil
}

// params is the component's params as JSON. A component whose schema
// declares batch_size gets the cell's, and the encoder total_steps, unless
// the grid sets them: schedules and measures depend on them, and a
// component must not learn them from the calls it happens to have seen
// (that state would be lost on resume).
func (c *cellRun) params(kind sdk.Kind, spec grid.Component, info sdk.Info) (json.RawMessage, error) {
	p := map[string]any{}
	for k, v := range spec.Params {
		p[k] = v
	}
	var schema map[string]json.RawMessage
	_ = json.Unmarshal(info.ConfigSchema, &schema)
	inject := func(key string, v any) {
		if _, declared := schema[key]; declared {
			if _, set := p[key]; !set {
				p[key] = v
			}
		}
	}
	inject("batch_size", c.spec.BatchSize)
	if kind == sdk.KindEncoder {
		inject("total_steps", c.spec.Epochs*c.batchesPerEpoch())
	}
	if len(p) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("%s %s: params: %w", kind, spec.Name, err)
	}
	return b, nil
}

// batchesPerEpoch estimates an epoch's batches: every training document
// with a label once.
func (c *cellRun) batchesPerEpoch() int {
	if c.ds == nil || c.ds.TrainY == nil {
		return -1
	}
	n := 0
	for i := range c.ds.TrainY.NRows {
		if c.ds.TrainY.RowLen(i) > 0 {
			n++
		}
	}
	return (n + c.spec.BatchSize - 1) / c.spec.BatchSize
}

// resume restores the newest checkpoint that loads (falling back to an
// older one when the newest is corrupt), drops records past it and replays
// the last refresh at or before it; it returns the first epoch to run.
//
// The replay is unconditional: a sampler's batches can depend on a refresh
// older than the epoch being resumed (NGAME's one-epoch lag trains epoch
// e+1 on epoch e's clusters even when e+1 refreshes again), so the sampler
// must be put back in the state the uninterrupted run had, not merely given
// the next refresh.
func (c *cellRun) resume(ctx context.Context) (int, error) {
	cks, err := c.cs.Checkpoints()
	if err != nil {
		return 0, err
	}
	if len(cks) == 0 && c.spec.Stage2 != nil {
		if err := c.borrowEncoder(); err != nil {
			return 0, err
		}
		if cks, err = c.cs.Checkpoints(); err != nil {
			return 0, err
		}
	}
	epoch := -1
	var loadErrs []string
	for _, ck := range cks {
		if err := c.call(ctx, c.spec.Encoder.Name, CallLoad, func(ctx context.Context) error { return c.enc.Load(ctx, ck.Dir) }); err != nil {
			loadErrs = append(loadErrs, fmt.Sprintf("%s (epoch %d): %v", ck.Dir, ck.Epoch, err))
			fmt.Fprintf(c.r.o.Warnings, "xcbench: cell %s: checkpoint %s does not load, trying an older one: %v\n", c.cell.Name, ck.Dir, err)
			continue
		}
		epoch = ck.Epoch
		break
	}
	if epoch < 0 && len(loadErrs) > 0 {
		return 0, fmt.Errorf("resume: no checkpoint loads (%s); start the cell over with: xcbench run --restart-cell %s", strings.Join(loadErrs, "; "), c.cell.ID)
	}
	kept, err := c.cs.KeepThrough(epoch)
	if err != nil {
		return 0, fmt.Errorf("resume: %w; start the cell over with: xcbench run --restart-cell %s", err, c.cell.ID)
	}
	if err := c.cs.PruneRefreshes(epoch, 2); err != nil {
		return 0, err
	}
	if epoch < 0 {
		return 0, nil
	}
	if len(kept) > 0 {
		c.elapsed = kept[len(kept)-1].Elapsed
	}
	next := epoch + 1
	if next < c.spec.Epochs {
		if err := c.replayRefresh(ctx, epoch); err != nil {
			return 0, err
		}
	}
	c.r.fault(PointResumed)
	return next, nil
}

// borrowEncoder lets a cell that differs from a finished one only in its
// stage-2 classifier start from that cell's trained encoder: its final
// checkpoint and its per-epoch records are copied (the records are the
// donor's, bit for bit, but for the cell id), so only stage 2 runs. It
// does nothing when the run folder has no such cell.
func (c *cellRun) borrowEncoder() error {
	own, err := grid.TrainID(c.spec)
	if err != nil {
		return err
	}
	cells, err := c.r.o.Store.Cells()
	if err != nil {
		return nil
	}
	for _, d := range cells {
		if d.ID == c.cell.ID {
			continue
		}
		if id, err := grid.TrainID(d.Spec); err != nil || id != own {
			continue
		}
		donor := c.r.o.Store.Cell(d.ID)
		if st, err := donor.Status(); err != nil || st.State != results.StateDone {
			continue
		}
		cks, err := donor.Checkpoints()
		if err != nil || len(cks) == 0 || cks[0].Epoch != c.spec.Epochs-1 {
			continue
		}
		recs, err := donor.Records()
		if err != nil {
			continue
		}
		if err := c.cs.CopyCheckpoint(cks[0]); err != nil {
			return fmt.Errorf("take the encoder of cell %s: %w", d.Name, err)
		}
		var m1 []results.Record
		for _, r := range recs {
			if r.Stage == results.StageM1 {
				r.Cell = c.cell.ID
				m1 = append(m1, r)
			}
		}
		if err := c.cs.ReplaceRecords(m1); err != nil {
			return err
		}
		c.st.EncoderFrom = d.ID
		fmt.Fprintf(c.r.o.Warnings, "xcbench: cell %s: stage 2 only, on the encoder cell %s trained\n", c.cell.Name, d.Name)
		return c.cs.SetStatus(*c.st)
	}
	return nil
}

type refreshMarker struct {
	Epoch      int  `json:"epoch"`
	HaveDocs   bool `json:"have_docs"`
	HaveLabels bool `json:"have_labels"`
	DocRows    int  `json:"doc_rows"`
	DocCols    int  `json:"doc_cols"`
	LabelRows  int  `json:"label_rows"`
	LabelCols  int  `json:"label_cols"`
}

// saveRefresh keeps the embeddings a refresh was given (copies: the
// encoder may overwrite its scratch files) for replay on resume.
func (c *cellRun) saveRefresh(epoch int, docs, labels sdk.Matrix) error {
	dir := c.cs.RefreshDir(epoch)
	tmp := dir + ".tmp"
	os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	m := refreshMarker{Epoch: epoch}
	if !docs.IsZero() {
		if err := copyMatrix(docs, filepath.Join(tmp, "docs.npy")); err != nil {
			return err
		}
		m.HaveDocs, m.DocRows, m.DocCols = true, docs.Rows, docs.Cols
	}
	if !labels.IsZero() {
		if err := copyMatrix(labels, filepath.Join(tmp, "labels.npy")); err != nil {
			return err
		}
		m.HaveLabels, m.LabelRows, m.LabelCols = true, labels.Rows, labels.Cols
	}
	if err := results.WriteJSONAtomic(filepath.Join(tmp, "refresh.json"), m); err != nil {
		return err
	}
	os.RemoveAll(dir)
	return os.Rename(tmp, dir)
}

// replayRefresh hands the sampler the inputs of the last refresh at or
// before epoch again.
func (c *cellRun) replayRefresh(ctx context.Context, epoch int) error {
	eps, err := c.cs.Refreshes()
	if err != nil {
		return err
	}
	last := -1
	for _, e := range eps {
		if e <= epoch {
			last = e
		}
	}
	if last < 0 {
		return nil // the sampler has not refreshed yet
	}
	dir := c.cs.RefreshDir(last)
	b, err := os.ReadFile(filepath.Join(dir, "refresh.json"))
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	var m refreshMarker
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("resume: %s: %w", dir, err)
	}
	var docs, labels sdk.Matrix
	if m.HaveDocs {
		docs = sdk.Matrix{Rows: m.DocRows, Cols: m.DocCols, Path: filepath.Join(dir, "docs.npy")}
	}
	if m.HaveLabels {
		labels = sdk.Matrix{Rows: m.LabelRows, Cols: m.LabelCols, Path: filepath.Join(dir, "labels.npy")}
	}
	err = c.call(ctx, c.spec.Sampler.Name, CallRefresh, func(ctx context.Context) error {
		_, err := c.smp.Refresh(ctx, m.Epoch, docs, labels)
		return err
	})
	if err != nil {
		return fmt.Errorf("resume: replay refresh of epoch %d: %w", m.Epoch, err)
	}
	return nil
}

func copyMatrix(m sdk.Matrix, dst string) error {
	if m.Path == "" {
		return npy.Write(dst, []int{m.Rows, m.Cols}, m.Data)
	}
	in, err := os.Open(m.Path)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// phase times fn and records wall time and each component's peak memory
// under name (accumulating over repeated phases of one record).
func (c *cellRun) phase(name string, fn func() error) error {
	for _, comp := range c.comps {
		_ = comp.ResetPeak() // best effort: no /proc means no memory figures
	}
	cpu0 := c.cpuSeconds()
	t0 := time.Now()
	steps := name == PhaseTrain && c.rec.Stage == results.StageM1 && !c.spec.Baseline()
	if !steps {
		c.r.o.Progress.PhaseStart(c.rec.Stage, name)
	}
	err := fn()
	if !steps {
		c.r.o.Progress.PhaseDone()
	}
	c.rec.Wall[name] += time.Since(t0).Seconds()
	if cpu0 >= 0 {
		if cpu1 := c.cpuSeconds(); cpu1 >= cpu0 {
			if c.rec.CPU == nil {
				c.rec.CPU = map[string]float64{}
			}
			c.rec.CPU[name] += cpu1 - cpu0
		}
	}
	for _, comp := range c.comps {
		peak, perr := comp.PeakRSS()
		if perr != nil {
			continue
		}
		k := string(comp.Kind)
		if comp.Kind == sdk.KindClassifier && c.spec.Stage2 != nil && comp.Name == c.spec.Stage2.Name && c.rec.Stage == results.StageStage2 {
			k = "stage2"
		}
		if c.rec.PeakRSS[k] == nil {
			c.rec.PeakRSS[k] = map[string]int64{}
		}
		c.rec.PeakRSS[k][name] = max(c.rec.PeakRSS[k][name], peak)
	}
	return err
}

// cpuSeconds is the CPU time used so far by this process and the cell's
// component processes (each process once), or -1 where /proc is missing.
func (c *cellRun) cpuSeconds() float64 {
	pids := map[int]bool{os.Getpid(): true}
	for _, comp := range c.comps {
		if comp.PID > 0 {
			pids[comp.PID] = true
		}
	}
	total := 0.0
	for pid := range pids {
		s, err := memory.CPUSeconds(pid)
		if err != nil {
			return -1
		}
		total += s
	}
	return total
}

func (c *cellRun) newRecord(stage string, epoch int) *results.Record {
	return &results.Record{
		Cell: c.cell.ID, Stage: stage, Epoch: epoch,
		Wall: map[string]float64{}, PeakRSS: map[string]map[string]int64{},
	}
}

func (c *cellRun) epoch(ctx context.Context, e int) error {
	c.rec = c.newRecord(results.StageM1, e)
	rec := c.rec

	var plan sdk.RefreshPlan
	err := c.call(ctx, c.spec.Sampler.Name, CallPlan, func(ctx context.Context) (err error) {
		plan, err = c.smp.Plan(ctx, e)
		return err
	})
	if err != nil {
		return fmt.Errorf("sampler plan: %w", err)
	}
	if plan.Refresh {
		if err := c.refresh(ctx, e, plan); err != nil {
			return err
		}
	}

	c.r.o.Progress.EpochStart(e, c.batchesPerEpoch())
	var lossSum, hardSum float64
	err = c.phase(PhaseTrain, func() error {
		// The batch stream gets one deadline for the whole epoch, each
		// step its own.
		return c.call(ctx, c.spec.Sampler.Name, CallBatches, func(bctx context.Context) error {
			for b, err := range c.smp.Batches(bctx, e, c.spec.BatchSize) {
				if err != nil {
					return fmt.Errorf("sampler batches: %w", err)
				}
				var st sdk.StepStats
				err := c.call(ctx, c.spec.Encoder.Name, CallTrainStep, func(ctx context.Context) (err error) {
					st, err = c.enc.TrainStep(ctx, b)
					return err
				})
				if err != nil {
					return fmt.Errorf("encoder train step %d: %w", rec.Steps, err)
				}
				lossSum += st.Loss
				hardSum += st.Hardness
				rec.Items += st.Items
				rec.Steps++
				c.r.o.Progress.Step()
				c.r.fault(fmt.Sprintf("%s:%d:%d", PointStep, e, rec.Steps))
			}
			return ctx.Err()
		})
	})
	if err != nil {
		return err
	}
	c.r.fault(fmt.Sprintf("%s:%d", PointTrained, e))
	if rec.Steps > 0 {
		rec.Loss = lossSum / float64(rec.Steps)
		rec.Hardness = hardSum / float64(rec.Steps)
	}

	if c.spec.EvalDue(e) {
		limit := 0
		if e < c.spec.Epochs-1 {
			limit = c.spec.Eval.SplitLimit
		}
		if err := c.evaluate(ctx, limit); err != nil {
			return err
		}
		c.r.fault(fmt.Sprintf("%s:%d", PointEvaluated, e))
	}
	return c.commit(ctx, e)
}

// refresh hands the sampler the embeddings its plan asks for.
func (c *cellRun) refresh(ctx context.Context, e int, plan sdk.RefreshPlan) error {
	rec := c.rec
	var docs, labels sdk.Matrix
	err := c.phase(PhaseEncode, func() error {
		if plan.NeedDocs {
			var err error
			if plan.DocSource == "memory_bank" {
				if mb, ok := c.enc.(sdk.MemoryBanker); ok {
					err = c.call(ctx, c.spec.Encoder.Name, CallEncode, func(ctx context.Context) (err error) {
						docs, err = mb.MemoryBank(ctx)
						return err
					})
					if errors.Is(err, sdk.ErrUnimplemented) {
						err, docs = nil, sdk.Matrix{}
					}
				}
			}
			if err != nil {
				return fmt.Errorf("encoder memory bank: %w", err)
			}
			if docs.IsZero() {
				if docs, err = c.encode(ctx, sdk.SplitTrain, nil); err != nil {
					return fmt.Errorf("encode train docs: %w", err)
				}
				rec.Items += docs.Rows
			}
		}
		if plan.NeedLabels {
			var err error
			if labels, err = c.encode(ctx, sdk.SplitLabels, nil); err != nil {
				return fmt.Errorf("encode labels: %w", err)
			}
			rec.Items += labels.Rows
		}
		return nil
	})
	if err != nil {
		return err
	}
	var rs sdk.RefreshStats
	err = c.phase(PhaseRefresh, func() error {
		return c.call(ctx, c.spec.Sampler.Name, CallRefresh, func(ctx context.Context) (err error) {
			rs, err = c.smp.Refresh(ctx, e, docs, labels)
			return err
		})
	})
	if err != nil {
		return fmt.Errorf("sampler refresh: %w", err)
	}
	h := rs.Hardness
	rec.RefreshHardness = &h
	c.r.fault(fmt.Sprintf("%s:%d", PointRefreshed, e))
	if err := c.saveRefresh(e, docs, labels); err != nil {
		return fmt.Errorf("save refresh inputs: %w", err)
	}
	c.r.fault(fmt.Sprintf("%s:%d", PointRefreshSaved, e))
	return nil
}

// evaluate encodes test documents (the first limit, 0 = all) and labels,
// trains the evaluation classifier on the label embeddings and scores its
// predictions.
func (c *cellRun) evaluate(ctx context.Context, limit int) error {
	rec := c.rec
	rows := c.ds.TestY.NRows
	var ids []int32
	if limit > 0 && limit < rows {
		rows = limit
		ids = make([]int32, limit)
		for i := range ids {
			ids[i] = int32(i)
		}
	}
	var test, labels sdk.Matrix
	err := c.phase(PhaseEncode, func() error {
		var err error
		if test, err = c.encode(ctx, sdk.SplitTest, ids); err != nil {
			return fmt.Errorf("encode test docs: %w", err)
		}
		if labels, err = c.encode(ctx, sdk.SplitLabels, nil); err != nil {
			return fmt.Errorf("encode labels: %w", err)
		}
		rec.Items += test.Rows + labels.Rows
		return nil
	})
	if err != nil {
		return err
	}
	var pred sdk.TopK
	err = c.phase(PhasePredict, func() error {
		name := c.spec.Classifier.Name
		if err := c.call(ctx, name, CallTrain, func(ctx context.Context) error {
			_, err := c.clf.Train(ctx, sdk.TrainInput{Labels: labels})
			return err
		}); err != nil {
			return fmt.Errorf("classifier %s train: %w", name, err)
		}
		if err := c.call(ctx, name, CallPredict, func(ctx context.Context) (err error) {
			pred, err = c.clf.Predict(ctx, sdk.SplitTest, test, c.predK())
			return err
		}); err != nil {
			return fmt.Errorf("classifier %s predict: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if limit == 0 {
		if err := c.writePredictions(results.StageM1, pred); err != nil {
			return err
		}
	}
	return c.score(pred, rows)
}

// baseline runs a classifier-only cell: the classifier trains on the data
// set's own features and predicts the whole test split; one record (epoch
// 0), no checkpoint. An interrupted baseline simply runs again.
func (c *cellRun) baseline(ctx context.Context) error {
	if _, err := c.cs.KeepThrough(-1); err != nil {
		return err
	}
	c.r.o.Progress.CellStart(c.cell, 1)
	c.rec = c.newRecord(results.StageM1, 0)
	name := c.spec.Classifier.Name
	err := c.phase(PhaseTrain, func() error {
		return c.call(ctx, name, CallTrain, func(ctx context.Context) error {
			ts, err := c.clf.Train(ctx, sdk.TrainInput{})
			c.rec.Loss = ts.Loss
			return err
		})
	})
	if err != nil {
		return fmt.Errorf("classifier %s train: %w", name, err)
	}
	var pred sdk.TopK
	err = c.phase(PhasePredict, func() error {
		return c.call(ctx, name, CallPredict, func(ctx context.Context) (err error) {
			pred, err = c.clf.Predict(ctx, sdk.SplitTest, sdk.Matrix{}, c.predK())
			return err
		})
	})
	if err != nil {
		return fmt.Errorf("classifier %s predict: %w", name, err)
	}
	if err := c.writePredictions(results.StageM1, pred); err != nil {
		return err
	}
	if err := c.score(pred, c.ds.TestY.NRows); err != nil {
		return err
	}
	if err := c.appendRecord(); err != nil {
		return err
	}
	c.st.Epoch = 0
	return nil
}

// predK is how many labels per document the classifiers are asked for:
// 100 (the depth XC papers score at and pyxclib's usual top-k), or the
// largest metric cut-off if deeper, at most the label count. Asking for
// more than the metrics' k matters: the filter removes pairs before the
// top-k is cut, as pyxclib does on the full score matrix.
func (c *cellRun) predK() int {
	k := 100
	if c.ds != nil && c.ds.NumLabels > 0 {
		k = min(k, c.ds.NumLabels)
	}
	return max(k, c.spec.MaxK())
}

// writePredictions keeps a finished evaluation's test predictions in the
// XC sparse format (cells/<id>/predictions-<stage>.txt, unfiltered, with a
// JSON sidecar saying so and naming the filter file), so anyone can rescore
// them with pyxclib.
func (c *cellRun) writePredictions(stage string, pred sdk.TopK) error {
	path := filepath.Join(c.cs.Dir, "predictions-"+stage+".txt")
	if err := data.WritePredictionsShape(path, pred, c.ds.NumLabels); err != nil {
		return fmt.Errorf("write predictions: %w", err)
	}
	filter := ""
	if len(c.ds.FilterTest) > 0 {
		filter = filepath.Join(c.dsDir, "filter_labels_test.txt")
	}
	return results.WriteJSONAtomic(path+".json", map[string]any{
		"format": "xc-sparse", "rows": pred.Rows, "labels": c.ds.NumLabels, "k": pred.K,
		"filter_applied": false, "filter_file": filter,
		"note": "scores as the classifier returned them; remove the filter pairs (and, as NGAME's evaluation does, zero scores) before taking the top-k",
	})
}

func (c *cellRun) score(pred sdk.TopK, rows int) error {
	if pred.Rows != rows {
		return fmt.Errorf("predictions have %d rows, want %d", pred.Rows, rows)
	}
	return c.phase(PhaseEval, func() error {
		m, err := c.r.o.Score(pred, c.ds, rows, c.spec.Eval.K)
		if err != nil {
			return fmt.Errorf("score: %w", err)
		}
		c.rec.Metrics = m
		return nil
	})
}

// commit stores the epoch: record first, then checkpoint. A crash between
// the two leaves a record past the checkpoint, which resume drops and
// recomputes.
func (c *cellRun) commit(ctx context.Context, e int) error {
	if err := c.appendRecord(); err != nil {
		return err
	}
	c.r.fault(fmt.Sprintf("%s:%d", PointRecorded, e))
	err := c.cs.SaveCheckpoint(e, func(dir string) error {
		return c.call(ctx, c.spec.Encoder.Name, CallSave, func(ctx context.Context) error { return c.enc.Save(ctx, dir) })
	})
	if err != nil {
		return fmt.Errorf("encoder save: %w", err)
	}
	c.r.fault(fmt.Sprintf("%s:%d", PointCheckpointed, e))
	// Two checkpoints are kept (ckpt, ckpt.prev), so two refreshes.
	if err := c.cs.PruneRefreshes(e, 2); err != nil {
		return err
	}
	c.st.Epoch = e
	if err := c.cs.SetStatus(*c.st); err != nil {
		return err
	}
	c.r.fault(fmt.Sprintf("%s:%d", PointCommitted, e))
	return nil
}

// appendRecord closes the record being filled (its phases' seconds added
// to the cell's cumulative time), stores it and logs it.
func (c *cellRun) appendRecord() error {
	for _, s := range c.rec.Wall {
		c.elapsed += s
	}
	c.rec.Elapsed, c.rec.Time = c.elapsed, time.Now().UTC()
	if err := c.cs.Append(*c.rec); err != nil {
		return err
	}
	if b, err := json.Marshal(c.rec); err == nil {
		fmt.Fprintf(c.r.o.Log, "%s\n", b)
	}
	return nil
}

// stage2 trains the stage-2 classifier on frozen embeddings of the final
// encoder and scores it on the whole test split.
func (c *cellRun) stage2(ctx context.Context) error {
	c.rec = c.newRecord(results.StageStage2, c.spec.Epochs)
	rec := c.rec
	comp, err := c.start(ctx, sdk.KindClassifier, *c.spec.Stage2)
	if err != nil {
		return err
	}
	clf, ok := comp.Impl.(sdk.Classifier)
	if !ok {
		return fmt.Errorf("component is not an sdk.Classifier")
	}
	var train, labels, test sdk.Matrix
	err = c.phase(PhaseEncode, func() error {
		var err error
		if train, err = c.encode(ctx, sdk.SplitTrain, nil); err != nil {
			return fmt.Errorf("encode train docs: %w", err)
		}
		if labels, err = c.encode(ctx, sdk.SplitLabels, nil); err != nil {
			return fmt.Errorf("encode labels: %w", err)
		}
		if test, err = c.encode(ctx, sdk.SplitTest, nil); err != nil {
			return fmt.Errorf("encode test docs: %w", err)
		}
		rec.Items += train.Rows + labels.Rows + test.Rows
		return nil
	})
	if err != nil {
		return err
	}
	var pred sdk.TopK
	name := c.spec.Stage2.Name
	err = c.phase(PhaseTrain, func() error {
		return c.call(ctx, name, CallTrain, func(ctx context.Context) error {
			ts, err := clf.Train(ctx, sdk.TrainInput{TrainDocs: train, Labels: labels})
			rec.Loss = ts.Loss
			return err
		})
	})
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	c.r.fault(PointStage2Trained)
	err = c.phase(PhasePredict, func() error {
		return c.call(ctx, name, CallPredict, func(ctx context.Context) (err error) {
			pred, err = clf.Predict(ctx, sdk.SplitTest, test, c.predK())
			return err
		})
	})
	if err != nil {
		return fmt.Errorf("predict: %w", err)
	}
	if err := c.writePredictions(results.StageStage2, pred); err != nil {
		return err
	}
	if err := c.score(pred, c.ds.TestY.NRows); err != nil {
		return err
	}
	if err := c.appendRecord(); err != nil {
		return err
	}
	c.r.fault(PointStage2Recorded)
	return nil
}
