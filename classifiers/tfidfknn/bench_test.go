package tfidfknn

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// BenchmarkPredictCooking fits and predicts cooking's 3,000 test points.
func BenchmarkPredictCooking(b *testing.B) {
	root, err := data.SharedDataDir()
	if err != nil {
		b.Skip(err)
	}
	ds, err := data.Open(filepath.Join(root, "cooking"), data.Options{CacheDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		m, err := Fit(ds, 10)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := m.PredictSplit(context.Background(), sdk.SplitTest, 100); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(ds.TestY.NRows*b.N)/b.Elapsed().Seconds(), "queries/s")
}
