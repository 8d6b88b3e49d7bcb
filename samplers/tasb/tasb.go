package tasb

import (
	"context"
	"fmt"
	"iter"
	"math"
	"sync"
	"time"

	"github.com/xcbench/xcbench/core/cluster"
	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/core/sparse"
	"github.com/xcbench/xcbench/plugins/registry"
	"github.com/xcbench/xcbench/plugins/sdk"
	"github.com/xcbench/xcbench/samplers/batching"
)

// Version is reported by Describe.
const Version = "1.0.0"

func init() {
	registry.Register(sdk.KindSampler, "tasb", func() sdk.Plugin { return New() })
}

// Params are the sampler's settings.
type Params struct {
	Features     string  `json:"features"`
	Dim          int     `json:"dim"`
	ClusterSize  int     `json:"cluster_size"`
	RoundPow2    bool    `json:"round_pow2"`
	Threads      int     `json:"threads"`
	Tol          float64 `json:"tol"`
	MaxIter      int     `json:"max_iter"`
	HardnessDocs int     `json:"hardness_docs"`
}

// Defaults: tf-idf features, one topic per batch.
func Defaults() Params {
	return Params{Features: "tfidf", Dim: 256, Tol: 1e-4, MaxIter: 50, HardnessDocs: 16384}
}

var schema = func() []byte {
	d := Defaults()
	return batching.Schema(
		batching.Param{Name: "features", Type: "string", Default: d.Features,
			Doc: "what is clustered, once: tfidf (the documents' tf-idf vectors, randomly projected; no encoder needed) or encoder (the encoder's embeddings of the training documents at epoch 0, TAS-B's choice with a pretrained encoder)"},
		batching.Param{Name: "dim", Type: "int", Default: d.Dim, Doc: "tfidf: width of the random ±1 projection of the tf-idf vectors"},
		batching.Param{Name: "cluster_size", Type: "int", Default: d.ClusterSize, Doc: "documents per cluster (0 = the batch size: one topic per batch, as TAS-B)"},
		batching.Param{Name: "round_pow2", Type: "bool", Default: d.RoundPow2, Doc: "round the cluster count up to a power of two as pyxclib/NGAME do"},
		batching.Param{Name: "threads", Type: "int", Default: 0, Doc: "clustering goroutines (0 = GOMAXPROCS); results do not depend on it"},
		batching.Param{Name: "tol", Type: "float", Default: d.Tol, Doc: "2-means stops when the mean similarity improves by less"},
		batching.Param{Name: "max_iter", Type: "int", Default: d.MaxIter, Doc: "cap on 2-means rounds per split"},
		batching.Param{Name: "hardness_docs", Type: "int", Default: d.HardnessDocs, Doc: "documents scored for RefreshStats.Hardness (features = encoder)"},
	)
}()

// Sampler batches documents by their one-off topic clusters.
type Sampler struct {
	p    Params
	seed uint64
	ds   *data.Dataset
	docs []int32
	open func(sdk.Config) (*data.Dataset, error)

	mu sync.Mutex
	// vecs are the clustered vectors (rows of TrainY, width dim), nil in
	// encoder mode until the epoch-0 refresh.
	vecs []float32
	dim  int
	// clusters caches the clustering per cluster size.
	clusters  map[int][][]int32
	lastBatch int
}

// New returns an unconfigured sampler.
func New() *Sampler { return &Sampler{open: batching.OpenDataset} }

// Describe reports the sampler.
func (s *Sampler) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{Name: "tasb", Kind: sdk.KindSampler, Version: Version, APIVersions: []int{sdk.APIVersion},
		Capabilities: []string{"covers-epoch"}, ConfigSchema: schema}, nil
}

// Configure decodes params over the defaults, loads the dataset and, for
// tf-idf features, computes the projected vectors.
func (s *Sampler) Configure(ctx context.Context, c sdk.Config) error {
	p := Defaults()
	if err := batching.DecodeParams("tasb", c.Params, &p); err != nil {
		return err
	}
	switch {
	case p.Features != "tfidf" && p.Features != "encoder":
		return batching.Invalid("tasb", "features", "%q is not tfidf or encoder", p.Features)
	case p.Dim < 1:
		return batching.Invalid("tasb", "dim", "%d < 1", p.Dim)
	case p.ClusterSize < 0:
		return batching.Invalid("tasb", "cluster_size", "%d < 0", p.ClusterSize)
	case p.Threads < 0 || p.Tol < 0 || p.MaxIter < 0 || p.HardnessDocs < 0:
		return batching.Invalid("tasb", "threads/tol/max_iter/hardness_docs", "must not be negative")
	}
	ds, err := s.open(c)
	if err != nil {
		return err
	}
	var vecs []float32
	dim := 0
	if p.Features == "tfidf" {
		if ds.TrainX == nil || ds.TrainX.NRows != ds.TrainY.NRows {
			return fmt.Errorf("tasb: features tfidf: dataset %q has no training features aligned with its labels", ds.Name)
		}
		vecs, dim = ProjectedTFIDF(ds.TrainX, p.Dim, c.Seed), p.Dim
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.p, s.seed, s.ds = p, c.Seed, ds
	s.docs = batching.LabeledDocs(ds.TrainY)
	s.vecs, s.dim, s.clusters, s.lastBatch = vecs, dim, map[int][][]int32{}, 0
	return nil
}

// ProjectedTFIDF returns the L2-normalised smooth-idf tf-idf rows of x
// projected to dim columns by R[f][j] = ±1/√dim, the sign a hash of
// (seed, f, j), row-major [x.NRows, dim], each row L2-normalised again
// (empty rows stay zero). Only nonzero values count towards df.
func ProjectedTFIDF(x *sparse.CSR, dim int, seed uint64) []float32 {
	df := make([]float64, x.NCols)
	for k, j := range x.Indices {
		if x.Data[k] != 0 {
			df[j]++
		}
	}
	n := float64(x.NRows)
	idf := make([]float64, x.NCols)
	for j := range idf {
		idf[j] = math.Log((1+n)/(1+df[j])) + 1
	}
	words := (dim + 63) / 64
	signs := make([]uint64, x.NCols*words)
	for f := range x.NCols {
		for w := range words {
			signs[f*words+w] = splitmix(seed ^ splitmix(uint64(f)*uint64(words)+uint64(w)+1))
		}
	}
	out := make([]float32, x.NRows*dim)
	acc := make([]float64, dim)
	for i := range x.NRows {
		cols, vals := x.Row(i)
		var norm float64
		for k, v := range vals {
			t := float64(v) * idf[cols[k]]
			norm += t * t
		}
		if norm == 0 {
			continue
		}
		clear(acc)
		for k, v := range vals {
			t := float64(v) * idf[cols[k]]
			sw := signs[int(cols[k])*words : (int(cols[k])+1)*words]
			for j := range dim {
				if sw[j>>6]>>(j&63)&1 == 1 {
					acc[j] += t
				} else {
					acc[j] -= t
				}
			}
		}
		// The 1/√dim and tf-idf norm scales cancel in the final
		// normalisation; only the direction matters to 2-means.
		var pn float64
		for _, a := range acc {
			pn += a * a
		}
		if pn == 0 {
			continue
		}
		inv := 1 / math.Sqrt(pn)
		row := out[i*dim : (i+1)*dim]
		for j, a := range acc {
			row[j] = float32(a * inv)
		}
	}
	return out
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Plan asks, with features = encoder, for freshly encoded training
// documents at epoch 0 and never again.
func (s *Sampler) Plan(_ context.Context, epoch int) (sdk.RefreshPlan, error) {
	if s.ds == nil {
		return sdk.RefreshPlan{}, sdk.ErrNotConfigured
	}
	if s.p.Features != "encoder" || epoch != 0 {
		return sdk.RefreshPlan{}, nil
	}
	return sdk.RefreshPlan{Refresh: true, NeedDocs: true, DocSource: "fresh"}, nil
}

// Refresh stores the document embeddings of the one-off clustering
// (features = encoder; with tfidf it is never planned and rejects a call).
// A replay on resume hands over the same embeddings, so the clusters come
// out the same. Its hardness is measured on the clusters the next
// Batches call will use (cut with the last batch size, 256 before any).
func (s *Sampler) Refresh(ctx context.Context, epoch int, docs, labels sdk.Matrix) (st sdk.RefreshStats, err error) {
	start := time.Now()
	if s.ds == nil {
		return st, sdk.ErrNotConfigured
	}
	if s.p.Features != "encoder" {
		return st, fmt.Errorf("tasb: refresh epoch %d: features %q cluster no embeddings", epoch, s.p.Features)
	}
	if docs, err = batching.Embeddings(docs, "tasb: refresh: document", s.ds.TrainY.NRows); err != nil {
		return st, err
	}
	vecs := append([]float32(nil), docs.Data...)
	s.mu.Lock()
	s.vecs, s.dim, s.clusters = vecs, docs.Cols, map[int][][]int32{}
	bs := s.lastBatch
	s.mu.Unlock()
	if bs <= 0 {
		bs = 256
	}
	size := s.clusterSize(bs)
	t0 := time.Now()
	cl, err := s.clustering(ctx, size)
	if err != nil {
		return st, err
	}
	clusterSec := time.Since(t0).Seconds()
	order := s.order(epoch, cl)
	pos := batching.Positives(batching.RNG(s.seed, epoch, "positives"), s.ds.TrainY)
	st.Hardness = batching.InBatchHardness(vecs, nil, docs.Cols, s.ds.TrainY, order, pos, bs, 10, s.p.HardnessDocs)
	st.Detail = map[string]float64{
		"clusters":         float64(len(cl)),
		"avg_cluster_size": float64(len(s.docs)) / float64(max(1, len(cl))),
		"cluster_seconds":  clusterSec,
	}
	st.Wall = time.Since(start)
	return st, nil
}

func (s *Sampler) clusterSize(batchSize int) int {
	if s.p.ClusterSize > 0 {
		return s.p.ClusterSize
	}
	return batchSize
}

// clustering returns (and caches) the clusters of the given size.
func (s *Sampler) clustering(ctx context.Context, size int) ([][]int32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cl, ok := s.clusters[size]; ok {
		return cl, nil
	}
	if s.vecs == nil {
		return nil, fmt.Errorf("tasb: features encoder: no document embeddings yet (the epoch-0 refresh, or its replay on resume, must come first)")
	}
	opt := cluster.Options{NumClusters: max(1, len(s.docs)/size), NoRound: !s.p.RoundPow2,
		Tol: s.p.Tol, MaxIter: s.p.MaxIter, Threads: s.p.Threads, Seed: s.seed ^ 0x7a5b}
	cl, err := cluster.BalancedSubset(ctx, s.vecs, len(s.vecs)/s.dim, s.dim, s.docs, opt)
	if err != nil {
		return nil, fmt.Errorf("tasb: clustering: %w", err)
	}
	s.clusters[size] = cl
	return cl, nil
}

// order is the epoch's document order: clusters shuffled, each cluster's
// documents shuffled, concatenated.
func (s *Sampler) order(epoch int, cl [][]int32) []int32 {
	r := batching.RNG(s.seed, epoch, "order")
	out := make([]int32, 0, len(s.docs))
	for _, i := range r.Perm(len(cl)) {
		out = append(out, batching.Shuffled(r, cl[i])...)
	}
	return out
}

// Batches yields the epoch's topic-ordered batches.
func (s *Sampler) Batches(ctx context.Context, epoch, batchSize int) iter.Seq2[sdk.Batch, error] {
	if s.ds == nil {
		return func(yield func(sdk.Batch, error) bool) { yield(sdk.Batch{}, sdk.ErrNotConfigured) }
	}
	if batchSize <= 0 {
		return func(yield func(sdk.Batch, error) bool) {
			yield(sdk.Batch{}, fmt.Errorf("%w: batch size %d", sdk.ErrInvalidConfig, batchSize))
		}
	}
	s.mu.Lock()
	s.lastBatch = batchSize
	s.mu.Unlock()
	cl, err := s.clustering(ctx, s.clusterSize(batchSize))
	if err != nil {
		return func(yield func(sdk.Batch, error) bool) { yield(sdk.Batch{}, err) }
	}
	order := s.order(epoch, cl)
	pos := batching.Positives(batching.RNG(s.seed, epoch, "positives"), s.ds.TrainY)
	return batching.Cut(ctx, order, pos, batchSize, nil)
}
