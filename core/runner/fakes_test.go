package runner

// Small deterministic components registered for the runner's tests: a toy
// encoder whose training pulls documents toward their labels, a sampler
// whose negatives depend on the embeddings it was last refreshed with (so
// resume must replay the refresh exactly), and a brute-force kNN
// classifier. They exercise the runner, not learning.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"sync/atomic"
	"time"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/core/npy"
	"github.com/xcbench/xcbench/core/sparse"
	"github.com/xcbench/xcbench/plugins/registry"
	"github.com/xcbench/xcbench/plugins/sdk"
)

const (
	fakeLabels = 12
	fakeTrain  = 48
	fakeTest   = 24
	fakeDim    = 8
)

// fakeDataset: doc i has label i%fakeLabels (train) and the same rule on test.
func fakeDataset() *data.Dataset {
	rows := func(n int) *sparse.CSR {
		r := make([][]int32, n)
		for i := range r {
			r[i] = []int32{int32(i % fakeLabels)}
		}
		m, err := sparse.FromRows(fakeLabels, r)
		if err != nil {
			panic(err)
		}
		return m
	}
	return &data.Dataset{Name: "fake", Format: "synthetic", NumLabels: fakeLabels,
		TrainY: rows(fakeTrain), TestY: rows(fakeTest), PropA: 0.55, PropB: 1.5}
}

func fakeData(context.Context, string, json.RawMessage) (*data.Dataset, error) {
	return fakeDataset(), nil
}

// fakeScore computes P@k only; the real scorer is core/metrics.
func fakeScore(pred sdk.TopK, ds *data.Dataset, rows int, ks []int) (map[string]float64, error) {
	out := map[string]float64{}
	for _, k := range ks {
		hit := 0
		for i := range rows {
			labels, _ := pred.Row(i)
			for _, l := range labels[:min(k, len(labels))] {
				if l >= 0 && ds.TestY.Has(i, l) {
					hit++
				}
			}
		}
		out[fmt.Sprintf("P@%d", k)] = float64(hit) / float64(rows*k)
	}
	return out, nil
}

func randUnit(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	normalize(v)
	return v
}

func normalize(v []float32) {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	n := float32(math.Sqrt(s))
	if n == 0 {
		return
	}
	for i := range v {
		v[i] /= n
	}
}

func dot(a, b []float32) float32 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func loadM(m sdk.Matrix) ([]float32, error) {
	if m.Path == "" {
		return m.Data, nil
	}
	d, _, err := npy.Read[float32](m.Path)
	return d, err
}

type fakeParams struct {
	LR        float64 `json:"lr"`
	PanicAt   int     `json:"panic_at"`   // panic on this step (0 = never)
	FailAt    int     `json:"fail_at"`    // return ErrPluginCrashed on this step
	StepSleep int     `json:"step_sleep"` // milliseconds per step, to give kill tests a window
}

func decodeFake(raw json.RawMessage, p any) error {
	if len(raw) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(p); err != nil {
		return fmt.Errorf("%w: %w", sdk.ErrInvalidConfig, err)
	}
	return nil
}

type fakeEncoder struct {
	p        fakeParams
	scratch  string
	labels   [][]float32 // fixed label embeddings
	train    [][]float32 // trainable doc embeddings
	testInit [][]float32
	steps    int
	encodes  atomic.Int64
}

func (e *fakeEncoder) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{Name: "fake-enc", Kind: sdk.KindEncoder, Version: "0.0.1", APIVersions: []int{1},
		ConfigSchema: json.RawMessage(`{"lr":{"type":"float","default":0.3,"doc":"pull"},"batch_size":{"type":"int"},"panic_at":{"type":"int"},"fail_at":{"type":"int"},"step_sleep":{"type":"int"}}`)}, nil
}

func (e *fakeEncoder) Configure(_ context.Context, c sdk.Config) error {
	e.p = fakeParams{LR: 0.3}
	var withBS struct {
		fakeParams
		BatchSize int `json:"batch_size"`
	}
	withBS.fakeParams = e.p
	if err := decodeFake(c.Params, &withBS); err != nil {
		return err
	}
	if withBS.BatchSize <= 0 {
		return fmt.Errorf("%w: batch_size was not injected", sdk.ErrInvalidConfig)
	}
	e.p = withBS.fakeParams
	e.scratch = c.ScratchDir
	r := rand.New(rand.NewPCG(c.Seed, 1))
	e.labels, e.train, e.testInit = nil, nil, nil
	for range fakeLabels {
		e.labels = append(e.labels, randUnit(r, fakeDim))
	}
	for range fakeTrain {
		e.train = append(e.train, randUnit(r, fakeDim))
	}
	for range fakeTest {
		e.testInit = append(e.testInit, randUnit(r, fakeDim))
	}
	return nil
}

func (e *fakeEncoder) TrainStep(ctx context.Context, b sdk.Batch) (sdk.StepStats, error) {
	e.steps++
	if e.p.StepSleep > 0 {
		time.Sleep(time.Duration(e.p.StepSleep) * time.Millisecond)
	}
	if e.p.PanicAt > 0 && e.steps == e.p.PanicAt {
		panic("fake encoder exploded")
	}
	if e.p.FailAt > 0 && e.steps == e.p.FailAt {
		return sdk.StepStats{}, fmt.Errorf("fake-enc TrainStep: %w", sdk.ErrPluginCrashed)
	}
	var loss, hard float64
	for i, d := range b.Docs {
		v := e.train[d]
		pos := e.labels[b.Positives[i]]
		loss += 1 - float64(dot(v, pos))
		for j := range v {
			v[j] += float32(e.p.LR) * pos[j]
		}
		for _, n := range b.Negatives[i] {
			neg := e.labels[n]
			hard += float64(dot(v, neg))
			for j := range v {
				v[j] -= float32(e.p.LR/4) * neg[j]
			}
		}
		normalize(v)
	}
	return sdk.StepStats{Loss: loss / float64(len(b.Docs)), Hardness: hard / float64(len(b.Docs)), Items: len(b.Docs)}, nil
}

// testVec: test documents drift toward their label as training proceeds,
// at a rate set by how well the training docs of that label fit.
func (e *fakeEncoder) testVec(i int) []float32 {
	l := i % fakeLabels
	var fit float32
	n := 0
	for d := l; d < fakeTrain; d += fakeLabels {
		fit += dot(e.train[d], e.labels[l])
		n++
	}
	fit /= float32(n)
	v := append([]float32(nil), e.testInit[i]...)
	for j := range v {
		v[j] += 2 * fit * e.labels[l][j]
	}
	normalize(v)
	return v
}

func (e *fakeEncoder) Encode(_ context.Context, split sdk.Split, ids []int32) (sdk.Matrix, error) {
	var rows [][]float32
	switch split {
	case sdk.SplitTrain:
		rows = e.train
	case sdk.SplitLabels:
		rows = e.labels
	case sdk.SplitTest:
		for i := range fakeTest {
			rows = append(rows, e.testVec(i))
		}
	}
	if ids != nil {
		sel := make([][]float32, len(ids))
		for i, id := range ids {
			sel[i] = rows[id]
		}
		rows = sel
	}
	flat := make([]float32, 0, len(rows)*fakeDim)
	for _, r := range rows {
		flat = append(flat, r...)
	}
	// Files are reused across calls, as a real encoder's scratch would be.
	path := filepath.Join(e.scratch, string(split)+".npy")
	if err := npy.Write(path, []int{len(rows), fakeDim}, flat); err != nil {
		return sdk.Matrix{}, err
	}
	e.encodes.Add(1)
	return sdk.Matrix{Rows: len(rows), Cols: fakeDim, Path: path}, nil
}

func (e *fakeEncoder) Save(_ context.Context, dir string) error {
	b, _ := json.Marshal(map[string]any{"train": e.train, "steps": e.steps})
	return os.WriteFile(filepath.Join(dir, "fake.json"), b, 0o644)
}

func (e *fakeEncoder) Load(_ context.Context, dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "fake.json"))
	if err != nil {
		return err
	}
	var s struct {
		Train [][]float32
		Steps int
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	e.train, e.steps = s.Train, s.Steps
	return nil
}

type fakeSampler struct {
	seed   uint64
	labels []float32 // from the last refresh
}

func (s *fakeSampler) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{Name: "fake-smp", Kind: sdk.KindSampler, Version: "0.0.1", APIVersions: []int{1}}, nil
}

func (s *fakeSampler) Configure(_ context.Context, c sdk.Config) error {
	s.seed = c.Seed
	return decodeFake(c.Params, &struct{}{})
}

// Plan refreshes every other epoch so resume has to replay a refresh.
func (s *fakeSampler) Plan(_ context.Context, epoch int) (sdk.RefreshPlan, error) {
	return sdk.RefreshPlan{Refresh: epoch%2 == 0, NeedDocs: true, NeedLabels: true, DocSource: "fresh"}, nil
}

func (s *fakeSampler) Refresh(_ context.Context, epoch int, docs, labels sdk.Matrix) (sdk.RefreshStats, error) {
	if docs.Rows != fakeTrain || labels.Rows != fakeLabels {
		return sdk.RefreshStats{}, fmt.Errorf("refresh %d: got %dx%d docs, %dx%d labels", epoch, docs.Rows, docs.Cols, labels.Rows, labels.Cols)
	}
	l, err := loadM(labels)
	if err != nil {
		return sdk.RefreshStats{}, err
	}
	s.labels = append([]float32(nil), l...)
	return sdk.RefreshStats{Hardness: float64(s.labels[0])}, nil
}

func (s *fakeSampler) Batches(ctx context.Context, epoch, batchSize int) iter.Seq2[sdk.Batch, error] {
	return func(yield func(sdk.Batch, error) bool) {
		if s.labels == nil {
			yield(sdk.Batch{}, errors.New("fake-smp: batches before any refresh"))
			return
		}
		r := rand.New(rand.NewPCG(s.seed, uint64(epoch)))
		perm := r.Perm(fakeTrain)
		for lo := 0; lo < fakeTrain; lo += batchSize {
			var b sdk.Batch
			for _, d := range perm[lo:min(lo+batchSize, fakeTrain)] {
				pos := int32(d % fakeLabels)
				b.Docs = append(b.Docs, int32(d))
				b.Positives = append(b.Positives, pos)
				b.Negatives = append(b.Negatives, []int32{s.hardest(pos)})
			}
			if ctx.Err() != nil {
				yield(sdk.Batch{}, ctx.Err())
				return
			}
			if !yield(b, nil) {
				return
			}
		}
	}
}

// hardest is the label most similar to pos under the refreshed embeddings.
func (s *fakeSampler) hardest(pos int32) int32 {
	best, bestS := int32(-1), float32(-2)
	p := s.labels[int(pos)*fakeDim : int(pos+1)*fakeDim]
	for l := range int32(fakeLabels) {
		if l == pos {
			continue
		}
		if d := dot(p, s.labels[int(l)*fakeDim:int(l+1)*fakeDim]); d > bestS {
			best, bestS = l, d
		}
	}
	return best
}

type fakeKNN struct {
	labels []float32
	n      int
}

func (c *fakeKNN) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{Name: "fake-knn", Kind: sdk.KindClassifier, Version: "0.0.1", APIVersions: []int{1}}, nil
}
func (c *fakeKNN) Configure(_ context.Context, cf sdk.Config) error {
	return decodeFake(cf.Params, &struct{}{})
}
func (c *fakeKNN) Train(_ context.Context, in sdk.TrainInput) (sdk.TrainStats, error) {
	l, err := loadM(in.Labels)
	if err != nil {
		return sdk.TrainStats{}, err
	}
	c.labels, c.n = append([]float32(nil), l...), in.Labels.Rows
	return sdk.TrainStats{}, nil
}
func (c *fakeKNN) Predict(_ context.Context, _ sdk.Split, docs sdk.Matrix, k int) (sdk.TopK, error) {
	d, err := loadM(docs)
	if err != nil {
		return sdk.TopK{}, err
	}
	out := sdk.TopK{Rows: docs.Rows, K: k}
	for i := range docs.Rows {
		q := d[i*docs.Cols : (i+1)*docs.Cols]
		idx := make([]int32, c.n)
		sc := make([]float32, c.n)
		for l := range c.n {
			idx[l], sc[l] = int32(l), dot(q, c.labels[l*docs.Cols:(l+1)*docs.Cols])
		}
		sort.SliceStable(idx, func(a, b int) bool { return sc[idx[a]] > sc[idx[b]] })
		for j := range k {
			out.Labels = append(out.Labels, idx[j])
			out.Scores = append(out.Scores, sc[idx[j]])
		}
	}
	return out, nil
}

func init() {
	registry.Register(sdk.KindEncoder, "fake-enc", func() sdk.Plugin { return &fakeEncoder{} })
	registry.Register(sdk.KindSampler, "fake-smp", func() sdk.Plugin { return &fakeSampler{} })
	registry.Register(sdk.KindClassifier, "fake-knn", func() sdk.Plugin { return &fakeKNN{} })
}
