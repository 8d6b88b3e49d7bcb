package stats

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestPairedT(t *testing.T) {
	// Differences 1, 2, 3: mean 2, sd 1, se 1/sqrt(3); t(0.975, 2) = 4.3027.
	iv, err := PairedT([]float64{2, 4, 6}, []float64{1, 2, 3}, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	half := 4.302652729911275 / math.Sqrt(3)
	if math.Abs(iv.Diff-2) > 1e-12 || math.Abs(iv.Lo-(2-half)) > 1e-9 || math.Abs(iv.Hi-(2+half)) > 1e-9 {
		t.Fatalf("got %v", iv)
	}
	if iv.Excludes0() { // [-0.48, 4.48]: three seeds are not enough here
		t.Fatalf("interval %v should include 0", iv)
	}
	if iv, _ = PairedT([]float64{2.1, 2.9, 2.5, 2.6}, []float64{1, 2, 1.5, 1.4}, 0.95); !iv.Excludes0() {
		t.Fatalf("a steady gap of about 1: %v should exclude 0", iv)
	}
	if _, err := PairedT([]float64{1}, []float64{2}, 0.95); err == nil {
		t.Fatal("one pair: no error")
	}
}

// TestBootstrapCoversAndSeparates checks the bootstrap on systems with a
// known per-document difference: a real gap is found, no gap is not, and
// the interval is reproducible from its seed.
func TestBootstrapCoversAndSeparates(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const n = 2000
	mk := func(p float64) []float64 {
		out := make([]float64, n)
		for i := range out {
			if r.Float64() < p {
				out[i] = 1
			}
		}
		return out
	}
	ones := make([]float64, n)
	for i := range ones {
		ones[i] = 1
	}
	a, b, c := mk(0.6), mk(0.5), mk(0.6)
	gap, err := Bootstrap(Paired{NumA: [][]float64{a}, DenA: [][]float64{ones}, NumB: [][]float64{b}, DenB: [][]float64{ones}}, 2000, 7, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	if !gap.Excludes0() || gap.Lo > 0.1 || gap.Hi < 0.1 {
		t.Fatalf("a real 10-point gap: %v", gap)
	}
	same, _ := Bootstrap(Paired{NumA: [][]float64{a}, DenA: [][]float64{ones}, NumB: [][]float64{c}, DenB: [][]float64{ones}}, 2000, 7, 0.95)
	if same.Excludes0() {
		t.Fatalf("no gap, yet the interval excludes 0: %v", same)
	}
	again, _ := Bootstrap(Paired{NumA: [][]float64{a}, DenA: [][]float64{ones}, NumB: [][]float64{b}, DenB: [][]float64{ones}}, 2000, 7, 0.95)
	if again != gap {
		t.Fatal("not reproducible from its seed")
	}
}
