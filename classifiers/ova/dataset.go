package ova

import (
	"context"
	"fmt"
	"math"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// openDataset loads the dataset every component of a run shares.
func openDataset(ctx context.Context, d sdk.Dataset) (*data.Dataset, error) {
	if d.Dir == "" {
		return nil, fmt.Errorf("%w: dataset dir is empty", sdk.ErrInvalidConfig)
	}
	opts, err := data.DecodeOptions(d.Options)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", sdk.ErrInvalidConfig, err)
	}
	if opts.Name == "" {
		opts.Name = d.Name
	}
	ds, err := data.Open(d.Dir, opts)
	if err != nil {
		return nil, fmt.Errorf("open dataset %s: %w", d.Dir, err)
	}
	return ds, nil
}

// invPropensity is pyxclib's compute_inv_propesity over the training
// labels: w_l = 1 + (ln N - 1)(B+1)^A (N_l + B)^-A.
func invPropensity(ds *data.Dataset) []float32 {
	a, b := ds.PropA, ds.PropB
	if a == 0 && b == 0 {
		a, b = 0.55, 1.5 // pyxclib's "others"
	}
	n := float64(ds.TrainY.NRows)
	c := (math.Log(n) - 1) * math.Pow(b+1, a)
	counts := ds.TrainY.ColCounts()
	out := make([]float32, len(counts))
	for l, nl := range counts {
		out[l] = float32(1 + c*math.Pow(float64(nl)+b, -a))
	}
	return out
}
