package ova

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/core/sparse"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// noisySet is a synthetic task where label text is noisy: every label has a
// true direction mu_l, its embedding is mu_l plus noise of norm labelNoise,
// and documents sit near the mean of their labels' true directions. A
// label-embedding kNN is then hurt by the noise, while classifiers trained
// on the documents can recover mu_l.
type noisySet struct {
	ds                    *data.Dataset
	trainX, testX, labels sdk.Matrix
}

func randUnit(rng *rand.Rand, d int) []float32 {
	v := make([]float32, d)
	ss := 0.0
	for i := range v {
		g := rng.NormFloat64()
		v[i] = float32(g)
		ss += g * g
	}
	for i := range v {
		v[i] /= float32(math.Sqrt(ss))
	}
	return v
}

func normalize(v []float32) {
	ss := 0.0
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	for i := range v {
		v[i] /= float32(math.Sqrt(ss))
	}
}

func makeNoisySet(t testing.TB, seed uint64, L, D, nTrain, nTest int, labelNoise, docNoise, skew float64) noisySet {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	mu := make([][]float32, L)
	z := make([]float32, 0, L*D)
	for l := range mu {
		mu[l] = randUnit(rng, D)
		e := randUnit(rng, D)
		v := make([]float32, D)
		for k := range v {
			v[k] = mu[l][k] + float32(labelNoise)*e[k]
		}
		normalize(v)
		z = append(z, v...)
	}
	gen := func(n int) ([]float32, [][]int32) {
		x := make([]float32, 0, n*D)
		rows := make([][]int32, n)
		for i := range rows {
			m := 1 + rng.IntN(3)
			for len(rows[i]) < m {
				// popularity skew: low ids are more frequent
				l := int32(float64(L) * math.Pow(rng.Float64(), skew))
				if !slices.Contains(rows[i], l) {
					rows[i] = append(rows[i], l)
				}
			}
			slices.Sort(rows[i])
			v := make([]float32, D)
			for _, l := range rows[i] {
				for k := range v {
					v[k] += mu[l][k]
				}
			}
			e := randUnit(rng, D)
			for k := range v {
				v[k] += float32(docNoise) * e[k]
			}
			normalize(v)
			x = append(x, v...)
		}
		return x, rows
	}
	trX, trRows := gen(nTrain)
	teX, teRows := gen(nTest)
	trY, err := sparse.FromRows(L, trRows)
	if err != nil {
		t.Fatal(err)
	}
	teY, err := sparse.FromRows(L, teRows)
	if err != nil {
		t.Fatal(err)
	}
	return noisySet{
		ds: &data.Dataset{Name: "noisy", Format: "synthetic", NumLabels: L, TrainY: trY, TestY: teY,
			PropA: 0.55, PropB: 1.5},
		trainX: sdk.Matrix{Rows: nTrain, Cols: D, Data: trX},
		testX:  sdk.Matrix{Rows: nTest, Cols: D, Data: teX},
		labels: sdk.Matrix{Rows: L, Cols: D, Data: z},
	}
}

// precisionAt is pyxclib's P@k over all rows.
func precisionAt(tk sdk.TopK, truth *sparse.CSR, k int) float64 {
	hits := 0
	for i := 0; i < tk.Rows; i++ {
		labels, _ := tk.Row(i)
		for _, l := range labels[:min(k, tk.K)] {
			if l >= 0 && truth.Has(i, l) {
				hits++
			}
		}
	}
	return float64(hits) / float64(tk.Rows*k)
}
