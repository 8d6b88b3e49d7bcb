package knn

import (
	"context"
	"fmt"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// OpenDataset loads the dataset a component is configured with, so every
// process of a run sees the same ids. Bad options wrap sdk.ErrInvalidConfig.
func OpenDataset(ctx context.Context, d sdk.Dataset) (*data.Dataset, error) {
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
