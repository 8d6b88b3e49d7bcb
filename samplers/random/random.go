package random

import (
	"context"
	"iter"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/plugins/registry"
	"github.com/xcbench/xcbench/plugins/sdk"
	"github.com/xcbench/xcbench/samplers/batching"
)

// Version is reported by Describe.
const Version = "1.0.0"

func init() {
	registry.Register(sdk.KindSampler, "random", func() sdk.Plugin { return New() })
}

// Params are the sampler's settings.
type Params struct {
	Negatives int `json:"negatives"`
}

// Sampler shuffles documents uniformly.
type Sampler struct {
	p    Params
	seed uint64
	ds   *data.Dataset
	docs []int32
	ex   batching.Excluder
	open func(sdk.Config) (*data.Dataset, error)
}

// New returns an unconfigured sampler.
func New() *Sampler { return &Sampler{open: batching.OpenDataset} }

var schema = batching.Schema(
	batching.Param{Name: "negatives", Type: "int", Default: 0,
		Doc: "explicit uniform random label negatives per document (never a positive or filtered pair); 0 = in-batch negatives only"},
)

// Describe reports the sampler.
func (s *Sampler) Describe(context.Context) (sdk.Info, error) {
	caps := []string{"covers-epoch"}
	if s.p.Negatives > 0 {
		caps = append(caps, "explicit-negatives")
	}
	return sdk.Info{Name: "random", Kind: sdk.KindSampler, Version: Version,
		APIVersions: []int{sdk.APIVersion}, Capabilities: caps, ConfigSchema: schema}, nil
}

// Configure decodes params and loads the dataset.
func (s *Sampler) Configure(ctx context.Context, c sdk.Config) error {
	var p Params
	if err := batching.DecodeParams("random", c.Params, &p); err != nil {
		return err
	}
	if p.Negatives < 0 {
		return batching.Invalid("random", "negatives", "%d < 0", p.Negatives)
	}
	ds, err := s.open(c)
	if err != nil {
		return err
	}
	s.p, s.seed, s.ds = p, c.Seed, ds
	s.docs = batching.LabeledDocs(ds.TrainY)
	s.ex = batching.Excluder{Y: ds.TrainY, Filter: data.NewFilterSet(ds.FilterTrain)}
	return nil
}

// Plan never asks for embeddings.
func (s *Sampler) Plan(context.Context, int) (sdk.RefreshPlan, error) {
	if s.ds == nil {
		return sdk.RefreshPlan{}, sdk.ErrNotConfigured
	}
	return sdk.RefreshPlan{}, nil
}

// Refresh accepts and ignores embeddings.
func (s *Sampler) Refresh(context.Context, int, sdk.Matrix, sdk.Matrix) (sdk.RefreshStats, error) {
	if s.ds == nil {
		return sdk.RefreshStats{}, sdk.ErrNotConfigured
	}
	return sdk.RefreshStats{}, nil
}

// Batches yields the epoch's uniformly shuffled batches.
func (s *Sampler) Batches(ctx context.Context, epoch, batchSize int) iter.Seq2[sdk.Batch, error] {
	if s.ds == nil {
		return func(yield func(sdk.Batch, error) bool) { yield(sdk.Batch{}, sdk.ErrNotConfigured) }
	}
	order := batching.Shuffled(batching.RNG(s.seed, epoch, "order"), s.docs)
	pos := batching.Positives(batching.RNG(s.seed, epoch, "positives"), s.ds.TrainY)
	var neg func([]int32) [][]int32
	if k := s.p.Negatives; k > 0 {
		r := batching.RNG(s.seed, epoch, "negatives")
		neg = func(docs []int32) [][]int32 {
			out := make([][]int32, len(docs))
			for i, d := range docs {
				out[i] = batching.UniformNegatives(r, make([]int32, 0, k), d, k, s.ds.NumLabels, s.ex)
			}
			return out
		}
	}
	return batching.Cut(ctx, order, pos, batchSize, neg)
}
