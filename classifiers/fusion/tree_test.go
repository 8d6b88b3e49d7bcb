package fusion

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestTreeSimpleSplits(t *testing.T) {
	cases := []struct {
		name  string
		x     []float32 // one feature
		y     []bool
		depth int
		thr   float32
		leafs int
		probs []float32 // for the x values in probe
		probe []float32
	}{
		{"threshold at midpoint", []float32{0.1, 0.2, 0.3, 0.7, 0.8}, []bool{false, false, false, true, true}, 3, 0.5, 2,
			[]float32{0, 0, 1, 1}, []float32{-5, 0.5, 0.51, 9}},
		{"depth 0 is the prior", []float32{0.1, 0.2, 0.3, 0.7}, []bool{false, true, false, true}, 0, 0, 1,
			[]float32{0.5, 0.5}, []float32{0, 1}},
		{"pure node does not split", []float32{1, 2, 3}, []bool{true, true, true}, 5, 0, 1,
			[]float32{1}, []float32{2}},
		{"ties in x cannot split", []float32{1, 1, 1, 1}, []bool{true, false, true, false}, 5, 0, 1,
			[]float32{0.5}, []float32{1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := FitTree(context.Background(), tc.x, 1, tc.y, TreeConfig{MaxDepth: tc.depth})
			if err != nil {
				t.Fatal(err)
			}
			leaves := 0
			for _, n := range tr.Nodes {
				if n.Feature < 0 {
					leaves++
				}
			}
			if leaves != tc.leafs {
				t.Errorf("%d leaves, want %d", leaves, tc.leafs)
			}
			if tc.leafs > 1 && tr.Nodes[0].Threshold != tc.thr {
				t.Errorf("root threshold %v, want %v", tr.Nodes[0].Threshold, tc.thr)
			}
			for i, v := range tc.probe {
				if p := tr.Prob([]float32{v}); p != tc.probs[i] {
					t.Errorf("Prob(%v) = %v, want %v", v, p, tc.probs[i])
				}
			}
		})
	}
}

// bruteRoot finds the best root split by trying every feature and every
// observed value as "x <= v".
func bruteRoot(x []float32, nf int, y []bool) (bestF int, bestGain float64) {
	n := len(y)
	pos := 0
	for _, b := range y {
		if b {
			pos++
		}
	}
	parent := gini(pos, n)
	bestF = -1
	for f := 0; f < nf; f++ {
		for i := 0; i < n; i++ {
			v := x[i*nf+f]
			nl, lp := 0, 0
			for j := 0; j < n; j++ {
				if x[j*nf+f] <= v {
					nl++
					if y[j] {
						lp++
					}
				}
			}
			if nl == 0 || nl == n {
				continue
			}
			g := parent - (float64(nl)*gini(lp, nl)+float64(n-nl)*gini(pos-lp, n-nl))/float64(n)
			if g > bestGain+1e-12 {
				bestF, bestGain = f, g
			}
		}
	}
	return bestF, bestGain
}

func TestTreeMatchesBruteForceAndIsDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n, nf = 300, 3
	x := make([]float32, n*nf)
	y := make([]bool, n)
	for i := range y {
		for f := 0; f < nf; f++ {
			x[i*nf+f] = float32(rng.IntN(40)) / 40 // many ties
		}
		y[i] = x[i*nf+1]+0.3*x[i*nf+2]+0.2*float32(rng.NormFloat64()) > 0.6
	}
	tr, err := FitTree(context.Background(), x, nf, y, TreeConfig{MaxDepth: 7})
	if err != nil {
		t.Fatal(err)
	}
	f, gain := bruteRoot(x, nf, y)
	if tr.Nodes[0].Feature != f {
		t.Errorf("root feature %d, brute force %d (gain %.4f)", tr.Nodes[0].Feature, f, gain)
	}
	if d := tr.Depth(); d > 7 || d < 2 {
		t.Errorf("depth %d, want 2..7", d)
	}
	// every leaf's probability is the fraction of its training samples
	counts := map[int32][2]int{}
	for i := range y {
		leaf := int32(0)
		for tr.Nodes[leaf].Feature >= 0 {
			nd := tr.Nodes[leaf]
			if x[i*nf+nd.Feature] <= nd.Threshold {
				leaf = nd.Left
			} else {
				leaf = nd.Right
			}
		}
		c := counts[leaf]
		c[0]++
		if y[i] {
			c[1]++
		}
		counts[leaf] = c
	}
	for leaf, c := range counts {
		nd := tr.Nodes[leaf]
		if nd.N != c[0] || nd.Prob != float32(c[1])/float32(c[0]) {
			t.Errorf("leaf %d: N %d prob %v, recount %d %v", leaf, nd.N, nd.Prob, c[0], float32(c[1])/float32(c[0]))
		}
	}
	again, _ := FitTree(context.Background(), x, nf, y, TreeConfig{MaxDepth: 7})
	if !slices.Equal(tr.Nodes, again.Nodes) {
		t.Error("refit gave a different tree")
	}
	shallow, _ := FitTree(context.Background(), x, nf, y, TreeConfig{MaxDepth: 2})
	if shallow.Depth() > 2 {
		t.Errorf("max depth 2 grew depth %d", shallow.Depth())
	}
}

func TestTreeErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := FitTree(ctx, nil, 3, nil, TreeConfig{MaxDepth: 2}); err == nil {
		t.Error("no samples accepted")
	}
	if _, err := FitTree(ctx, []float32{1, 2}, 3, []bool{true}, TreeConfig{MaxDepth: 2}); err == nil {
		t.Error("shape mismatch accepted")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := FitTree(cctx, []float32{1, 2}, 1, []bool{true, false}, TreeConfig{MaxDepth: 2}); err == nil {
		t.Error("canceled context ignored")
	}
}

func TestFusionRules(t *testing.T) {
	cases := []struct {
		name string
		got  float32
		want float32
	}{
		{"tree beta 1", TreeScore(0.5, 0.2, 0.3, 1), 1.0},
		{"tree beta 0 is clf", TreeScore(0.9, 0.2, 0.3, 0), 0.2},
		{"sum w 1 is clf", Sum(1, 0.2, 0.3), 0.2},
		{"sum w 0 is knn", Sum(0, 0.2, 0.3), 0.3},
		{"sum half", Sum(0.5, 0.2, 0.4), 0.3},
	}
	for _, tc := range cases {
		if d := tc.got - tc.want; d > 1e-6 || d < -1e-6 {
			t.Errorf("%s: %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}
