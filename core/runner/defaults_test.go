package runner

import (
	"context"
	"strings"
	"testing"

	"github.com/xcbench/xcbench/plugins/sdk"
)

func TestDefaultSynthDataScore(t *testing.T) {
	dir := t.TempDir()
	err := Synth(context.Background(), map[string]any{"labels": 20, "train_docs": 60, "test_docs": 30, "seed": 3, "options": map[string]any{"max_len": 8}}, dir)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := OpenData(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Predict each test document's own labels first: P@1 must be 1.
	rows := 10
	pred := sdk.TopK{Rows: rows, K: 1}
	for i := range rows {
		cols, _ := ds.TestY.Row(i)
		l := int32(-1)
		if len(cols) > 0 {
			l = cols[0]
		}
		pred.Labels = append(pred.Labels, l)
		pred.Scores = append(pred.Scores, 1)
	}
	m, err := Score(pred, ds, rows, []int{1})
	if err != nil {
		t.Fatal(err)
	}
	if m["P@1"] != 1 {
		t.Fatalf("P@1 of perfect predictions = %v (%v)", m["P@1"], m)
	}
	if err := Synth(context.Background(), map[string]any{"lables": 3}, t.TempDir()); err == nil || !strings.Contains(err.Error(), "lables") {
		t.Fatalf("unknown synth key not reported: %v", err)
	}
}
