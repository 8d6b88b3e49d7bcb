package bow

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/xcbench/xcbench/encoders/siamese/siamesetest"
)

// TestFusedEqualsGraphAtBenchShape repeats the engine comparison at a
// benchmark-like shape (B=256, D=128, 32 tokens, residual), where sums run
// over hundreds of terms: two steps' losses and gradients must still agree.
func TestFusedEqualsGraphAtBenchShape(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	ctx := context.Background()
	ds := siamesetest.BenchData(5000, 400, 512, 32, 3)
	params := `{"dim": 128, "batch_size": 256, "max_tokens": 32, "residual": true, "num_negatives": 5, "lr": 0.003, "engine": "%s"}`
	g := configured(t, ds, 2, fmt.Sprintf(params, "graph"))
	f := configured(t, ds, 2, fmt.Sprintf(params, "fused"))
	for step, b := range siamesetest.Batches(ds.TrainY, 256, 1, 0)[:2] {
		gg, err := g.Service().Gradients(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		fg, err := f.Service().Gradients(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(gg.Loss-fg.Loss) > 1e-5*math.Max(1, math.Abs(gg.Loss)) {
			t.Fatalf("step %d: loss graph %.7g fused %.7g", step, gg.Loss, fg.Loss)
		}
		dt, de, dp := maxDiff(gg.Table, fg.Table), maxDiff(gg.Emb, fg.Emb), maxDiff(gg.Params[0], fg.Params[0])
		t.Logf("step %d: loss %.6f; max relative differences table %.2g, emb %.2g, residual %.2g", step, gg.Loss, dt, de, dp)
		if dt > 1e-4 || de > 1e-4 || dp > 1e-4 {
			t.Fatalf("step %d: gradients differ (table %.3g, emb %.3g, residual %.3g)", step, dt, de, dp)
		}
		if _, err := g.TrainStep(ctx, b); err != nil {
			t.Fatal(err)
		}
		if _, err := f.TrainStep(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
}
