package ova

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/core/metrics"
)

// TestPredictionsRoundTrip writes fused predictions in the XC sparse format
// and scores them the way `xcbench eval` does (ReadPredictions +
// Evaluate): the metrics must equal those of the in-memory predictions.
func TestPredictionsRoundTrip(t *testing.T) {
	set := makeNoisySet(t, 8, 120, 16, 800, 300, 0.4, 1.2, 3)
	c := train(t, set, 5, `{"batch_size": 128, "epochs": 5, "lr": 0.01, "num_nbrs": 30}`)
	pred := predict(t, c, set, 20)
	path := filepath.Join(t.TempDir(), "score.txt")
	if err := data.WritePredictionsShape(path, pred, set.ds.NumLabels); err != nil {
		t.Fatal(err)
	}
	back, numLabels, err := data.ReadPredictions(path, pred.K, nil)
	if err != nil {
		t.Fatal(err)
	}
	if numLabels != set.ds.NumLabels || back.Rows != pred.Rows {
		t.Fatalf("read back %d rows x %d labels, wrote %d x %d", back.Rows, numLabels, pred.Rows, set.ds.NumLabels)
	}
	inv := metrics.InvPropensity(set.ds.TrainY, 0.55, 1.5)
	ks := []int{1, 3, 5}
	want, err := metrics.Evaluate(pred, set.ds.TestY, nil, inv, ks)
	if err != nil {
		t.Fatal(err)
	}
	got, err := metrics.Evaluate(back, set.ds.TestY, nil, inv, ks)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("metrics after the file round trip differ:\n got %v\nwant %v", got, want)
	}
	if p1 := precisionAt(pred, set.ds.TestY, 1); want.P[0] != p1 {
		t.Errorf("metrics.Evaluate P@1 %v, local %v", want.P[0], p1)
	}
}
