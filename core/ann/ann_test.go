package ann

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// clustered draws n vectors around nc Gaussian centres, the shape real
// embeddings have (uniform Gaussians in high dim make every ANN look bad).
func clustered(seed uint64, n, dim, nc int, noise float64) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	centres := make([]float64, nc*dim)
	for i := range centres {
		centres[i] = r.NormFloat64()
	}
	v := make([]float32, n*dim)
	for i := range n {
		c := r.IntN(nc)
		for j := range dim {
			v[i*dim+j] = float32(centres[c*dim+j] + noise*r.NormFloat64())
		}
	}
	return v
}

// bruteForce is the obviously-correct reference: float64 cosines, full sort.
func bruteForce(vecs []float32, n int, q []float32, dim, k int) []int32 {
	norm := func(x []float32) float64 {
		var s float64
		for _, v := range x {
			s += float64(v) * float64(v)
		}
		return math.Sqrt(s)
	}
	type sc struct {
		id int32
		s  float64
	}
	var all []sc
	qn := norm(q)
	for i := range n {
		row := vecs[i*dim : (i+1)*dim]
		rn := norm(row)
		if rn == 0 {
			continue
		}
		var d float64
		for j := range dim {
			d += float64(row[j]) * float64(q[j])
		}
		all = append(all, sc{int32(i), d / rn / qn})
	}
	slices.SortFunc(all, func(a, b sc) int {
		if a.s != b.s {
			if a.s > b.s {
				return -1
			}
			return 1
		}
		return int(a.id - b.id)
	})
	out := make([]int32, k)
	for i := range out {
		out[i] = -1
		if i < len(all) {
			out[i] = all[i].id
		}
	}
	return out
}

func TestTopK(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(-1))
	cases := []struct {
		name   string
		scores []float32
		k      int
		ids    []int32
		vals   []float32
	}{
		{"simple", []float32{0.1, 0.5, 0.3}, 2, []int32{1, 2}, []float32{0.5, 0.3}},
		{"ties prefer small index", []float32{0.2, 0.9, 0.2, 0.9}, 3, []int32{1, 3, 0}, []float32{0.9, 0.9, 0.2}},
		{"pad when short", []float32{0.4}, 3, []int32{0, -1, -1}, []float32{0.4, inf, inf}},
		{"nan skipped", []float32{nan, 0.1, nan}, 2, []int32{1, -1}, []float32{0.1, inf}},
		{"k zero", []float32{1}, 0, nil, nil},
		{"negative scores", []float32{-3, -1, -2}, 1, []int32{1}, []float32{-1}},
	}
	// A long vector takes the heap path; check it against a full sort.
	r := rand.New(rand.NewPCG(7, 7))
	long := make([]float32, 1000)
	for i := range long {
		long[i] = float32(r.IntN(50)) // many ties
	}
	idx := make([]int32, len(long))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortStableFunc(idx, func(a, b int32) int {
		switch {
		case long[a] > long[b]:
			return -1
		case long[a] < long[b]:
			return 1
		}
		return 0
	})
	var want []float32
	for _, i := range idx[:10] {
		want = append(want, long[i])
	}
	cases = append(cases, struct {
		name   string
		scores []float32
		k      int
		ids    []int32
		vals   []float32
	}{"heap path", long, 10, idx[:10], want})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ids, vals := TopK(tc.scores, tc.k)
			if !slices.Equal(ids, tc.ids) || !slices.Equal(vals, tc.vals) {
				t.Fatalf("TopK = %v %v, want %v %v", ids, vals, tc.ids, tc.vals)
			}
		})
	}
}

func TestExactMatchesBruteForce(t *testing.T) {
	const dim = 16
	cases := []struct {
		name     string
		n, nq, k int
		zeroRows []int
	}{
		{"small", 50, 7, 5, nil},
		{"k beyond n", 4, 3, 6, nil},
		{"zero rows dropped, ids kept", 300, 70, 10, []int{0, 5, 299}},
		{"several blocks", 9000, 130, 3, []int{4096}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			vecs := clustered(1, tc.n, dim, 5, 1)
			for _, z := range tc.zeroRows {
				clear(vecs[z*dim : (z+1)*dim])
			}
			q := clustered(2, tc.nq, dim, 5, 1)
			e := NewExact(vecs, tc.n, dim)
			if e.Len() != tc.n-len(tc.zeroRows) || e.Dim() != dim {
				t.Fatalf("Len/Dim = %d/%d", e.Len(), e.Dim())
			}
			ids, scores, err := e.Search(context.Background(), q, tc.nq, tc.k)
			if err != nil {
				t.Fatal(err)
			}
			for i := range tc.nq {
				want := bruteForce(vecs, tc.n, q[i*dim:(i+1)*dim], dim, tc.k)
				got := ids[i*tc.k : (i+1)*tc.k]
				if !slices.Equal(got, want) {
					// float32 vs float64 can swap near-ties; accept only if scores tie.
					for j := range got {
						if got[j] != want[j] && (got[j] < 0 || want[j] < 0) {
							t.Fatalf("query %d: got %v want %v", i, got, want)
						}
					}
				}
				for j := range tc.k {
					s := scores[i*tc.k+j]
					if got[j] < 0 {
						if !math.IsInf(float64(s), -1) {
							t.Fatalf("missing result has score %v", s)
						}
						continue
					}
					if slices.Contains(tc.zeroRows, int(got[j])) {
						t.Fatalf("zero row %d returned", got[j])
					}
					if s > 1.0001 || (j > 0 && s > scores[i*tc.k+j-1]) {
						t.Fatalf("scores not sorted cosines: %v", scores[i*tc.k:(i+1)*tc.k])
					}
				}
			}
		})
	}
}

func recallAt(t *testing.T, got, want []int32, nq, k int) float64 {
	t.Helper()
	hits := 0
	for i := range nq {
		w := want[i*k : (i+1)*k]
		for _, g := range got[i*k : (i+1)*k] {
			if g >= 0 && slices.Contains(w, g) {
				hits++
			}
		}
	}
	return float64(hits) / float64(nq*k)
}

func TestHNSWRecall(t *testing.T) {
	n, dim, nq, k := 20000, 64, 500, 10
	if testing.Short() {
		n = 5000
	}
	vecs := clustered(3, n, dim, 100, 0.6)
	q := clustered(4, nq, dim, 100, 0.6)
	ctx := context.Background()
	idx, err := Build(ctx, Config{Kind: "hnsw", M: 16, EfConstruction: 200, EfSearch: 200, Seed: 1}, vecs, n, dim)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := idx.Search(ctx, q, nq, k)
	if err != nil {
		t.Fatal(err)
	}
	want, _, _ := NewExact(vecs, n, dim).Search(ctx, q, nq, k)
	if r := recallAt(t, got, want, nq, k); r < 0.95 {
		t.Fatalf("recall@%d = %.3f, want >= 0.95", k, r)
	} else {
		t.Logf("recall@%d = %.4f on %dx%d", k, r, n, dim)
	}
}

func TestHNSWDeterministicAcrossThreads(t *testing.T) {
	n, dim := 3000, 16
	vecs := clustered(5, n, dim, 20, 0.5)
	clear(vecs[7*dim : 8*dim])
	q := clustered(6, 100, dim, 20, 0.5)
	ctx := context.Background()
	var first []int32
	for _, threads := range []int{1, 2, 5} {
		idx, err := BuildHNSW(ctx, Config{M: 8, EfConstruction: 40, EfSearch: 20, Seed: 9, Threads: threads}, vecs, n, dim)
		if err != nil {
			t.Fatal(err)
		}
		if idx.Len() != n-1 {
			t.Fatalf("Len = %d, want %d (zero row dropped)", idx.Len(), n-1)
		}
		ids, _, err := idx.Search(ctx, q, 100, 5)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(ids, 7) {
			t.Fatal("zero row returned")
		}
		if first == nil {
			first = ids
		} else if !slices.Equal(first, ids) {
			t.Fatalf("threads=%d gives different results", threads)
		}
	}
}

func TestBuildErrors(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name   string
		cfg    Config
		vecs   []float32
		n, dim int
	}{
		{"unknown kind", Config{Kind: "lsh"}, make([]float32, 4), 2, 2},
		{"shape mismatch", Config{Kind: "exact"}, make([]float32, 5), 2, 2},
		{"zero dim", Config{Kind: "hnsw"}, nil, 0, 0},
		{"M too small", Config{Kind: "hnsw", M: 1}, make([]float32, 4), 2, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Build(ctx, tc.cfg, tc.vecs, tc.n, tc.dim); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func TestSearchEdgeCases(t *testing.T) {
	ctx := context.Background()
	for _, kind := range []string{"exact", "hnsw"} {
		t.Run(kind, func(t *testing.T) {
			empty, err := Build(ctx, Config{Kind: kind}, make([]float32, 6), 3, 2) // all zero rows
			if err != nil {
				t.Fatal(err)
			}
			ids, scores, err := empty.Search(ctx, []float32{1, 0}, 1, 2)
			if err != nil || !slices.Equal(ids, []int32{-1, -1}) || !math.IsInf(float64(scores[0]), -1) {
				t.Fatalf("empty index: %v %v %v", ids, scores, err)
			}
			idx, _ := Build(ctx, Config{Kind: kind}, clustered(1, 500, 4, 3, 1), 500, 4)
			if _, _, err := idx.Search(ctx, make([]float32, 3), 1, 1); err == nil {
				t.Fatal("bad query shape accepted")
			}
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			if _, _, err := idx.Search(cctx, make([]float32, 4*300), 300, 1); !errors.Is(err, context.Canceled) {
				t.Fatalf("canceled search: %v", err)
			}
		})
	}
}
