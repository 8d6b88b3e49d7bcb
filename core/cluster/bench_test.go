package cluster

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

// Heavy benchmarks for the report; run once with
//   go test -run '^$' -bench . -benchtime 1x ./core/cluster
// They are not part of CI.

// BenchmarkCopyBandwidth measures the machine's streaming bandwidth (read
// + write of a 512 MiB buffer, GOMAXPROCS goroutines) to compare the
// clustering passes against.
func BenchmarkCopyBandwidth(b *testing.B) {
	b.ReportMetric(copyBandwidth(), "GB/s")
}

func copyBandwidth() float64 {
	const n = 128 << 20 // float32s: 512 MiB
	src := make([]float32, n)
	dst := make([]float32, n)
	for i := range src {
		src[i] = float32(i)
	}
	w := runtime.GOMAXPROCS(0)
	best := 0.0
	for range 3 {
		t0 := time.Now()
		done := make(chan struct{})
		for p := range w {
			go func() {
				lo, hi := p*n/w, (p+1)*n/w
				copy(dst[lo:hi], src[lo:hi])
				done <- struct{}{}
			}()
		}
		for range w {
			<-done
		}
		best = max(best, 2*4*float64(n)/time.Since(t0).Seconds()/1e9)
	}
	return best
}

// BenchmarkBalanced clusters N x D Gaussian-mixture vectors into N/256
// clusters (the size NGAME reaches late in its curriculum) and reports
// seconds, 2-means rounds per point, and the achieved GB/s of the row
// reads (every round's score pass reads all rows of a split; the centroid
// sums read only the rows that changed sides) against the copy bandwidth
// measured in the same run. "GB/s-1.5" counts 1.5 row reads per point and
// round as a full-resum implementation streams, for comparison with it.
func BenchmarkBalanced(b *testing.B) {
	bw := copyBandwidth()
	for _, sz := range []struct{ n, d int }{{300000, 256}, {1000000, 128}} {
		b.Run(fmt.Sprintf("%dx%d", sz.n, sz.d), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			const topics = 1000
			centres := make([]float32, topics*sz.d)
			for i := range centres {
				centres[i] = float32(r.NormFloat64())
			}
			v := make([]float32, sz.n*sz.d)
			for i := range sz.n {
				c := r.IntN(topics)
				for j := range sz.d {
					v[i*sz.d+j] = centres[c*sz.d+j] + float32(r.NormFloat64())
				}
			}
			for b.Loop() {
				pointRounds.Store(0)
				rowsSummed.Store(0)
				t0 := time.Now()
				cl, err := Balanced(context.Background(), v, sz.n, sz.d, Options{NumClusters: sz.n / 256, Seed: 1})
				if err != nil {
					b.Fatal(err)
				}
				sec := time.Since(t0).Seconds()
				bytes := float64(pointRounds.Load()+rowsSummed.Load()) * 4 * float64(sz.d)
				full := 1.5 * float64(pointRounds.Load()) * 4 * float64(sz.d)
				b.ReportMetric(sec, "s")
				b.ReportMetric(float64(len(cl)), "clusters")
				b.ReportMetric(float64(pointRounds.Load())/float64(sz.n), "rounds/point")
				b.ReportMetric(bytes/sec/1e9, "GB/s")
				b.ReportMetric(bytes/sec/1e9/bw, "of-copy-bw")
				b.ReportMetric(full/sec/1e9, "GB/s-1.5")
				b.ReportMetric(bw, "copy-GB/s")
			}
		})
	}
}
