// Package stats computes the intervals that back a comparison's claims:
// a paired t interval over seeds and a paired percentile bootstrap over
// test documents. A difference is reported as "supported" only when its
// interval excludes 0; every interval says which method made it.
package stats

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"
)

// Interval is a point estimate of a difference (A - B) with its
// confidence interval.
type Interval struct {
	Diff, Lo, Hi float64
	// Level is the confidence level (0.95).
	Level float64
	// Method names how the interval was made, for the report's text.
	Method string
	// N is the number of paired units (seeds, or documents).
	N int
}

// Excludes0 reports whether the interval lies entirely on one side of 0.
func (iv Interval) Excludes0() bool { return iv.Lo > 0 || iv.Hi < 0 }

func (iv Interval) String() string {
	return fmt.Sprintf("%+.4f [%+.4f, %+.4f] (%.0f%% CI, %s, n=%d)", iv.Diff, iv.Lo, iv.Hi, 100*iv.Level, iv.Method, iv.N)
}

// PairedT is the t interval of mean(a[i] - b[i]) over paired units (the
// seeds of two samplers, say). It needs at least two pairs.
func PairedT(a, b []float64, level float64) (Interval, error) {
	if len(a) != len(b) {
		return Interval{}, fmt.Errorf("stats: %d vs %d paired values", len(a), len(b))
	}
	n := len(a)
	if n < 2 {
		return Interval{}, errors.New("stats: a paired t interval needs at least 2 pairs")
	}
	d := make([]float64, n)
	mean := 0.0
	for i := range a {
		d[i] = a[i] - b[i]
		mean += d[i]
	}
	mean /= float64(n)
	ss := 0.0
	for _, x := range d {
		ss += (x - mean) * (x - mean)
	}
	se := math.Sqrt(ss / float64(n-1) / float64(n))
	q := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}.Quantile(1 - (1-level)/2)
	return Interval{Diff: mean, Lo: mean - q*se, Hi: mean + q*se, Level: level, Method: "paired t over seeds", N: n}, nil
}

// Paired holds per-document numerators and denominators of a metric for
// two systems on the same documents, possibly for several seeds: the
// metric of system X on a set of documents is sum(NumX) / sum(DenX) over
// them (Den all 1 for P@k and nDCG@k; the ideal for PSP@k), averaged over
// seeds. Num and Den are indexed [seed][document].
type Paired struct {
	NumA, DenA, NumB, DenB [][]float64
}

// Bootstrap is the percentile bootstrap interval of metric(A) - metric(B)
// resampling documents with replacement (the same documents for both
// systems and every seed, which is what makes it paired), iters times
// from seed.
func Bootstrap(p Paired, iters int, seed uint64, level float64) (Interval, error) {
	seeds := len(p.NumA)
	if seeds == 0 || len(p.NumB) != seeds || len(p.DenA) != seeds || len(p.DenB) != seeds {
		return Interval{}, errors.New("stats: bootstrap needs the same seeds for both systems")
	}
	n := len(p.NumA[0])
	for s := range seeds {
		for _, v := range [][]float64{p.NumA[s], p.DenA[s], p.NumB[s], p.DenB[s]} {
			if len(v) != n {
				return Interval{}, errors.New("stats: bootstrap needs the same documents for both systems and every seed")
			}
		}
	}
	if n == 0 || iters < 100 {
		return Interval{}, errors.New("stats: bootstrap needs documents and at least 100 resamples")
	}
	diff := func(idx func(int) int) float64 {
		d := 0.0
		for s := range seeds {
			var na, da, nb, db float64
			for i := range n {
				j := idx(i)
				na, da, nb, db = na+p.NumA[s][j], da+p.DenA[s][j], nb+p.NumB[s][j], db+p.DenB[s][j]
			}
			d += ratio(na, da) - ratio(nb, db)
		}
		return d / float64(seeds)
	}
	point := diff(func(i int) int { return i })
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	draws := make([]int, n)
	out := make([]float64, iters)
	for it := range out {
		for i := range draws {
			draws[i] = r.IntN(n)
		}
		out[it] = diff(func(i int) int { return draws[i] })
	}
	slices.Sort(out)
	lo := out[int(math.Floor((1-level)/2*float64(iters)))]
	hi := out[min(iters-1, int(math.Ceil((1+level)/2*float64(iters)))-1)]
	return Interval{Diff: point, Lo: lo, Hi: hi, Level: level,
		Method: fmt.Sprintf("paired bootstrap over %d test documents, %d resamples", n, iters), N: n}, nil
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
