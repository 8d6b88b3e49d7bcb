package metrics

import (
	"math/rand/v2"
	"testing"

	"github.com/xcbench/xcbench/core/sparse"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// BenchmarkEvaluate scores rows x top-100 predictions over 100k labels with
// propensities (5 k values); reports rows/s. 200k rows keep memory at
// ~160 MB; the per-row cost does not depend on the row count.
func BenchmarkEvaluate(b *testing.B) {
	const rows, k, labels = 200_000, 100, 100_000
	r := rand.New(rand.NewPCG(1, 2))
	truthRows := make([][]int32, rows)
	pred := sdk.TopK{Rows: rows, K: k, Labels: make([]int32, rows*k), Scores: make([]float32, rows*k)}
	for i := range truthRows {
		base := r.Int32N(labels - 2*k)
		truthRows[i] = []int32{base, base + 3, base + 50}
		lab, sc := pred.Row(i)
		for j := range lab {
			lab[j] = base + int32(j)*2
			sc[j] = 1 - float32(j)/k
		}
	}
	truth, _ := sparse.FromRows(labels, truthRows)
	w := InvPropensity(truth, 0.55, 1.5)
	for b.Loop() {
		if _, err := Evaluate(pred, truth, nil, w, []int{1, 3, 5, 10, 100}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
