package ance

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/core/sparse"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// BenchmarkRefresh131k mines negatives for 50k documents against 131,073
// synthetic 128-d label embeddings (LF-AmazonTitles-131K's label count),
// depth 100; run once with
//
//	go test -run '^$' -bench Refresh -benchtime 1x ./samplers/ance
func BenchmarkRefresh131k(b *testing.B) {
	const labels, docs, dim, topics = 131073, 50000, 128, 2000
	r := rand.New(rand.NewPCG(1, 1))
	centre := make([]float64, topics*dim)
	for i := range centre {
		centre[i] = r.NormFloat64()
	}
	gen := func(n int, t func(i int) int) []float32 {
		v := make([]float32, n*dim)
		for i := range n {
			c := t(i)
			var s float64
			for j := range dim {
				x := centre[c*dim+j] + 0.8*r.NormFloat64()
				v[i*dim+j] = float32(x)
				s += x * x
			}
			inv := float32(1 / math.Sqrt(s))
			for j := range dim {
				v[i*dim+j] *= inv
			}
		}
		return v
	}
	lbl := gen(labels, func(i int) int { return i % topics })
	rows := make([][]int32, docs)
	for d := range rows {
		rows[d] = []int32{int32(r.IntN(labels))}
	}
	doc := gen(docs, func(d int) int { return int(rows[d][0]) % topics })
	y, _ := sparse.FromRows(labels, rows)
	ds := &data.Dataset{NumLabels: labels, TrainY: y}
	for _, kind := range []string{"hnsw", "exact"} {
		b.Run(kind, func(b *testing.B) {
			s := New()
			s.open = func(sdk.Config) (*data.Dataset, error) { return ds, nil }
			if err := s.Configure(context.Background(), sdk.Config{Params: []byte(`{"index":"` + kind + `"}`)}); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				st, err := s.Refresh(context.Background(), 10, sdk.Matrix{Rows: docs, Cols: dim, Data: doc}, sdk.Matrix{Rows: labels, Cols: dim, Data: lbl})
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(st.Wall.Seconds(), "wall-s")
				for k, v := range st.Detail {
					b.ReportMetric(v, k)
				}
			}
		})
	}
}
