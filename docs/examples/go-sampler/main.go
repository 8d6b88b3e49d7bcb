// Command xcbench-plugin-firstlabel is an external sampler written as its
// own Go module, as docs/plugins.md walks through: in-batch negatives, each
// labelled training document once per epoch in a seeded shuffle, with its
// lowest label id as the positive (a deliberately simple policy).
package main

import (
	"context"
	"iter"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/plugins/sdk"
	"github.com/xcbench/xcbench/plugins/wire"
	"github.com/xcbench/xcbench/samplers/batching"
)

// Params are the sampler's parameters with their defaults.
type Params struct {
	Shuffle bool `json:"shuffle"`
}

var docs = map[string]string{"shuffle": "shuffle the documents every epoch (false: id order)"}

type firstLabel struct {
	p    Params
	seed uint64
	ds   *data.Dataset
}

func (s *firstLabel) Describe(context.Context) (sdk.Info, error) {
	ps, err := sdk.ParamsOf(Params{Shuffle: true}, docs)
	if err != nil {
		return sdk.Info{}, err
	}
	return sdk.Info{Name: "firstlabel", Kind: sdk.KindSampler, Version: "0.1.0",
		APIVersions: []int{sdk.APIVersion}, Capabilities: []string{"covers-epoch"},
		ConfigSchema: sdk.Schema(ps...)}, nil
}

func (s *firstLabel) Configure(_ context.Context, c sdk.Config) error {
	p := Params{Shuffle: true}
	if err := sdk.DecodeParams(c.Params, &p); err != nil {
		return err
	}
	// data.OpenSpec(dir, name, options JSON) is what sdk.Config carries;
	// batching.OpenDataset(c) does the same plus the checks a sampler needs.
	ds, err := batching.OpenDataset(c)
	if err != nil {
		return err
	}
	s.p, s.seed, s.ds = p, c.Seed, ds
	return nil
}

func (s *firstLabel) Plan(context.Context, int) (sdk.RefreshPlan, error) {
	return sdk.RefreshPlan{}, nil
}

func (s *firstLabel) Refresh(context.Context, int, sdk.Matrix, sdk.Matrix) (sdk.RefreshStats, error) {
	return sdk.RefreshStats{}, nil
}

func (s *firstLabel) Batches(ctx context.Context, epoch, batchSize int) iter.Seq2[sdk.Batch, error] {
	if s.ds == nil {
		return func(yield func(sdk.Batch, error) bool) { yield(sdk.Batch{}, sdk.ErrNotConfigured) }
	}
	order := batching.LabeledDocs(s.ds.TrainY)
	if s.p.Shuffle {
		order = batching.Shuffled(batching.RNG(s.seed, epoch, "order"), order)
	}
	positives := make([]int32, s.ds.TrainY.NRows)
	for i := range positives {
		if cols, _ := s.ds.TrainY.Row(i); len(cols) > 0 {
			positives[i] = cols[0]
		}
	}
	return batching.Cut(ctx, order, positives, batchSize, nil)
}

func main() {
	wire.Serve(sdk.Component{Kind: sdk.KindSampler, Name: "firstlabel", New: func() sdk.Plugin { return &firstLabel{} }})
}
