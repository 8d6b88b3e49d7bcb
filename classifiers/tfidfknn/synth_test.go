package tfidfknn

import (
	"context"
	"testing"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/core/metrics"
	"github.com/xcbench/xcbench/core/synth"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// The planted structure must be learnable from features: kNN on a small
// synthetic set scores far above the popularity baseline, and deterministic.
func TestSynthLearnable(t *testing.T) {
	ds, err := synth.Generate(synth.Config{Labels: 300, TrainDocs: 3000, TestDocs: 500, Seed: 11, Options: data.Options{CacheDir: "-"}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Fit(ds, 10)
	if err != nil {
		t.Fatal(err)
	}
	pred, err := m.PredictSplit(context.Background(), sdk.SplitTest, 5)
	if err != nil {
		t.Fatal(err)
	}
	res, err := metrics.Evaluate(pred, ds.TestY, nil, nil, []int{1})
	if err != nil {
		t.Fatal(err)
	}
	// Popularity baseline: always predict the most frequent train label.
	counts := ds.TrainY.ColCounts()
	top := 0
	for l, c := range counts {
		if c > counts[top] {
			top = l
		}
	}
	hits := 0
	for i := 0; i < ds.TestY.NRows; i++ {
		if ds.TestY.Has(i, int32(top)) {
			hits++
		}
	}
	base := float64(hits) / float64(ds.TestY.NRows)
	p1, _ := res.Get("P", 1)
	t.Logf("synthetic P@1 %.3f, popularity baseline %.3f", p1, base)
	if p1 < 0.5 || p1 < 2*base {
		t.Errorf("P@1 %.3f too low (baseline %.3f)", p1, base)
	}
	pred2, _ := m.PredictSplit(context.Background(), sdk.SplitTest, 5)
	for i := range pred.Labels {
		if pred.Labels[i] != pred2.Labels[i] {
			t.Fatal("nondeterministic predictions")
		}
	}
	// Leave-one-out on train: no document is its own neighbour.
	if _, err := m.PredictSplit(context.Background(), sdk.SplitTrain, 5); err != nil {
		t.Fatal(err)
	}
}
