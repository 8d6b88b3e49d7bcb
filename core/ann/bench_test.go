package ann

import (
	"context"
	"fmt"
	mrand "math/rand"
	"testing"
	"time"

	coder "github.com/coder/hnsw"
)

// Heavy benchmarks for the report; run once with
//   go test -run '^$' -bench . -benchtime 1x ./core/ann
// They are not part of CI.

func benchData(n, dim, nq int) (vecs, q []float32) {
	return clustered(11, n, dim, n/100, 0.6), clustered(12, nq, dim, n/100, 0.6)
}

// BenchmarkANN reports build seconds, queries/s and recall@10 against exact
// search at 100k x 128 (ours) and 20k x 128 (ours vs github.com/coder/hnsw,
// whose build is single-threaded and much slower).
func BenchmarkANN(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{20000, 100000} {
		const dim, nq, k = 128, 2000, 10
		vecs, q := benchData(n, dim, nq)
		exact := NewExact(vecs, n, dim)
		t0 := time.Now()
		want, _, _ := exact.Search(ctx, q, nq, k)
		exactQPS := float64(nq) / time.Since(t0).Seconds()
		b.Run(fmt.Sprintf("exact/n=%d", n), func(b *testing.B) {
			for b.Loop() {
				t0 := time.Now()
				if _, _, err := NewExact(vecs, n, dim).Search(ctx, q, nq, k); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(nq)/time.Since(t0).Seconds(), "queries/s")
			}
			b.ReportMetric(1, "recall@10")
		})
		for _, ef := range []int{64, 128} {
			b.Run(fmt.Sprintf("hnsw/n=%d/M=16/efC=200/efS=%d", n, ef), func(b *testing.B) {
				for b.Loop() {
					t0 := time.Now()
					idx, err := BuildHNSW(ctx, Config{M: 16, EfConstruction: 200, EfSearch: ef, Seed: 1}, vecs, n, dim)
					if err != nil {
						b.Fatal(err)
					}
					build := time.Since(t0).Seconds()
					t0 = time.Now()
					got, _, _ := idx.Search(ctx, q, nq, k)
					qps := float64(nq) / time.Since(t0).Seconds()
					b.ReportMetric(build, "build-s")
					b.ReportMetric(qps, "queries/s")
					b.ReportMetric(qps/exactQPS, "x-exact-qps")
					b.ReportMetric(recall(got, want, nq, k), "recall@10")
				}
			})
		}
		if n > 20000 {
			continue
		}
		b.Run(fmt.Sprintf("coder-hnsw/n=%d/M=16/ef=128", n), func(b *testing.B) {
			for b.Loop() {
				t0 := time.Now()
				g := coder.NewGraph[int32]()
				g.M, g.EfSearch, g.Distance = 16, 128, coder.CosineDistance
				g.Rng = mrand.New(mrand.NewSource(1))
				for i := range n {
					g.Add(coder.MakeNode(int32(i), vecs[i*dim:(i+1)*dim]))
				}
				build := time.Since(t0).Seconds()
				got := make([]int32, nq*k)
				t0 = time.Now()
				for i := range nq {
					res := g.Search(q[i*dim:(i+1)*dim], k)
					for j := range k {
						got[i*k+j] = -1
						if j < len(res) {
							got[i*k+j] = res[j].Key
						}
					}
				}
				qps := float64(nq) / time.Since(t0).Seconds()
				b.ReportMetric(build, "build-s")
				b.ReportMetric(qps, "queries/s")
				b.ReportMetric(recall(got, want, nq, k), "recall@10")
			}
		})
	}
}

func recall(got, want []int32, nq, k int) float64 {
	hits := 0
	for i := range nq {
		for _, g := range got[i*k : (i+1)*k] {
			for _, w := range want[i*k : (i+1)*k] {
				if g == w && g >= 0 {
					hits++
					break
				}
			}
		}
	}
	return float64(hits) / float64(nq*k)
}
