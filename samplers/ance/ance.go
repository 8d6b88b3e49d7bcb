package ance

import (
	"context"
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/xcbench/xcbench/core/ann"
	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/plugins/registry"
	"github.com/xcbench/xcbench/plugins/sdk"
	"github.com/xcbench/xcbench/samplers/batching"
)

// Version is reported by Describe.
const Version = "1.0.0"

func init() {
	registry.Register(sdk.KindSampler, "ance", func() sdk.Plugin { return New() })
}

// Params are the sampler's settings.
type Params struct {
	Negatives       int    `json:"negatives"`
	Depth           int    `json:"depth"`
	Pick            string `json:"pick"`
	RefreshInterval int    `json:"refresh_interval"`
	RefreshStart    int    `json:"refresh_start"`
	Stale           bool   `json:"stale"`
	Index           string `json:"index"`
	M               int    `json:"m"`
	EfConstruction  int    `json:"ef_construction"`
	EfSearch        int    `json:"ef_search"`
	Threads         int    `json:"threads"`
	// UniformFraction of each document's negatives are uniform random
	// labels, the rest mined (ANCE mixed with random negatives).
	UniformFraction float64 `json:"uniform_fraction"`
	// SkipTop drops the first SkipTop pool entries (the top ranks, most
	// likely unlabelled positives) before picking.
	SkipTop int `json:"skip_top"`
}

// Defaults: refresh like NGAME's schedule so the two compare at equal
// refresh cost; HNSW settings give recall@100 near 0.95 on 768-d labels.
func Defaults() Params {
	return Params{Negatives: 10, Depth: 100, Pick: "top", RefreshInterval: 5, RefreshStart: 10, Stale: true,
		Index: "hnsw", M: 16, EfConstruction: 200, EfSearch: 200}
}

var schema = func() []byte {
	d := Defaults()
	return batching.Schema(
		batching.Param{Name: "negatives", Type: "int", Default: d.Negatives, Doc: "explicit hard negatives per document"},
		batching.Param{Name: "depth", Type: "int", Default: d.Depth, Doc: "labels retrieved per document; the pool is these minus positives and filtered pairs"},
		batching.Param{Name: "pick", Type: "string", Default: d.Pick, Doc: "top: the pool's best `negatives`; sample: a uniform sample of `negatives` from the pool, redrawn each epoch"},
		batching.Param{Name: "refresh_interval", Type: "int", Default: d.RefreshInterval, Doc: "epochs between index rebuilds (stale = true)"},
		batching.Param{Name: "refresh_start", Type: "int", Default: d.RefreshStart, Doc: "first epoch that mines; earlier epochs use uniform random negatives"},
		batching.Param{Name: "stale", Type: "bool", Default: d.Stale, Doc: "true: ANCE's asynchronous index, rebuilt every refresh_interval epochs; false: re-mine every epoch"},
		batching.Param{Name: "index", Type: "string", Default: d.Index, Doc: "hnsw or exact"},
		batching.Param{Name: "m", Type: "int", Default: d.M, Doc: "HNSW out-degree (layer 0: 2m)"},
		batching.Param{Name: "ef_construction", Type: "int", Default: d.EfConstruction, Doc: "HNSW build beam width"},
		batching.Param{Name: "ef_search", Type: "int", Default: d.EfSearch, Doc: "HNSW query beam width (raised to depth)"},
		batching.Param{Name: "threads", Type: "int", Default: 0, Doc: "index build/query goroutines (0 = GOMAXPROCS); results do not depend on it"},
		batching.Param{Name: "uniform_fraction", Type: "float", Default: d.UniformFraction, Doc: "share of each document's negatives drawn uniformly at random (round(fraction*negatives)), the rest mined; 0 = all mined, 1 = all uniform"},
		batching.Param{Name: "skip_top", Type: "int", Default: d.SkipTop, Doc: "drop this many of the best-ranked pool entries (after positives and filtered pairs are removed) against false negatives; must be < depth"},
	)
}()

// Sampler hands out mined hard negatives.
type Sampler struct {
	p    Params
	seed uint64
	ds   *data.Dataset
	docs []int32
	ex   batching.Excluder
	open func(sdk.Config) (*data.Dataset, error)

	mu      sync.Mutex
	poolPtr []int64 // doc row -> pool range (len NRows+1); nil before the first refresh
	poolIDs []int32
}

// New returns an unconfigured sampler.
func New() *Sampler { return &Sampler{open: batching.OpenDataset} }

// Describe reports the sampler.
func (s *Sampler) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{Name: "ance", Kind: sdk.KindSampler, Version: Version, APIVersions: []int{sdk.APIVersion},
		Capabilities: []string{"explicit-negatives"}, ConfigSchema: schema}, nil
}

// Configure decodes params over the defaults and loads the dataset.
func (s *Sampler) Configure(ctx context.Context, c sdk.Config) error {
	p := Defaults()
	if err := batching.DecodeParams("ance", c.Params, &p); err != nil {
		return err
	}
	switch {
	case p.Negatives < 1:
		return batching.Invalid("ance", "negatives", "%d < 1", p.Negatives)
	case p.Depth < 1:
		return batching.Invalid("ance", "depth", "%d < 1", p.Depth)
	case p.Pick != "top" && p.Pick != "sample":
		return batching.Invalid("ance", "pick", "%q is not top or sample", p.Pick)
	case p.RefreshInterval < 1:
		return batching.Invalid("ance", "refresh_interval", "%d < 1", p.RefreshInterval)
	case p.RefreshStart < 0:
		return batching.Invalid("ance", "refresh_start", "%d < 0", p.RefreshStart)
	case p.Index != "hnsw" && p.Index != "exact":
		return batching.Invalid("ance", "index", "%q is not hnsw or exact", p.Index)
	case p.M < 2:
		return batching.Invalid("ance", "m", "%d < 2", p.M)
	case p.EfConstruction < 1 || p.EfSearch < 1 || p.Threads < 0:
		return batching.Invalid("ance", "ef_construction/ef_search/threads", "out of range")
	case !(p.UniformFraction >= 0 && p.UniformFraction <= 1):
		return batching.Invalid("ance", "uniform_fraction", "%g is not in [0, 1]", p.UniformFraction)
	case p.SkipTop < 0 || p.SkipTop >= p.Depth:
		return batching.Invalid("ance", "skip_top", "%d is not in [0, depth=%d)", p.SkipTop, p.Depth)
	}
	ds, err := s.open(c)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.p, s.seed, s.ds = p, c.Seed, ds
	s.docs = batching.LabeledDocs(ds.TrainY)
	s.ex = batching.Excluder{Y: ds.TrainY, Filter: data.NewFilterSet(ds.FilterTrain)}
	s.poolPtr, s.poolIDs = nil, nil
	return nil
}

func (s *Sampler) refreshes(epoch int) bool {
	if epoch < s.p.RefreshStart || s.p.mined() == 0 {
		return false
	}
	return !s.p.Stale || (epoch-s.p.RefreshStart)%s.p.RefreshInterval == 0
}

// Plan asks for fresh document and label embeddings on mining epochs.
func (s *Sampler) Plan(_ context.Context, epoch int) (sdk.RefreshPlan, error) {
	if s.ds == nil {
		return sdk.RefreshPlan{}, sdk.ErrNotConfigured
	}
	if !s.refreshes(epoch) {
		return sdk.RefreshPlan{}, nil
	}
	return sdk.RefreshPlan{Refresh: true, NeedDocs: true, NeedLabels: true, DocSource: "fresh"}, nil
}

// queryBlock bounds the gathered query rows held at once.
const queryBlock = 8192

// Refresh mines the negative pools.
func (s *Sampler) Refresh(ctx context.Context, epoch int, docs, labels sdk.Matrix) (st sdk.RefreshStats, err error) {
	start := time.Now()
	if s.ds == nil {
		return st, sdk.ErrNotConfigured
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("ance: refresh epoch %d: panic: %v", epoch, r)
		}
	}()
	if docs, err = batching.Embeddings(docs, "ance: refresh: document", s.ds.TrainY.NRows); err != nil {
		return st, err
	}
	if labels, err = batching.Embeddings(labels, "ance: refresh: label", s.ds.NumLabels); err != nil {
		return st, err
	}
	if docs.Cols != labels.Cols {
		return st, fmt.Errorf("ance: refresh: label width %d != document width %d", labels.Cols, docs.Cols)
	}
	dim := docs.Cols
	cfg := ann.Config{Kind: s.p.Index, M: s.p.M, EfConstruction: s.p.EfConstruction, EfSearch: s.p.EfSearch,
		Threads: s.p.Threads, Seed: s.seed ^ uint64(epoch)*0x9e3779b97f4a7c15}
	t0 := time.Now()
	idx, err := ann.Build(ctx, cfg, labels.Data, labels.Rows, dim)
	if err != nil {
		return st, fmt.Errorf("ance: refresh epoch %d: %w", epoch, err)
	}
	buildSec := time.Since(t0).Seconds()

	t0 = time.Now()
	depth := s.p.Depth
	ptr := make([]int64, s.ds.TrainY.NRows+1)
	ids := make([]int32, 0, len(s.docs)*min(depth, 64))
	q := make([]float32, 0, queryBlock*dim)
	var scoreSum float64
	var scored, posHit, posAll int
	k := s.p.mined()
	for lo := 0; lo < len(s.docs); lo += queryBlock {
		blk := s.docs[lo:min(lo+queryBlock, len(s.docs))]
		q = q[:0]
		for _, d := range blk {
			q = append(q, docs.Row(int(d))...)
		}
		got, sc, err := idx.Search(ctx, q, len(blk), depth)
		if err != nil {
			return st, fmt.Errorf("ance: refresh epoch %d: %w", epoch, err)
		}
		for i, d := range blk {
			first := len(ids)
			var sum float64
			var used int
			skip := s.p.SkipTop
			for j := range depth {
				l := got[i*depth+j]
				if l < 0 {
					break
				}
				if s.ds.TrainY.Has(int(d), l) {
					posHit++
					continue
				}
				if s.ex.Filter.Has(d, l) {
					continue
				}
				if skip > 0 {
					skip--
					continue
				}
				ids = append(ids, l)
				// The negatives handed out: the first k (top) or, in
				// expectation, the whole pool (sample).
				if s.p.Pick == "sample" || len(ids)-first <= k {
					sum += float64(sc[i*depth+j])
					used++
				}
			}
			posAll += s.ds.TrainY.RowLen(int(d))
			if used > 0 {
				scoreSum += sum / float64(used)
				scored++
			}
			ptr[d+1] = int64(len(ids))
		}
	}
	// Fill the pointers of unlabelled rows (empty pools).
	for r := 1; r < len(ptr); r++ {
		if ptr[r] < ptr[r-1] {
			ptr[r] = ptr[r-1]
		}
	}
	querySec := time.Since(t0).Seconds()

	recall := 1.0
	if s.p.Index == "hnsw" {
		if recall, err = s.annRecall(ctx, idx, docs, labels); err != nil {
			return st, err
		}
	}
	s.mu.Lock()
	s.poolPtr, s.poolIDs = ptr, ids
	s.mu.Unlock()
	if scored > 0 {
		st.Hardness = scoreSum / float64(scored)
	}
	st.Detail = map[string]float64{
		"index_build_seconds": buildSec,
		"query_seconds":       querySec,
		"ann_recall":          recall,
		"positive_recall":     float64(posHit) / float64(max(1, posAll)),
		"mean_pool":           float64(len(ids)) / float64(max(1, len(s.docs))),
	}
	st.Wall = time.Since(start)
	return st, nil
}

// annRecall compares the index with exact search on up to 256 documents
// spread evenly over the labelled ones.
func (s *Sampler) annRecall(ctx context.Context, idx ann.Index, docs, labels sdk.Matrix) (float64, error) {
	n := min(256, len(s.docs))
	if n == 0 {
		return 1, nil
	}
	q := make([]float32, 0, n*docs.Cols)
	for i := range n {
		q = append(q, docs.Row(int(s.docs[i*len(s.docs)/n]))...)
	}
	depth := s.p.Depth
	got, _, err := idx.Search(ctx, q, n, depth)
	if err != nil {
		return 0, fmt.Errorf("ance: recall probe: %w", err)
	}
	want, _, err := ann.NewExact(labels.Data, labels.Rows, labels.Cols).Search(ctx, q, n, depth)
	if err != nil {
		return 0, fmt.Errorf("ance: recall probe: %w", err)
	}
	hits, total := 0, 0
	for i := range n {
		w := want[i*depth : (i+1)*depth]
		for _, l := range w {
			if l < 0 {
				continue
			}
			total++
			if slices.Contains(got[i*depth:(i+1)*depth], l) {
				hits++
			}
		}
	}
	return float64(hits) / float64(max(1, total)), nil
}

// Batches yields uniformly shuffled batches with explicit negatives.
func (s *Sampler) Batches(ctx context.Context, epoch, batchSize int) iter.Seq2[sdk.Batch, error] {
	if s.ds == nil {
		return func(yield func(sdk.Batch, error) bool) { yield(sdk.Batch{}, sdk.ErrNotConfigured) }
	}
	s.mu.Lock()
	ptr, pool := s.poolPtr, s.poolIDs
	s.mu.Unlock()
	order := batching.Shuffled(batching.RNG(s.seed, epoch, "order"), s.docs)
	pos := batching.Positives(batching.RNG(s.seed, epoch, "positives"), s.ds.TrainY)
	r := batching.RNG(s.seed, epoch, "negatives")
	k := s.p.Negatives
	neg := func(docs []int32) [][]int32 {
		out := make([][]int32, len(docs))
		for i, d := range docs {
			dst := make([]int32, 0, k)
			if ptr != nil && s.p.mined() > 0 {
				dst = s.fromPool(r, dst, pool[ptr[d]:ptr[d+1]])
			}
			if len(dst) < k {
				dst = batching.UniformNegatives(r, dst, d, k-len(dst), s.ds.NumLabels, s.ex)
			}
			out[i] = dst
		}
		return out
	}
	return batching.Cut(ctx, order, pos, batchSize, neg)
}

// mined is how many of a document's negatives come from its pool.
func (p Params) mined() int {
	return p.Negatives - int(math.Round(p.UniformFraction*float64(p.Negatives)))
}

// fromPool appends up to mined() pool entries: the best ones or a uniform
// sample.
func (s *Sampler) fromPool(r *rand.Rand, dst, pool []int32) []int32 {
	k := s.p.mined()
	if len(pool) <= k || s.p.Pick == "top" {
		return append(dst, pool[:min(k, len(pool))]...)
	}
	// Partial Fisher-Yates over indices, leaving the pool untouched.
	idx := make([]int, len(pool))
	for i := range idx {
		idx[i] = i
	}
	for i := range k {
		j := i + r.IntN(len(idx)-i)
		idx[i], idx[j] = idx[j], idx[i]
		dst = append(dst, pool[idx[i]])
	}
	return dst
}
