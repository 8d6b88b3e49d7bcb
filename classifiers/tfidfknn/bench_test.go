package tfidfknn

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/core/synth"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// BenchmarkPredict times what `xcbench bench tfidf-knn` calls predict_s
// (the test documents' transform, the neighbour search and the top 5
// labels) on each real data set present; the model is fitted once.
func BenchmarkPredict(b *testing.B) {
	root, err := data.SharedDataDir()
	if err != nil {
		b.Skip(err)
	}
	for _, name := range []string{"cooking", "bibtex", "delicious", "debdeps"} {
		b.Run(name, func(b *testing.B) {
			ds, err := data.Open(filepath.Join(root, name), data.Options{})
			if err != nil {
				b.Skip(err)
			}
			benchPredict(b, ds)
		})
	}
}

// BenchmarkPredictLabels holds the training and test documents' shape
// (30,000 x 2,000 queries, 12 words each) and grows the label count:
// the cost per query should barely move.
func BenchmarkPredictLabels(b *testing.B) {
	for _, labels := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("labels=%d", labels), func(b *testing.B) {
			ds, err := synth.Generate(synth.Config{Labels: labels, TrainDocs: 30_000, TestDocs: 2_000, Topics: 200, Seed: 1,
				Options: data.Options{CacheDir: "-"}})
			if err != nil {
				b.Fatal(err)
			}
			benchPredict(b, ds)
		})
	}
}

func benchPredict(b *testing.B, ds *data.Dataset) {
	m, err := Fit(ds, 10)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := m.PredictSplit(context.Background(), sdk.SplitTest, 5); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(ds.TestX.NRows*b.N)/b.Elapsed().Seconds(), "queries/s")
}
