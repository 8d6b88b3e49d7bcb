package data

import (
	"fmt"

	"github.com/xcbench/xcbench/plugins/sdk"
)

// OpenFor loads the dataset a component is configured with (sdk.Config's
// Dataset: folder, name, data-layer options as JSON), so every process of a
// run sees the same ids. A missing folder or bad options wrap
// sdk.ErrInvalidConfig; errors name the folder.
func OpenFor(d sdk.Dataset) (*Dataset, error) {
	if d.Dir == "" {
		return nil, fmt.Errorf("%w: dataset dir is empty", sdk.ErrInvalidConfig)
	}
	opts, err := DecodeOptions(d.Options)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", sdk.ErrInvalidConfig, err)
	}
	if opts.Name == "" {
		opts.Name = d.Name
	}
	ds, err := Open(d.Dir, opts)
	if err != nil {
		return nil, fmt.Errorf("open dataset %s: %w", d.Dir, err)
	}
	return ds, nil
}
