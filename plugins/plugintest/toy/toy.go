package toy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"iter"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"time"

	"github.com/xcbench/xcbench/core/npy"
	"github.com/xcbench/xcbench/core/sparse"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// Version is the toy components' version.
const Version = "1.0.0"

// Shape is the synthetic problem every toy component agrees on.
type Shape struct {
	NumDocs   int `json:"num_docs"`
	NumTest   int `json:"num_test"`
	NumLabels int `json:"num_labels"`
}

var defaultShape = Shape{NumDocs: 60, NumTest: 12, NumLabels: 24}

const shapeSchema = `"num_docs":{"type":"int","default":60,"doc":"training documents"},` +
	`"num_test":{"type":"int","default":12,"doc":"test documents"},` +
	`"num_labels":{"type":"int","default":24,"doc":"labels"}`

// TrainY is the toy ground truth: doc i has labels i%L and (3i+1)%L, except
// every fifth doc (i%5 == 4), which has none.
func TrainY(numDocs, numLabels int) *sparse.CSR {
	rows := make([][]int32, numDocs)
	for i := range rows {
		if i%5 == 4 {
			continue
		}
		a, b := int32(i%numLabels), int32((3*i+1)%numLabels)
		rows[i] = []int32{a}
		if b != a {
			rows[i] = append(rows[i], b)
		}
		slices.Sort(rows[i])
	}
	m, err := sparse.FromRows(numLabels, rows)
	if err != nil {
		panic(err) // unreachable: ids are in range by construction
	}
	return m
}

// decodeParams fills dst (holding defaults) from raw, rejecting unknown keys.
func decodeParams(name string, raw json.RawMessage, dst any) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return fmt.Errorf("toy %s: params: %v: %w", name, err, sdk.ErrInvalidConfig)
	}
	return nil
}

func checkShape(name string, s Shape) error {
	if s.NumDocs <= 0 || s.NumTest < 0 || s.NumLabels <= 0 {
		return fmt.Errorf("toy %s: params: num_docs, num_labels must be > 0 and num_test >= 0, got %+v: %w", name, s, sdk.ErrInvalidConfig)
	}
	return nil
}

// baseVector is item (split, id)'s fixed pseudo-random direction.
func baseVector(split sdk.Split, id int32, dim int) []float32 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%d", split, id)
	r := rand.New(rand.NewPCG(h.Sum64(), 0x70)) // #nosec: not crypto
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

func normalise(v []float32) {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 {
		return
	}
	inv := float32(1 / math.Sqrt(s))
	for i := range v {
		v[i] *= inv
	}
}

func dot(a, b []float32) float32 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// ---- Encoder ----

// Encoder embeds item (split, id) as normalise(P · base(split, id)); P
// starts near the identity (perturbed by the seed) and TrainStep pulls each
// doc's projection towards its positive label's.
type Encoder struct {
	p     encoderParams
	proj  []float32 // dim x dim, row-major
	ready bool
}

type encoderParams struct {
	Shape
	Dim int     `json:"dim"`
	LR  float32 `json:"lr"`
}

// NewEncoder returns an unconfigured toy encoder.
func NewEncoder() sdk.Plugin { return &Encoder{} }

func (e *Encoder) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{
		Name: "toy", Kind: sdk.KindEncoder, Version: Version, APIVersions: []int{sdk.APIVersion},
		ConfigSchema: json.RawMessage(`{` + shapeSchema + `,` +
			`"dim":{"type":"int","default":16,"doc":"embedding dimension"},` +
			`"lr":{"type":"float","default":0.1,"doc":"step size of TrainStep"}}`),
	}, nil
}

func (e *Encoder) Configure(ctx context.Context, c sdk.Config) error {
	p := encoderParams{Shape: defaultShape, Dim: 16, LR: 0.1}
	if err := decodeParams("encoder", c.Params, &p); err != nil {
		return err
	}
	if err := checkShape("encoder", p.Shape); err != nil {
		return err
	}
	if p.Dim <= 0 {
		return fmt.Errorf("toy encoder: params: dim %d must be > 0: %w", p.Dim, sdk.ErrInvalidConfig)
	}
	r := rand.New(rand.NewPCG(c.Seed, 1))
	e.proj = make([]float32, p.Dim*p.Dim)
	for i := range e.proj {
		e.proj[i] = 0.1 * float32(r.NormFloat64())
		if i%(p.Dim+1) == 0 {
			e.proj[i]++
		}
	}
	e.p, e.ready = p, true
	return nil
}

func (e *Encoder) count(split sdk.Split) (int, error) {
	switch split {
	case sdk.SplitTrain:
		return e.p.NumDocs, nil
	case sdk.SplitTest:
		return e.p.NumTest, nil
	case sdk.SplitLabels:
		return e.p.NumLabels, nil
	}
	return 0, fmt.Errorf("toy encoder: unknown split %q", split)
}

func (e *Encoder) embed(split sdk.Split, id int32, out []float32) {
	b := baseVector(split, id, e.p.Dim)
	for i := range out {
		out[i] = dot(e.proj[i*e.p.Dim:(i+1)*e.p.Dim], b)
	}
	normalise(out)
}

func (e *Encoder) Encode(ctx context.Context, split sdk.Split, ids []int32) (sdk.Matrix, error) {
	if !e.ready {
		return sdk.Matrix{}, sdk.ErrNotConfigured
	}
	n, err := e.count(split)
	if err != nil {
		return sdk.Matrix{}, err
	}
	if ids == nil {
		ids = make([]int32, n)
		for i := range ids {
			ids[i] = int32(i)
		}
	}
	m := sdk.Matrix{Rows: len(ids), Cols: e.p.Dim, Data: make([]float32, len(ids)*e.p.Dim)}
	for r, id := range ids {
		if id < 0 || int(id) >= n {
			return sdk.Matrix{}, fmt.Errorf("toy encoder: %s id %d out of range [0,%d)", split, id, n)
		}
		if r%256 == 0 && ctx.Err() != nil {
			return sdk.Matrix{}, ctx.Err()
		}
		e.embed(split, id, m.Row(r))
	}
	return m, nil
}

func (e *Encoder) TrainStep(ctx context.Context, b sdk.Batch) (sdk.StepStats, error) {
	if !e.ready {
		return sdk.StepStats{}, sdk.ErrNotConfigured
	}
	if len(b.Positives) != len(b.Docs) {
		return sdk.StepStats{}, fmt.Errorf("toy encoder: batch has %d docs and %d positives", len(b.Docs), len(b.Positives))
	}
	d := e.p.Dim
	de, le := make([]float32, d), make([]float32, d)
	var loss float64
	for i, doc := range b.Docs {
		if doc < 0 || int(doc) >= e.p.NumDocs || b.Positives[i] < 0 || int(b.Positives[i]) >= e.p.NumLabels {
			return sdk.StepStats{}, fmt.Errorf("toy encoder: batch item %d (doc %d, label %d) out of range", i, doc, b.Positives[i])
		}
		e.embed(sdk.SplitTrain, doc, de)
		e.embed(sdk.SplitLabels, b.Positives[i], le)
		loss += float64(1 - dot(de, le))
		db := baseVector(sdk.SplitTrain, doc, d)
		for r := 0; r < d; r++ {
			g := e.p.LR * (le[r] - de[r]) / float32(len(b.Docs))
			for c := 0; c < d; c++ {
				e.proj[r*d+c] += g * db[c]
			}
		}
	}
	if len(b.Docs) > 0 {
		loss /= float64(len(b.Docs))
	}
	return sdk.StepStats{Loss: loss, Items: 2 * len(b.Docs)}, nil
}

func (e *Encoder) Save(ctx context.Context, dir string) error {
	if !e.ready {
		return sdk.ErrNotConfigured
	}
	return npy.Write(filepath.Join(dir, "toy-encoder.npy"), []int{e.p.Dim, e.p.Dim}, e.proj)
}

func (e *Encoder) Load(ctx context.Context, dir string) error {
	if !e.ready {
		return sdk.ErrNotConfigured
	}
	data, shape, err := npy.Read[float32](filepath.Join(dir, "toy-encoder.npy"))
	if err != nil {
		return fmt.Errorf("toy encoder: load: %w", err)
	}
	if len(shape) != 2 || shape[0] != e.p.Dim || shape[1] != e.p.Dim {
		return fmt.Errorf("toy encoder: load: checkpoint shape %v, configured dim %d", shape, e.p.Dim)
	}
	e.proj = data
	return nil
}

// ---- Sampler ----

// Sampler shuffles the docs that have labels (seeded by seed and epoch),
// picks one positive per doc and, optionally, uniform random negatives.
type Sampler struct {
	p      samplerParams
	y      *sparse.CSR
	seed   uint64
	docs   int
	labels int
	ready  bool
}

type samplerParams struct {
	Shape
	Negatives int `json:"negatives"`
}

// NewSampler returns an unconfigured toy sampler.
func NewSampler() sdk.Plugin { return &Sampler{} }

func (s *Sampler) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{
		Name: "toy", Kind: sdk.KindSampler, Version: Version, APIVersions: []int{sdk.APIVersion},
		Capabilities: []string{"covers-epoch"},
		ConfigSchema: json.RawMessage(`{` + shapeSchema + `,` +
			`"negatives":{"type":"int","default":0,"doc":"explicit uniform negatives per doc (0 = in-batch only)"}}`),
	}, nil
}

func (s *Sampler) Configure(ctx context.Context, c sdk.Config) error {
	p := samplerParams{Shape: defaultShape}
	if err := decodeParams("sampler", c.Params, &p); err != nil {
		return err
	}
	if err := checkShape("sampler", p.Shape); err != nil {
		return err
	}
	if p.Negatives < 0 || p.Negatives >= p.NumLabels-2 {
		return fmt.Errorf("toy sampler: params: negatives %d outside [0,%d): %w", p.Negatives, p.NumLabels-2, sdk.ErrInvalidConfig)
	}
	s.p, s.seed, s.y, s.ready = p, c.Seed, TrainY(p.NumDocs, p.NumLabels), true
	return nil
}

func (s *Sampler) Plan(ctx context.Context, epoch int) (sdk.RefreshPlan, error) {
	if !s.ready {
		return sdk.RefreshPlan{}, sdk.ErrNotConfigured
	}
	return sdk.RefreshPlan{Refresh: true, NeedDocs: true, NeedLabels: true, DocSource: "fresh"}, nil
}

// Refresh only checks the shapes: the toy sampler's choices ignore them.
func (s *Sampler) Refresh(ctx context.Context, epoch int, docs, labels sdk.Matrix) (sdk.RefreshStats, error) {
	start := time.Now()
	if !s.ready {
		return sdk.RefreshStats{}, sdk.ErrNotConfigured
	}
	if docs.Rows != s.p.NumDocs || labels.Rows != s.p.NumLabels {
		return sdk.RefreshStats{}, fmt.Errorf("toy sampler: refresh got %d docs and %d labels, want %d and %d",
			docs.Rows, labels.Rows, s.p.NumDocs, s.p.NumLabels)
	}
	s.docs, s.labels = docs.Rows, labels.Rows
	return sdk.RefreshStats{Wall: time.Since(start), Detail: map[string]float64{"docs": float64(docs.Rows)}}, nil
}

func (s *Sampler) Batches(ctx context.Context, epoch, batchSize int) iter.Seq2[sdk.Batch, error] {
	return func(yield func(sdk.Batch, error) bool) {
		if !s.ready {
			yield(sdk.Batch{}, sdk.ErrNotConfigured)
			return
		}
		if batchSize <= 0 {
			yield(sdk.Batch{}, fmt.Errorf("toy sampler: batch size %d must be > 0", batchSize))
			return
		}
		r := rand.New(rand.NewPCG(s.seed, uint64(epoch)+1))
		var docs []int32
		for i := 0; i < s.y.NRows; i++ {
			if s.y.RowLen(i) > 0 {
				docs = append(docs, int32(i))
			}
		}
		r.Shuffle(len(docs), func(i, j int) { docs[i], docs[j] = docs[j], docs[i] })
		for lo := 0; lo < len(docs); lo += batchSize {
			if err := ctx.Err(); err != nil {
				yield(sdk.Batch{}, err)
				return
			}
			b := sdk.Batch{Docs: docs[lo:min(lo+batchSize, len(docs))]}
			for _, d := range b.Docs {
				pos, _ := s.y.Row(int(d))
				b.Positives = append(b.Positives, pos[r.IntN(len(pos))])
				if s.p.Negatives > 0 {
					var neg []int32
					for len(neg) < s.p.Negatives {
						l := int32(r.IntN(s.p.NumLabels))
						if !s.y.Has(int(d), l) && !slices.Contains(neg, l) {
							neg = append(neg, l)
						}
					}
					b.Negatives = append(b.Negatives, neg)
				}
			}
			if !yield(b, nil) {
				return
			}
		}
	}
}

// ---- Classifier ----

// Classifier ranks labels by inner product with the label embeddings it was
// trained on.
type Classifier struct {
	labels sdk.Matrix
	ready  bool
}

// NewClassifier returns an unconfigured toy classifier.
func NewClassifier() sdk.Plugin { return &Classifier{} }

func (c *Classifier) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{
		Name: "toy", Kind: sdk.KindClassifier, Version: Version, APIVersions: []int{sdk.APIVersion},
		ConfigSchema: json.RawMessage(`{}`),
	}, nil
}

func (c *Classifier) Configure(ctx context.Context, cfg sdk.Config) error {
	var p struct{}
	if err := decodeParams("classifier", cfg.Params, &p); err != nil {
		return err
	}
	c.ready = true
	return nil
}

func (c *Classifier) Train(ctx context.Context, in sdk.TrainInput) (sdk.TrainStats, error) {
	start := time.Now()
	if !c.ready {
		return sdk.TrainStats{}, sdk.ErrNotConfigured
	}
	labels, err := sdk.LoadMatrix(in.Labels)
	if err != nil {
		return sdk.TrainStats{}, err
	}
	if labels.Rows == 0 {
		return sdk.TrainStats{}, fmt.Errorf("toy classifier: train: no label embeddings")
	}
	c.labels = labels
	return sdk.TrainStats{Wall: time.Since(start)}, nil
}

func (c *Classifier) Predict(ctx context.Context, split sdk.Split, docs sdk.Matrix, k int) (sdk.TopK, error) {
	if c.labels.Rows == 0 {
		return sdk.TopK{}, fmt.Errorf("toy classifier: predict before train: %w", sdk.ErrNotConfigured)
	}
	docs, err := sdk.LoadMatrix(docs)
	if err != nil {
		return sdk.TopK{}, err
	}
	if docs.Cols != c.labels.Cols {
		return sdk.TopK{}, fmt.Errorf("toy classifier: docs have %d columns, labels %d", docs.Cols, c.labels.Cols)
	}
	out := sdk.TopK{Rows: docs.Rows, K: k, Labels: make([]int32, docs.Rows*k), Scores: make([]float32, docs.Rows*k)}
	idx := make([]int32, c.labels.Rows)
	sc := make([]float32, c.labels.Rows)
	for r := 0; r < docs.Rows; r++ {
		if r%256 == 0 && ctx.Err() != nil {
			return sdk.TopK{}, ctx.Err()
		}
		for l := range idx {
			idx[l], sc[l] = int32(l), dot(docs.Row(r), c.labels.Row(l))
		}
		slices.SortStableFunc(idx, func(a, b int32) int {
			if sc[a] != sc[b] {
				if sc[a] > sc[b] {
					return -1
				}
				return 1
			}
			return int(a - b)
		})
		lab, s := out.Labels[r*k:(r+1)*k], out.Scores[r*k:(r+1)*k]
		for j := range k {
			if j < len(idx) {
				lab[j], s[j] = idx[j], sc[idx[j]]
			} else {
				lab[j], s[j] = -1, float32(math.Inf(-1))
			}
		}
	}
	return out, nil
}
