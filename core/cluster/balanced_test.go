package cluster

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// planted draws n points around k well-separated centres and returns the
// points and each point's centre.
func planted(seed uint64, n, dim, k int, noise float64) ([]float32, []int) {
	r := rand.New(rand.NewPCG(seed, 3))
	cs := make([]float64, k*dim)
	for i := range cs {
		cs[i] = r.NormFloat64()
	}
	v := make([]float32, n*dim)
	truth := make([]int, n)
	for i := range n {
		c := i % k // equal-size topics so a balanced split can be pure
		truth[i] = c
		for j := range dim {
			v[i*dim+j] = float32(cs[c*dim+j] + noise*r.NormFloat64())
		}
	}
	return v, truth
}

func TestBalanced(t *testing.T) {
	cases := []struct {
		name      string
		n, dim    int
		opt       Options
		wantCount int
		maxSpread int // max - min cluster size
	}{
		{"power of two", 1000, 8, Options{NumClusters: 16}, 16, 1},
		{"rounded up", 1000, 8, Options{NumClusters: 100}, 128, 1},
		{"odd n", 777, 5, Options{NumClusters: 8}, 8, 1},
		{"no round splits largest", 1000, 8, Options{NumClusters: 3, NoRound: true}, 3, 250},
		{"no round 6", 999, 8, Options{NumClusters: 6, NoRound: true}, 6, 126},
		{"more clusters than points", 10, 4, Options{NumClusters: 64}, 10, 0},
		{"one cluster", 50, 4, Options{NumClusters: 1}, 1, 0},
		{"two points", 2, 3, Options{NumClusters: 2}, 2, 0},
		{"threads many", 5000, 16, Options{NumClusters: 32, Threads: 7}, 32, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, _ := planted(1, tc.n, tc.dim, 4, 1)
			cl, err := Balanced(context.Background(), v, tc.n, tc.dim, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if len(cl) != tc.wantCount {
				t.Fatalf("%d clusters, want %d", len(cl), tc.wantCount)
			}
			seen := make([]bool, tc.n)
			lo, hi := tc.n, 0
			for _, c := range cl {
				if !slices.IsSorted(c) {
					t.Fatalf("cluster %v not in ascending row order", c)
				}
				lo, hi = min(lo, len(c)), max(hi, len(c))
				for _, id := range c {
					if seen[id] {
						t.Fatalf("point %d in two clusters", id)
					}
					seen[id] = true
				}
			}
			if slices.Contains(seen, false) {
				t.Fatal("a point is in no cluster")
			}
			if hi-lo > tc.maxSpread {
				t.Fatalf("cluster sizes %d..%d, spread > %d", lo, hi, tc.maxSpread)
			}
		})
	}
}

func TestBalancedDeterministic(t *testing.T) {
	n, dim := 20000, 16 // > 2 chunks so inner parallel passes are exercised
	v, _ := planted(2, n, dim, 10, 1)
	ctx := context.Background()
	run := func(seed uint64, threads int) [][]int32 {
		cl, err := Balanced(ctx, v, n, dim, Options{NumClusters: 8, Seed: seed, Threads: threads})
		if err != nil {
			t.Fatal(err)
		}
		return cl
	}
	a := run(5, 1)
	cases := []struct {
		name    string
		seed    uint64
		threads int
		same    bool
	}{
		{"same seed same threads", 5, 1, true},
		{"same seed more threads", 5, 4, true},
		{"other seed", 6, 1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := run(tc.seed, tc.threads)
			eq := slices.EqualFunc(a, b, func(x, y []int32) bool { return slices.Equal(x, y) })
			if eq != tc.same {
				t.Fatalf("equal = %v, want %v", eq, tc.same)
			}
		})
	}
}

func TestBalancedRecoversPlantedTopics(t *testing.T) {
	n, dim, k := 4000, 32, 8
	v, truth := planted(3, n, dim, k, 0.3)
	cl, err := Balanced(context.Background(), v, n, dim, Options{NumClusters: k, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	pure := 0
	for _, c := range cl {
		count := map[int]int{}
		best := 0
		for _, id := range c {
			count[truth[id]]++
			best = max(best, count[truth[id]])
		}
		pure += best
	}
	if p := float64(pure) / float64(n); p < 0.9 {
		t.Fatalf("purity %.3f < 0.9", p)
	}
}

func TestSelectLow(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, n := range []int{1, 2, 3, 10, 101, 5000} {
		p := make([]scored, n)
		for i := range p {
			p[i] = scored{float32(r.IntN(7)), int32(i)} // heavy ties
		}
		want := slices.Clone(p)
		slices.SortFunc(want, func(a, b scored) int {
			if less(a, b) {
				return -1
			}
			return 1
		})
		k := (n + 1) / 2
		selectLow(p, k)
		got := slices.Clone(p[:k])
		slices.SortFunc(got, func(a, b scored) int {
			if less(a, b) {
				return -1
			}
			return 1
		})
		if !slices.Equal(got, want[:k]) {
			t.Fatalf("n=%d: lowest half wrong", n)
		}
	}
}

func TestBalancedSubset(t *testing.T) {
	v, _ := planted(4, 100, 4, 2, 1)
	ids := []int32{3, 99, 50, 7, 8, 12, 13}
	cl, err := BalancedSubset(context.Background(), v, 100, 4, ids, Options{NumClusters: 2})
	if err != nil {
		t.Fatal(err)
	}
	var got []int32
	for _, c := range cl {
		got = append(got, c...)
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(ids))
	if len(cl) != 2 || len(cl[0]) != 4 || len(cl[1]) != 3 || !slices.Equal(got, want) {
		t.Fatalf("clusters %v over ids %v", cl, ids)
	}
	if _, err := BalancedSubset(context.Background(), v, 100, 4, []int32{100}, Options{}); err == nil {
		t.Fatal("out-of-range id accepted")
	}
}

func TestBalancedErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := Balanced(ctx, make([]float32, 5), 2, 2, Options{}); err == nil {
		t.Fatal("shape mismatch accepted")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Balanced(cctx, make([]float32, 40), 20, 2, Options{NumClusters: 4}); err == nil {
		t.Fatal("canceled context ignored")
	}
}

// TestSplitSums checks the incrementally maintained half sums against
// sums recomputed from the final halves.
func TestSplitSums(t *testing.T) {
	cases := []struct {
		name     string
		n, dim   int
		workers  int
		zeroRows []int
	}{
		{"small", 101, 8, 1, nil},
		{"chunks in parallel", 3*chunk + 17, 16, 3, []int{5, chunk + 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, _ := planted(5, tc.n, tc.dim, 6, 1)
			for _, z := range tc.zeroRows {
				clear(v[z*tc.dim : (z+1)*tc.dim])
			}
			opt := Options{Tol: 1e-4, MaxIter: 50, Threads: tc.workers, Seed: 3}
			s := &splitter{vecs: v, dim: tc.dim, opt: opt, inv: make([]float32, tc.n), side: make([]uint8, tc.n)}
			s.invNorms(tc.n)
			idx := make([]int32, tc.n)
			for i := range idx {
				idx[i] = int32(i)
			}
			sum0, sum1 := s.split(node{idx: idx}, tc.workers, &scratch{})
			h := (tc.n + 1) / 2
			if !slices.IsSorted(idx[:h]) || !slices.IsSorted(idx[h:]) {
				t.Fatal("halves not ascending")
			}
			for half, want := range [][]float64{s.sum(idx[:h], 1, &scratch{}), s.sum(idx[h:], 1, &scratch{})} {
				got := [][]float64{sum0, sum1}[half]
				for j := range want {
					// Both sides add unit rows in float32 partials: allow
					// float32 rounding relative to the rows added.
					if d := math.Abs(got[j] - want[j]); d > 1e-5*float64(tc.n) {
						t.Fatalf("half %d dim %d: sum %v, recomputed %v", half, j, got[j], want[j])
					}
				}
			}
		})
	}
}
