package plugintest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/core/sparse"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// UnknownParam is the key the kit adds to Params to check strict decoding.
const UnknownParam = "xcbench_conformance_unknown_key"

// normTol is how far an embedding norm may stray from 1 (float32 sums).
const normTol = 1e-3

// modes runs fn once on a fresh in-process component and once over gRPC.
func modes[T sdk.Plugin](t *testing.T, kind sdk.Kind, newFn func() T, fn func(t *testing.T, fresh func() T)) {
	t.Helper()
	t.Run("inprocess", func(t *testing.T) { fn(t, newFn) })
	t.Run("grpc", func(t *testing.T) {
		fn(t, func() T {
			c := Connect(t, kind, newFn())
			v, ok := c.(T)
			if !ok {
				t.Fatalf("plugintest: gRPC client %T does not implement %s", c, kind)
			}
			return v
		})
	})
}

func checkDescribe(t *testing.T, p sdk.Plugin, kind sdk.Kind) sdk.Info {
	t.Helper()
	info, err := p.Describe(context.Background())
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	if info.Name == "" || info.Version == "" {
		t.Errorf("Describe: name %q and version %q must be set", info.Name, info.Version)
	}
	if info.Kind != kind {
		t.Errorf("Describe: kind %q, want %q", info.Kind, kind)
	}
	if !slices.Contains(info.APIVersions, sdk.APIVersion) {
		t.Errorf("Describe: api_versions %v lack %d", info.APIVersions, sdk.APIVersion)
	}
	var schema map[string]map[string]json.RawMessage
	if err := json.Unmarshal(info.ConfigSchema, &schema); err != nil {
		t.Errorf("Describe: config schema is not a JSON object of objects: %v (%s)", err, info.ConfigSchema)
	}
	for name, entry := range schema {
		for _, key := range []string{"type", "doc"} {
			if _, ok := entry[key]; !ok {
				t.Errorf("Describe: config schema entry %q has no %q", name, key)
			}
		}
	}
	return info
}

func withUnknownParam(t *testing.T, params json.RawMessage) json.RawMessage {
	m := map[string]any{}
	if len(params) > 0 && string(params) != "null" {
		if err := json.Unmarshal(params, &m); err != nil {
			t.Fatalf("plugintest: cfg.Params is not a JSON object: %v", err)
		}
	}
	m[UnknownParam] = 1
	b, _ := json.Marshal(m)
	return b
}

func checkRejectsUnknown(t *testing.T, p sdk.Plugin, cfg sdk.Config) {
	t.Helper()
	bad := cfg
	bad.Params = withUnknownParam(t, cfg.Params)
	err := p.Configure(context.Background(), bad)
	if !errors.Is(err, sdk.ErrInvalidConfig) {
		t.Errorf("Configure with unknown param %q: err = %v, want one wrapping sdk.ErrInvalidConfig", UnknownParam, err)
	}
}

func configure(t *testing.T, p sdk.Plugin, cfg sdk.Config) {
	t.Helper()
	if cfg.ScratchDir == "" {
		cfg.ScratchDir = t.TempDir()
	}
	if err := p.Configure(context.Background(), cfg); err != nil {
		t.Fatalf("Configure: %v", err)
	}
}

// loadDataset opens cfg.Dataset for checks whose options left facts out.
func loadDataset(t *testing.T, cfg sdk.Config) *data.Dataset {
	t.Helper()
	if cfg.Dataset.Dir == "" {
		t.Fatal("plugintest: options lack the dataset facts and cfg.Dataset.Dir is empty")
	}
	ds, err := data.OpenSpec(cfg.Dataset.Dir, cfg.Dataset.Name, cfg.Dataset.Options)
	if err != nil {
		t.Fatalf("plugintest: open dataset: %v", err)
	}
	return ds
}

// RandomUnit returns rows x cols L2-normalised Gaussian rows from seed.
func RandomUnit(rows, cols int, seed uint64) sdk.Matrix {
	r := rand.New(rand.NewPCG(seed, 0x9e37))
	m := sdk.Matrix{Rows: rows, Cols: cols, Data: make([]float32, rows*cols)}
	for i := range rows {
		row := m.Row(i)
		var s float64
		for j := range row {
			row[j] = float32(r.NormFloat64())
			s += float64(row[j]) * float64(row[j])
		}
		for j := range row {
			row[j] /= float32(math.Sqrt(s))
		}
	}
	return m
}

func load(t *testing.T, m sdk.Matrix, what string) sdk.Matrix {
	t.Helper()
	m, err := sdk.LoadMatrix(m)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return m
}

func checkUnitRows(t *testing.T, m sdk.Matrix, what string) {
	t.Helper()
	for i := range m.Rows {
		var s float64
		for _, v := range m.Row(i) {
			s += float64(v) * float64(v)
		}
		if n := math.Sqrt(s); math.Abs(n-1) > normTol {
			t.Errorf("%s: row %d has norm %.6f, want 1", what, i, n)
			return
		}
	}
}

func sameMatrix(a, b sdk.Matrix, tol float32) error {
	if a.Rows != b.Rows || a.Cols != b.Cols {
		return fmt.Errorf("shapes %dx%d and %dx%d", a.Rows, a.Cols, b.Rows, b.Cols)
	}
	for i := range a.Data {
		if d := a.Data[i] - b.Data[i]; d > tol || d < -tol {
			return fmt.Errorf("value %d (row %d): %v vs %v", i, i/a.Cols, a.Data[i], b.Data[i])
		}
	}
	return nil
}

// ---- Encoder ----

// EncoderOptions tunes TestEncoder. Zero fields take the defaults noted.
type EncoderOptions struct {
	// NumDocs and NumLabels are the training-document and label counts;
	// 0 reads them from cfg.Dataset via core/data.
	NumDocs, NumLabels int
	// Batch is the TrainStep batch (default docs 0,1 with the first label
	// of each in the dataset, or labels 0,1).
	Batch *sdk.Batch
	// Tolerance for comparing embeddings across instances (default 1e-5).
	Tolerance float32
}

// TestEncoder checks an encoder against the contract.
func TestEncoder(t *testing.T, newFn func() sdk.Encoder, cfg sdk.Config, opts ...EncoderOptions) {
	testEncoder(t, func(t *testing.T, fn func(*testing.T, func() sdk.Encoder)) {
		modes(t, sdk.KindEncoder, newFn, fn)
	}, cfg, opts...)
}

// TestEncoderBinary runs TestEncoder's checks on the encoder name served by
// the plugin executable at path, in any language, one process per fresh
// instance.
func TestEncoderBinary(t *testing.T, path, name string, cfg sdk.Config, opts ...EncoderOptions) {
	testEncoder(t, func(t *testing.T, fn func(*testing.T, func() sdk.Encoder)) {
		t.Run("binary", func(t *testing.T) {
			fn(t, func() sdk.Encoder {
				e, ok := ConnectBinary(t, path, sdk.KindEncoder, name).(sdk.Encoder)
				if !ok {
					t.Fatalf("plugintest: %s does not serve an encoder", path)
				}
				return e
			})
		})
	}, cfg, opts...)
}

func testEncoder(t *testing.T, modes func(*testing.T, func(*testing.T, func() sdk.Encoder)), cfg sdk.Config, opts ...EncoderOptions) {
	var o EncoderOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Tolerance == 0 {
		o.Tolerance = 1e-5
	}
	if o.NumDocs == 0 || o.NumLabels == 0 {
		ds := loadDataset(t, cfg)
		o.NumDocs, o.NumLabels = ds.TrainY.NRows, ds.NumLabels
	}
	if o.Batch == nil {
		o.Batch = &sdk.Batch{Docs: []int32{0, 1}, Positives: []int32{0, int32(min(1, o.NumLabels-1))}}
	}
	ids := []int32{0, int32(min(1, o.NumDocs-1)), int32(o.NumDocs - 1)}
	modes(t, func(t *testing.T, fresh func() sdk.Encoder) {
		ctx := context.Background()
		t.Run("describe", func(t *testing.T) { checkDescribe(t, fresh(), sdk.KindEncoder) })
		t.Run("unknown_param", func(t *testing.T) { checkRejectsUnknown(t, fresh(), cfg) })
		t.Run("encode", func(t *testing.T) {
			e := fresh()
			configure(t, e, cfg)
			m := load(t, must(e.Encode(ctx, sdk.SplitTrain, ids))(t, "Encode train"), "Encode train")
			if m.Rows != len(ids) || m.Cols <= 0 {
				t.Fatalf("Encode train %v: shape %dx%d, want %d rows", ids, m.Rows, m.Cols, len(ids))
			}
			checkUnitRows(t, m, "Encode train")
			l := load(t, must(e.Encode(ctx, sdk.SplitLabels, nil))(t, "Encode labels"), "Encode labels")
			if l.Rows != o.NumLabels || l.Cols != m.Cols {
				t.Fatalf("Encode labels (all): shape %dx%d, want %dx%d", l.Rows, l.Cols, o.NumLabels, m.Cols)
			}
			checkUnitRows(t, l, "Encode labels")
			if mb, ok := any(e).(sdk.MemoryBanker); ok {
				bank, err := mb.MemoryBank(ctx)
				if err != nil && !errors.Is(err, sdk.ErrUnimplemented) {
					t.Errorf("MemoryBank: %v", err)
				}
				if err == nil && !bank.IsZero() && bank.Cols != m.Cols {
					t.Errorf("MemoryBank: %d columns, embeddings have %d", bank.Cols, m.Cols)
				}
			}
		})
		t.Run("determinism", func(t *testing.T) {
			a, b := fresh(), fresh()
			configure(t, a, cfg)
			configure(t, b, cfg)
			ma := load(t, must(a.Encode(ctx, sdk.SplitTrain, ids))(t, "Encode"), "Encode")
			mb := load(t, must(b.Encode(ctx, sdk.SplitTrain, ids))(t, "Encode"), "Encode")
			if err := sameMatrix(ma, mb, o.Tolerance); err != nil {
				t.Errorf("two instances with seed %d encode differently: %v", cfg.Seed, err)
			}
		})
		t.Run("train_save_load", func(t *testing.T) {
			a := fresh()
			configure(t, a, cfg)
			st, err := a.TrainStep(ctx, *o.Batch)
			if err != nil {
				t.Fatalf("TrainStep: %v", err)
			}
			if math.IsNaN(st.Loss) || math.IsInf(st.Loss, 0) {
				t.Errorf("TrainStep: loss %v", st.Loss)
			}
			dir := t.TempDir()
			if err := a.Save(ctx, dir); err != nil {
				t.Fatalf("Save: %v", err)
			}
			b := fresh()
			configure(t, b, cfg)
			if err := b.Load(ctx, dir); err != nil {
				t.Fatalf("Load: %v", err)
			}
			ma := load(t, must(a.Encode(ctx, sdk.SplitTrain, ids))(t, "Encode"), "Encode")
			mb := load(t, must(b.Encode(ctx, sdk.SplitTrain, ids))(t, "Encode"), "Encode")
			if err := sameMatrix(ma, mb, o.Tolerance); err != nil {
				t.Errorf("Save then Load into a fresh instance changed the embeddings: %v", err)
			}
		})
	})
}

// must turns (v, err) into v, failing the test on err.
func must[V any](v V, err error) func(t *testing.T, what string) V {
	return func(t *testing.T, what string) V {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
}

// ---- Sampler ----

// SamplerOptions tunes TestSampler.
type SamplerOptions struct {
	// TrainY is the training ground truth; nil reads cfg.Dataset.
	TrainY *sparse.CSR
	// BatchSize (default: an eighth of the labelled docs, at least 1),
	// Epochs (default 2) and Dim of the embeddings fed to Refresh (default 8).
	BatchSize, Epochs, Dim int
}

type epochRun struct {
	batches []sdk.Batch
}

// runEpochs drives a configured sampler through the runner's protocol.
func runEpochs(t *testing.T, s sdk.Sampler, y *sparse.CSR, o SamplerOptions) []epochRun {
	t.Helper()
	ctx := context.Background()
	var out []epochRun
	for epoch := range o.Epochs {
		plan, err := s.Plan(ctx, epoch)
		if err != nil {
			t.Fatalf("Plan(%d): %v", epoch, err)
		}
		if plan.Refresh {
			var docs, labels sdk.Matrix
			if plan.NeedDocs {
				docs = RandomUnit(y.NRows, o.Dim, uint64(2*epoch+1))
			}
			if plan.NeedLabels {
				labels = RandomUnit(y.NCols, o.Dim, uint64(2*epoch+2))
			}
			if _, err := s.Refresh(ctx, epoch, docs, labels); err != nil {
				t.Fatalf("Refresh(%d): %v", epoch, err)
			}
		}
		var run epochRun
		for b, err := range s.Batches(ctx, epoch, o.BatchSize) {
			if err != nil {
				t.Fatalf("Batches(%d) after %d batches: %v", epoch, len(run.batches), err)
			}
			run.batches = append(run.batches, b)
		}
		out = append(out, run)
	}
	return out
}

func checkBatch(t *testing.T, y *sparse.CSR, epoch, i int, b sdk.Batch) {
	t.Helper()
	where := fmt.Sprintf("epoch %d batch %d", epoch, i)
	if len(b.Docs) == 0 {
		t.Fatalf("%s: no docs", where)
	}
	if len(b.Positives) != len(b.Docs) {
		t.Fatalf("%s: %d docs but %d positives", where, len(b.Docs), len(b.Positives))
	}
	if b.Negatives != nil && len(b.Negatives) != len(b.Docs) {
		t.Fatalf("%s: %d docs but %d negative lists", where, len(b.Docs), len(b.Negatives))
	}
	for j, d := range b.Docs {
		if d < 0 || int(d) >= y.NRows {
			t.Fatalf("%s: doc %d out of range [0,%d)", where, d, y.NRows)
		}
		if !y.Has(int(d), b.Positives[j]) {
			t.Fatalf("%s: positive %d is not a label of doc %d", where, b.Positives[j], d)
		}
		if b.Negatives == nil {
			continue
		}
		for _, n := range b.Negatives[j] {
			if n < 0 || int(n) >= y.NCols {
				t.Fatalf("%s: negative %d of doc %d out of range [0,%d)", where, n, d, y.NCols)
			}
			if y.Has(int(d), n) {
				t.Fatalf("%s: negative %d is a positive of doc %d", where, n, d)
			}
		}
	}
}

// TestSampler checks a sampler against the contract.
func TestSampler(t *testing.T, newFn func() sdk.Sampler, cfg sdk.Config, o SamplerOptions) {
	testSampler(t, func(t *testing.T, fn func(*testing.T, func() sdk.Sampler)) {
		modes(t, sdk.KindSampler, newFn, fn)
	}, cfg, o)
}

// TestSamplerBinary runs TestSampler's checks on the sampler name served
// by the plugin executable at path, whatever language it is written in:
// every fresh instance is a new process speaking the real protocol.
func TestSamplerBinary(t *testing.T, path, name string, cfg sdk.Config, o SamplerOptions) {
	testSampler(t, func(t *testing.T, fn func(*testing.T, func() sdk.Sampler)) {
		t.Run("binary", func(t *testing.T) {
			fn(t, func() sdk.Sampler {
				s, ok := ConnectBinary(t, path, sdk.KindSampler, name).(sdk.Sampler)
				if !ok {
					t.Fatalf("plugintest: %s does not serve a sampler", path)
				}
				return s
			})
		})
	}, cfg, o)
}

func testSampler(t *testing.T, modes func(*testing.T, func(*testing.T, func() sdk.Sampler)), cfg sdk.Config, o SamplerOptions) {
	y := o.TrainY
	if y == nil {
		y = loadDataset(t, cfg).TrainY
	}
	labelled := 0
	for i := range y.NRows {
		if y.RowLen(i) > 0 {
			labelled++
		}
	}
	if labelled == 0 {
		t.Fatal("plugintest: TrainY has no labelled document")
	}
	if o.BatchSize <= 0 {
		o.BatchSize = max(1, labelled/8)
	}
	if o.Epochs <= 0 {
		o.Epochs = 2
	}
	if o.Dim <= 0 {
		o.Dim = 8
	}
	modes(t, func(t *testing.T, fresh func() sdk.Sampler) {
		var info sdk.Info
		t.Run("describe", func(t *testing.T) { info = checkDescribe(t, fresh(), sdk.KindSampler) })
		t.Run("unknown_param", func(t *testing.T) { checkRejectsUnknown(t, fresh(), cfg) })
		t.Run("batches", func(t *testing.T) {
			s := fresh()
			configure(t, s, cfg)
			runs := runEpochs(t, s, y, o)
			for e, run := range runs {
				if len(run.batches) == 0 {
					t.Fatalf("epoch %d: no batches", e)
				}
				seen := make(map[int32]int)
				for i, b := range run.batches {
					checkBatch(t, y, e, i, b)
					for _, d := range b.Docs {
						seen[d]++
					}
				}
				if !slices.Contains(info.Capabilities, "covers-epoch") {
					continue
				}
				for d := range y.NRows {
					want := min(1, y.RowLen(d))
					if seen[int32(d)] != want {
						t.Fatalf("covers-epoch: epoch %d yields doc %d (%d labels) %d times, want %d",
							e, d, y.RowLen(d), seen[int32(d)], want)
					}
				}
			}
		})
		t.Run("determinism", func(t *testing.T) {
			a, b := fresh(), fresh()
			configure(t, a, cfg)
			configure(t, b, cfg)
			ra, rb := runEpochs(t, a, y, o), runEpochs(t, b, y, o)
			for e := range ra {
				if len(ra[e].batches) != len(rb[e].batches) {
					t.Fatalf("epoch %d: %d vs %d batches with the same seed", e, len(ra[e].batches), len(rb[e].batches))
				}
				for i := range ra[e].batches {
					if !sameBatch(ra[e].batches[i], rb[e].batches[i]) {
						t.Fatalf("epoch %d batch %d differs between two instances with seed %d", e, i, cfg.Seed)
					}
				}
			}
		})
		t.Run("cancel", func(t *testing.T) {
			s := fresh()
			configure(t, s, cfg)
			full := runEpochs(t, s, y, SamplerOptions{BatchSize: o.BatchSize, Epochs: 1, Dim: o.Dim})
			total := len(full[0].batches)
			if total < 4 {
				t.Skipf("only %d batches per epoch; need 4 to see cancellation", total)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			got, sawErr := 0, false
			for _, err := range s.Batches(ctx, 0, o.BatchSize) {
				if err != nil {
					sawErr = true
					break
				}
				got++
				if got == 1 {
					cancel()
				}
			}
			if !sawErr && got >= total {
				t.Fatalf("after ctx cancel at batch 1 the sampler yielded all %d batches without error", total)
			}
			if got > 3 {
				t.Errorf("after ctx cancel at batch 1 the sampler still yielded %d batches", got)
			}
		})
	})
}

func sameBatch(a, b sdk.Batch) bool {
	if !slices.Equal(a.Docs, b.Docs) || !slices.Equal(a.Positives, b.Positives) || len(a.Negatives) != len(b.Negatives) {
		return false
	}
	for i := range a.Negatives {
		if !slices.Equal(a.Negatives[i], b.Negatives[i]) {
			return false
		}
	}
	return true
}

// ---- Classifier ----

// ClassifierOptions tunes TestClassifier. Sizes left 0 come from
// cfg.Dataset; matrices left zero are random unit rows of Dim columns.
type ClassifierOptions struct {
	NumTrain, NumTest, NumLabels int
	Dim, K                       int // defaults 8 and 5
	TrainDocs, Labels, TestDocs  sdk.Matrix
}

// TestClassifier checks a classifier against the contract.
func TestClassifier(t *testing.T, newFn func() sdk.Classifier, cfg sdk.Config, opts ...ClassifierOptions) {
	testClassifier(t, func(t *testing.T, fn func(*testing.T, func() sdk.Classifier)) {
		modes(t, sdk.KindClassifier, newFn, fn)
	}, cfg, opts...)
}

// TestClassifierBinary runs TestClassifier's checks on the classifier name
// served by the plugin executable at path, in any language, one process
// per fresh instance.
func TestClassifierBinary(t *testing.T, path, name string, cfg sdk.Config, opts ...ClassifierOptions) {
	testClassifier(t, func(t *testing.T, fn func(*testing.T, func() sdk.Classifier)) {
		t.Run("binary", func(t *testing.T) {
			fn(t, func() sdk.Classifier {
				c, ok := ConnectBinary(t, path, sdk.KindClassifier, name).(sdk.Classifier)
				if !ok {
					t.Fatalf("plugintest: %s does not serve a classifier", path)
				}
				return c
			})
		})
	}, cfg, opts...)
}

func testClassifier(t *testing.T, modes func(*testing.T, func(*testing.T, func() sdk.Classifier)), cfg sdk.Config, opts ...ClassifierOptions) {
	var o ClassifierOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Dim == 0 {
		o.Dim = 8
	}
	if o.K == 0 {
		o.K = 5
	}
	if (o.TrainDocs.IsZero() && o.NumTrain == 0) || (o.Labels.IsZero() && o.NumLabels == 0) || (o.TestDocs.IsZero() && o.NumTest == 0) {
		ds := loadDataset(t, cfg)
		o.NumTrain, o.NumTest, o.NumLabels = ds.TrainY.NRows, ds.TestY.NRows, ds.NumLabels
	}
	if o.TrainDocs.IsZero() {
		o.TrainDocs = RandomUnit(o.NumTrain, o.Dim, 11)
	}
	if o.Labels.IsZero() {
		o.Labels = RandomUnit(o.NumLabels, o.Dim, 12)
	}
	if o.TestDocs.IsZero() {
		o.TestDocs = RandomUnit(o.NumTest, o.Dim, 13)
	}
	ctx := context.Background()
	modes(t, func(t *testing.T, fresh func() sdk.Classifier) {
		t.Run("describe", func(t *testing.T) { checkDescribe(t, fresh(), sdk.KindClassifier) })
		t.Run("unknown_param", func(t *testing.T) { checkRejectsUnknown(t, fresh(), cfg) })
		t.Run("predict", func(t *testing.T) {
			var tops [2]sdk.TopK
			for i := range tops {
				c := fresh()
				configure(t, c, cfg)
				if _, err := c.Train(ctx, sdk.TrainInput{TrainDocs: o.TrainDocs, Labels: o.Labels, Epochs: 1}); err != nil {
					t.Fatalf("Train: %v", err)
				}
				top, err := c.Predict(ctx, sdk.SplitTest, o.TestDocs, o.K)
				if err != nil {
					t.Fatalf("Predict: %v", err)
				}
				if top.Rows != o.TestDocs.Rows || top.K != o.K || len(top.Labels) != top.Rows*top.K || len(top.Scores) != top.Rows*top.K {
					t.Fatalf("Predict: %d rows, k=%d, %d labels, %d scores; want %d rows, k=%d",
						top.Rows, top.K, len(top.Labels), len(top.Scores), o.TestDocs.Rows, o.K)
				}
				for r := range top.Rows {
					labs, scores := top.Row(r)
					seen := map[int32]bool{}
					for j, l := range labs {
						if l == -1 {
							continue
						}
						if l < -1 || int(l) >= o.Labels.Rows || seen[l] {
							t.Fatalf("Predict row %d: label %d out of range or repeated", r, l)
						}
						seen[l] = true
						if j > 0 && labs[j-1] != -1 && scores[j] > scores[j-1] {
							t.Fatalf("Predict row %d: scores not best first: %v", r, scores)
						}
					}
				}
				tops[i] = top
			}
			if !slices.Equal(tops[0].Labels, tops[1].Labels) {
				t.Errorf("two instances with seed %d predict different labels", cfg.Seed)
			}
		})
	})
}
