package ngame

import (
	"context"
	"fmt"
	"iter"
	"sync"
	"time"

	"github.com/xcbench/xcbench/core/cluster"
	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/plugins/registry"
	"github.com/xcbench/xcbench/plugins/sdk"
	"github.com/xcbench/xcbench/samplers/batching"
)

// Version is reported by Describe.
const Version = "1.0.0"

func init() {
	registry.Register(sdk.KindSampler, "ngame", func() sdk.Plugin { return New() })
}

// Params are the sampler's settings; Defaults gives the reference values.
type Params struct {
	ClusterSizeInit  int     `json:"cluster_size_init"`
	CurriculumEpochs []int   `json:"curriculum_epochs"`
	RefreshInterval  int     `json:"refresh_interval"`
	RefreshStart     int     `json:"refresh_start"`
	RoundPow2        bool    `json:"round_pow2"`
	Lag              bool    `json:"lag"`
	DocSource        string  `json:"doc_source"`
	Threads          int     `json:"threads"`
	Tol              float64 `json:"tol"`
	MaxIter          int     `json:"max_iter"`
	HardnessDocs     int     `json:"hardness_docs"`
	// BatchSize is the training batch size, which the runner sets: the
	// refresh measures hardness over batches of this size.
	BatchSize int `json:"batch_size"`
}

// Defaults are the LF-AmazonTitles-131K reference settings.
func Defaults() Params {
	return Params{
		ClusterSizeInit:  1,
		CurriculumEpochs: []int{10, 20, 25, 50, 75, 100, 125, 150, 200},
		RefreshInterval:  5,
		RefreshStart:     10,
		RoundPow2:        true,
		Lag:              true,
		DocSource:        "memory_bank",
		Tol:              1e-4,
		MaxIter:          50,
		HardnessDocs:     16384,
	}
}

var schema = func() []byte {
	d := Defaults()
	return batching.Schema(
		batching.Param{Name: "cluster_size_init", Type: "int", Default: d.ClusterSizeInit,
			Doc: "nominal cluster size before any curriculum step (1 = singletons); batches are uniform shuffles until the first refresh regardless"},
		batching.Param{Name: "curriculum_epochs", Type: "[]int", Default: d.CurriculumEpochs,
			Doc: "the nominal cluster size doubles once for each listed epoch <= the refresh epoch"},
		batching.Param{Name: "refresh_interval", Type: "int", Default: d.RefreshInterval,
			Doc: "re-cluster at the start of epochs that are multiples of this"},
		batching.Param{Name: "refresh_start", Type: "int", Default: d.RefreshStart,
			Doc: "first epoch that may re-cluster"},
		batching.Param{Name: "round_pow2", Type: "bool", Default: d.RoundPow2,
			Doc: "round the cluster count up to a power of two as pyxclib does (real clusters about 0.56x nominal size); false splits only the largest clusters at the last level"},
		batching.Param{Name: "lag", Type: "bool", Default: d.Lag,
			Doc: "reference one-epoch lag: clusters from the refresh at epoch e are first used in epoch e+1; false uses them in epoch e"},
		batching.Param{Name: "doc_source", Type: "string", Default: d.DocSource,
			Doc: "memory_bank (embeddings from the training forward passes, reference) or fresh (re-encode the training documents, 2022 code)"},
		batching.Param{Name: "threads", Type: "int", Default: 0, Doc: "clustering goroutines (0 = GOMAXPROCS); results do not depend on it"},
		batching.Param{Name: "tol", Type: "float", Default: d.Tol, Doc: "2-means stops when the mean similarity improves by less"},
		batching.Param{Name: "max_iter", Type: "int", Default: d.MaxIter, Doc: "cap on 2-means rounds per split"},
		batching.Param{Name: "hardness_docs", Type: "int", Default: d.HardnessDocs, Doc: "documents scored for RefreshStats.Hardness"},
		batching.Param{Name: "batch_size", Type: "int", Default: 0,
			Doc: "batch size the refresh's hardness measure cuts clusters into; the runner sets the cell's (0 = the size of the last Batches call, else 256)"},
	)
}()

// clustering is one refresh's result.
type clustering struct {
	clusters [][]int32
	from     int // first epoch that uses it
}

// Sampler batches documents by cluster.
type Sampler struct {
	p    Params
	seed uint64
	ds   *data.Dataset
	docs []int32
	open func(sdk.Config) (*data.Dataset, error)

	mu        sync.Mutex
	active    *clustering
	pending   *clustering
	lastBatch int
}

// New returns an unconfigured sampler.
func New() *Sampler { return &Sampler{open: batching.OpenDataset} }

// Describe reports the sampler.
func (s *Sampler) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{Name: "ngame", Kind: sdk.KindSampler, Version: Version, APIVersions: []int{sdk.APIVersion},
		Capabilities: []string{"covers-epoch"}, ConfigSchema: schema}, nil
}

// Configure decodes params over the defaults and loads the dataset.
func (s *Sampler) Configure(ctx context.Context, c sdk.Config) error {
	p := Defaults()
	if err := batching.DecodeParams("ngame", c.Params, &p); err != nil {
		return err
	}
	switch {
	case p.ClusterSizeInit < 1:
		return batching.Invalid("ngame", "cluster_size_init", "%d < 1", p.ClusterSizeInit)
	case p.RefreshInterval < 1:
		return batching.Invalid("ngame", "refresh_interval", "%d < 1", p.RefreshInterval)
	case p.RefreshStart < 0:
		return batching.Invalid("ngame", "refresh_start", "%d < 0", p.RefreshStart)
	case p.DocSource != "memory_bank" && p.DocSource != "fresh":
		return batching.Invalid("ngame", "doc_source", "%q is not memory_bank or fresh", p.DocSource)
	case p.Threads < 0 || p.Tol < 0 || p.MaxIter < 0 || p.HardnessDocs < 0 || p.BatchSize < 0:
		return batching.Invalid("ngame", "threads/tol/max_iter/hardness_docs", "must not be negative")
	}
	ds, err := s.open(c)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.p, s.seed, s.ds = p, c.Seed, ds
	s.docs = batching.LabeledDocs(ds.TrainY)
	s.active, s.pending, s.lastBatch = nil, nil, 0
	return nil
}

// refreshes reports whether epoch re-clusters.
func (s *Sampler) refreshes(epoch int) bool {
	return epoch >= s.p.RefreshStart && epoch%s.p.RefreshInterval == 0
}

// NominalSize is the cluster size a refresh at epoch aims for.
func (p Params) NominalSize(epoch int) int {
	size := p.ClusterSizeInit
	for _, c := range p.CurriculumEpochs {
		if c <= epoch && size < 1<<30 {
			size *= 2
		}
	}
	return size
}

// Plan asks for document embeddings on refresh epochs.
func (s *Sampler) Plan(_ context.Context, epoch int) (sdk.RefreshPlan, error) {
	if s.ds == nil {
		return sdk.RefreshPlan{}, sdk.ErrNotConfigured
	}
	if !s.refreshes(epoch) {
		return sdk.RefreshPlan{}, nil
	}
	return sdk.RefreshPlan{Refresh: true, NeedDocs: true, DocSource: s.p.DocSource}, nil
}

// Refresh re-clusters the training documents on docs (labels, when given,
// only serve the hardness measure).
func (s *Sampler) Refresh(ctx context.Context, epoch int, docs, labels sdk.Matrix) (st sdk.RefreshStats, err error) {
	start := time.Now()
	if s.ds == nil {
		return st, sdk.ErrNotConfigured
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("ngame: refresh epoch %d: panic: %v", epoch, r)
		}
	}()
	docs, err = batching.Embeddings(docs, "ngame: refresh: document", s.ds.TrainY.NRows)
	if err != nil {
		return st, err
	}
	var lbl []float32
	if !labels.IsZero() {
		labels, err = batching.Embeddings(labels, "ngame: refresh: label", s.ds.NumLabels)
		if err != nil {
			return st, err
		}
		if labels.Cols != docs.Cols {
			return st, fmt.Errorf("ngame: refresh: label width %d != document width %d", labels.Cols, docs.Cols)
		}
		lbl = labels.Data
	}
	size := s.p.NominalSize(epoch)
	opt := cluster.Options{NumClusters: max(1, len(s.docs)/size), NoRound: !s.p.RoundPow2,
		Tol: s.p.Tol, MaxIter: s.p.MaxIter, Threads: s.p.Threads, Seed: s.seed ^ uint64(epoch)*0x9e3779b97f4a7c15}
	t0 := time.Now()
	cl, err := cluster.BalancedSubset(ctx, docs.Data, docs.Rows, docs.Cols, s.docs, opt)
	if err != nil {
		return st, fmt.Errorf("ngame: refresh epoch %d: %w", epoch, err)
	}
	clusterSec := time.Since(t0).Seconds()
	from := epoch
	if s.p.Lag {
		from = epoch + 1
	}
	c := &clustering{clusters: cl, from: from}
	s.mu.Lock()
	if s.pending != nil && s.pending.from <= epoch {
		s.active = s.pending
	}
	s.pending = c
	// The configured batch size, not the last one seen: a resumed run
	// refreshes before any Batches call and must measure the same.
	bs := s.p.BatchSize
	if bs <= 0 {
		bs = s.lastBatch
	}
	s.mu.Unlock()
	if bs <= 0 {
		bs = 256
	}
	order := s.order(from, c)
	pos := batching.Positives(batching.RNG(s.seed, from, "positives"), s.ds.TrainY)
	st.Hardness = batching.InBatchHardness(docs.Data, lbl, docs.Cols, s.ds.TrainY, order, pos, bs, 10, s.p.HardnessDocs)
	st.Detail = map[string]float64{
		"clusters":         float64(len(cl)),
		"avg_cluster_size": float64(len(s.docs)) / float64(max(1, len(cl))),
		"nominal_size":     float64(size),
		"cluster_seconds":  clusterSec,
		"first_epoch":      float64(from),
	}
	st.Wall = time.Since(start)
	return st, nil
}

// clusteringFor picks the clustering epoch uses, promoting a pending one.
func (s *Sampler) clusteringFor(epoch int) *clustering {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending != nil && s.pending.from <= epoch {
		s.active, s.pending = s.pending, nil
	}
	return s.active
}

// order is the epoch's document order: shuffled clusters concatenated, or
// a uniform shuffle before any clustering.
func (s *Sampler) order(epoch int, c *clustering) []int32 {
	r := batching.RNG(s.seed, epoch, "order")
	if c == nil {
		return batching.Shuffled(r, s.docs)
	}
	perm := r.Perm(len(c.clusters))
	out := make([]int32, 0, len(s.docs))
	for _, i := range perm {
		out = append(out, c.clusters[i]...)
	}
	return out
}

// Batches yields the epoch's cluster-ordered batches.
func (s *Sampler) Batches(ctx context.Context, epoch, batchSize int) iter.Seq2[sdk.Batch, error] {
	if s.ds == nil {
		return func(yield func(sdk.Batch, error) bool) { yield(sdk.Batch{}, sdk.ErrNotConfigured) }
	}
	s.mu.Lock()
	if batchSize > 0 {
		s.lastBatch = batchSize
	}
	s.mu.Unlock()
	order := s.order(epoch, s.clusteringFor(epoch))
	pos := batching.Positives(batching.RNG(s.seed, epoch, "positives"), s.ds.TrainY)
	return batching.Cut(ctx, order, pos, batchSize, nil)
}
