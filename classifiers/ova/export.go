package ova

import (
	"context"
	"fmt"

	"github.com/xcbench/xcbench/core/ann"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// PredictWith predicts with another fusion mode ("tree" needs a classifier
// trained with fusion tree) than the configured one, so a report can show
// knn, clf and fused rankings from one training run.
func PredictWith(ctx context.Context, c *Classifier, docs sdk.Matrix, k int, mode string) (sdk.TopK, error) {
	if c.clfIdx == nil {
		return sdk.TopK{}, fmt.Errorf("ova: predict: %w (Train first)", sdk.ErrNotConfigured)
	}
	if mode == "tree" && c.tree == nil {
		return sdk.TopK{}, fmt.Errorf("ova: predict: no fusion tree (train with fusion tree)")
	}
	switch mode {
	case "tree", "sum", "none", "knn":
	default:
		return sdk.TopK{}, fmt.Errorf("ova: predict: unknown fusion %q", mode)
	}
	d, err := sdk.LoadMatrix(docs)
	if err != nil {
		return sdk.TopK{}, err
	}
	if d.Cols != c.dim {
		return sdk.TopK{}, fmt.Errorf("ova: predict: doc dim %d, trained on %d", d.Cols, c.dim)
	}
	return c.predict(ctx, ann.Normalized(d.Data, d.Rows, d.Cols), d.Rows, k, mode, nil)
}
