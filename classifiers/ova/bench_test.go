package ova

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/xcbench/xcbench/classifiers/fusion"
	"github.com/xcbench/xcbench/core/ann"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// benchLabels is LF-AmazonTitles-131K's label count.
const benchLabels = 131072

// benchVecs makes n unit vectors clustered around n/64 random centres, a
// rough stand-in for label embeddings (pure noise is unrealistically hard
// for HNSW).
func benchVecs(rng *rand.Rand, centres [][]float32, n, dim int) []float32 {
	out := make([]float32, 0, n*dim)
	for i := 0; i < n; i++ {
		c := centres[rng.IntN(len(centres))]
		v := make([]float32, dim)
		for k := range v {
			v[k] = c[k] + 0.5*float32(rng.NormFloat64())/float32(dim)
		}
		normalize(v)
		out = append(out, v...)
	}
	return out
}

// benchClassifier builds a "trained" ova classifier directly: label
// embeddings, perturbed classifier vectors, both indexes and a depth-7
// tree fitted on random scores.
func benchClassifier(b *testing.B, dim int, index, mode string) (*Classifier, []float32, int) {
	b.Helper()
	key := fmt.Sprint(index, dim)
	if e, ok := benchCache[key]; ok {
		c := *e.c
		c.p.Fusion = mode
		return &c, e.q, len(e.q) / dim
	}
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(uint64(dim), 1))
	centres := make([][]float32, benchLabels/64)
	for i := range centres {
		centres[i] = randUnit(rng, dim)
	}
	z := benchVecs(rng, centres, benchLabels, dim)
	w := make([]float32, len(z))
	for i := range w {
		w[i] = z[i] + 0.05*float32(rng.NormFloat64())
	}
	p := DefaultParams()
	p.Index, p.Fusion, p.M, p.EfConstruction, p.EfSearch = index, mode, 16, 100, 128
	c := &Classifier{p: p, dim: dim, z: z, wn: ann.Normalized(w, benchLabels, dim), inv: make([]float32, benchLabels)}
	for i := range c.inv {
		c.inv[i] = 1 + 3*rng.Float32()
	}
	start := time.Now()
	var err error
	icfg := p.IndexConfig(1)
	if c.knnIdx, err = ann.Build(ctx, icfg, c.z, benchLabels, dim); err != nil {
		b.Fatal(err)
	}
	if c.clfIdx, err = ann.Build(ctx, icfg, c.wn, benchLabels, dim); err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: both index builds for %d x %d: %v", index, benchLabels, dim, time.Since(start))
	{
		const n = 20000
		x := make([]float32, n*numFeatures)
		y := make([]bool, n)
		for i := range y {
			x[3*i], x[3*i+1], x[3*i+2] = rng.Float32(), rng.Float32(), c.inv[rng.IntN(benchLabels)]
			y[i] = x[3*i]+x[3*i+1]+0.3*float32(rng.NormFloat64()) > 1.2
		}
		if c.tree, err = fusion.FitTree(ctx, x, numFeatures, y, fusion.TreeConfig{MaxDepth: 7}); err != nil {
			b.Fatal(err)
		}
	}
	q := benchVecs(rng, centres, 256, dim)
	benchCache[key] = benchEntry{c, q}
	c2 := *c
	c2.p.Fusion = mode
	return &c2, q, 256
}

type benchEntry struct {
	c *Classifier
	q []float32
}

// benchCache keeps built indexes across sub-benchmarks and b.N rounds:
// an HNSW build over 131k labels takes far longer than the measurement.
var benchCache = map[string]benchEntry{}

// BenchmarkPredict measures prediction throughput at top-100 over 131k
// labels: "knn" is the knn classifier's single index; "none" the ova
// classifier index alone; "sum" and "tree" ova's two-index path (both
// searches at depth num_nbrs=100, exact re-scoring of the union, fusion).
//
//	go test ./classifiers/ova -run '^$' -bench Predict -benchtime 3x
func BenchmarkPredict(b *testing.B) {
	for _, index := range []string{"exact", "hnsw"} {
		for _, dim := range []int{64, 128} {
			for _, mode := range []string{"knn", "none", "sum", "tree"} {
				b.Run(fmt.Sprintf("%s/dim=%d/%s", index, dim, mode), func(b *testing.B) {
					c, q, nq := benchClassifier(b, dim, index, mode)
					ctx := context.Background()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						var err error
						if mode == "knn" {
							_, err = (&knnOnly{c}).predict(ctx, q, nq)
						} else {
							_, err = c.predict(ctx, q, nq, 100, mode, nil)
						}
						if err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(nq)*float64(b.N)/b.Elapsed().Seconds(), "docs/s")
				})
			}
		}
	}
}

// knnOnly predicts as the knn classifier does: one search over the label
// embeddings.
type knnOnly struct{ c *Classifier }

func (k *knnOnly) predict(ctx context.Context, q []float32, nq int) (sdk.TopK, error) {
	ids, s, err := k.c.knnIdx.Search(ctx, q, nq, 100)
	return sdk.TopK{Rows: nq, K: 100, Labels: ids, Scores: s}, err
}
