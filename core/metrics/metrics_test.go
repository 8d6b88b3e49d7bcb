package metrics

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/core/sparse"
	"github.com/xcbench/xcbench/plugins/sdk"
)

func mustSparse(t testing.TB, name string) *sparse.CSR {
	t.Helper()
	m, err := data.ReadSparseFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// golden values printed by testdata/pyxclib_ref.py (an independent
// transcription of pyxclib) on the same files.
var handGolden = []struct {
	name   string
	filter bool
	want   map[string]float64
}{
	{"no filter", false, map[string]float64{
		"P@1": 0.3333333333, "P@3": 0.4444444444, "P@5": 0.2666666667,
		"nDCG@1": 0.3333333333, "nDCG@3": 0.4834806877, "nDCG@5": 0.4834806877,
		"PSP@1": 0.5, "PSP@3": 0.8060017089, "PSP@5": 0.8060017089,
		"PSnDCG@1": 0.5, "PSnDCG@3": 0.7297249640, "PSnDCG@5": 0.7297249640,
		"R@1": 0.1666666667, "R@3": 0.5555555556, "R@5": 0.5555555556,
	}},
	{"filter and zero score", true, map[string]float64{
		"P@1": 0, "P@3": 0.2222222222, "P@5": 0.1333333333,
		"nDCG@1": 0, "nDCG@3": 0.1769070913, "nDCG@5": 0.1769070913,
		"PSP@1": 0, "PSP@3": 0.4192994487, "PSP@5": 0.4192994487,
		"PSnDCG@1": 0, "PSnDCG@3": 0.2760817874, "PSnDCG@5": 0.2760817874,
		"R@1": 0, "R@3": 0.2222222222, "R@5": 0.2222222222,
	}},
}

func TestEvaluateHand(t *testing.T) {
	pred := data.CSRToTopK(mustSparse(t, "hand_pred.txt"), 3)
	truth := mustSparse(t, "hand_truth.txt")
	w := InvPropensity(mustSparse(t, "hand_trainy.txt"), 0.55, 1.5)
	filter, err := data.ReadFilter("testdata/hand_filter.txt", 3, 5)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range handGolden {
		t.Run(c.name, func(t *testing.T) {
			var f []data.Pair
			if c.filter {
				f = filter
			}
			res, err := Evaluate(pred, truth, f, w, []int{1, 3, 5})
			if err != nil {
				t.Fatal(err)
			}
			got := res.Map()
			for k, v := range c.want {
				if math.Abs(got[k]-v) > 1e-9 {
					t.Errorf("%s = %.10f, want %.10f", k, got[k], v)
				}
			}
		})
	}
}

func TestInvPropensity(t *testing.T) {
	w := InvPropensity(mustSparse(t, "hand_trainy.txt"), 0.55, 1.5)
	// N=6, label 0 seen 4 times: C=(ln 6 − 1)·2.5^0.55, w=1+C·5.5^−0.55.
	c := (math.Log(6) - 1) * math.Pow(2.5, 0.55)
	want := []float64{1 + c*math.Pow(5.5, -0.55), 1 + c*math.Pow(3.5, -0.55), 1 + c*math.Pow(2.5, -0.55), 1 + c*math.Pow(2.5, -0.55), 1 + c*math.Pow(2.5, -0.55)}
	for l := range want {
		if math.Abs(w[l]-want[l]) > 1e-12 {
			t.Errorf("w[%d] = %v, want %v", l, w[l], want[l])
		}
	}
	if math.Abs(w[0]-1.51316) > 1e-4 {
		t.Errorf("w[0] = %v, hand value 1.51316", w[0])
	}
}

func TestEvaluateEdgeCases(t *testing.T) {
	truth, _ := sparse.FromRows(4, [][]int32{{0, 1}, {}, {3}})
	cases := []struct {
		name    string
		pred    sdk.TopK
		ks      []int
		metric  string
		k       int
		want    float64
		wantErr bool
	}{
		// K=1 but P@3 asked: missing ranks are misses, denominators stay k.
		{"k beyond K", sdk.TopK{Rows: 3, K: 1, Labels: []int32{0, 2, 3}, Scores: []float32{1, 1, 1}}, []int{3}, "P", 3, (1.0/3 + 0 + 1.0/3) / 3, false},
		// Empty truth row 1 is counted in the mean.
		{"empty rows count", sdk.TopK{Rows: 3, K: 1, Labels: []int32{0, 0, 3}, Scores: []float32{1, 1, 1}}, []int{1}, "P", 1, 2.0 / 3, false},
		// Ties broken by label ascending: label 2 (miss) before 3 (hit) in row 2.
		{"ties by label", sdk.TopK{Rows: 3, K: 2, Labels: []int32{1, 0, -1, -1, 3, 2}, Scores: []float32{.5, .5, 0, 0, .5, .5}}, []int{1}, "P", 1, 1.0 / 3, false},
		// nDCG with |y| = 2 at k=1: denominator min(IDCG(2), IDCG(1)) = 1.
		{"ndcg k=1", sdk.TopK{Rows: 3, K: 1, Labels: []int32{1, -1, -1}, Scores: []float32{1, 0, 0}}, []int{1}, "nDCG", 1, 1.0 / 3, false},
		{"negative scores kept", sdk.TopK{Rows: 3, K: 1, Labels: []int32{0, -1, 3}, Scores: []float32{-2, 0, -1}}, []int{1}, "P", 1, 2.0 / 3, false},
		{"label out of range", sdk.TopK{Rows: 3, K: 1, Labels: []int32{9, -1, -1}, Scores: []float32{1, 0, 0}}, []int{1}, "P", 1, 0, true},
		{"duplicate label", sdk.TopK{Rows: 3, K: 2, Labels: []int32{1, 1, -1, -1, -1, -1}, Scores: []float32{1, 1, 0, 0, 0, 0}}, []int{1}, "P", 1, 0, true},
		{"row mismatch", sdk.TopK{Rows: 2, K: 1, Labels: []int32{1, 1}, Scores: []float32{1, 1}}, []int{1}, "P", 1, 0, true},
		{"bad k", sdk.TopK{Rows: 3, K: 1, Labels: []int32{1, 1, 1}, Scores: []float32{1, 1, 1}}, []int{0}, "P", 1, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := Evaluate(c.pred, truth, nil, nil, c.ks)
			if c.wantErr {
				if err == nil {
					t.Fatal("want error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, ok := res.Get(c.metric, c.k)
			if !ok || math.Abs(got-c.want) > 1e-12 {
				t.Errorf("%s@%d = %v, want %v", c.metric, c.k, got, c.want)
			}
			if res.PSP != nil {
				t.Error("PSP without propensities")
			}
		})
	}
}

func TestEvaluateDeterministicAcrossChunks(t *testing.T) {
	// More rows than one chunk, so several workers add partial sums.
	n := 3*chunk + 17
	rows := make([][]int32, n)
	labels := make([]int32, n*2)
	scores := make([]float32, n*2)
	for i := range rows {
		rows[i] = []int32{int32(i % 7), int32(7 + i%5)}
		labels[2*i], labels[2*i+1] = int32(7+(i*3)%5), int32(i%7)
		scores[2*i], scores[2*i+1] = 0.9, 0.4
	}
	truth, _ := sparse.FromRows(12, rows)
	pred := sdk.TopK{Rows: n, K: 2, Labels: labels, Scores: scores}
	a, err := Evaluate(pred, truth, nil, InvPropensity(truth, 0.55, 1.5), []int{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Evaluate(pred, truth, nil, InvPropensity(truth, 0.55, 1.5), []int{1, 2})
	if a.String() != b.String() {
		t.Fatal("nondeterministic")
	}
	if p, _ := a.Get("P", 2); p <= 0.4 || p > 1 {
		t.Errorf("P@2 = %v", p)
	}
}

// TestPerRowSumsToEvaluate pins PerRow to Evaluate: the mean of per-row
// P and nDCG, and PSP's ratio of sums, equal the corpus metrics, with a
// filter, ties and rows shorter than k.
func TestPerRowSumsToEvaluate(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const n, L, K = 500, 40, 12
	rows := make([][]int32, n)
	pred := sdk.TopK{Rows: n, K: K, Labels: make([]int32, n*K), Scores: make([]float32, n*K)}
	var filter []data.Pair
	for i := range rows {
		perm := r.Perm(L)
		for j := range 1 + r.IntN(4) {
			rows[i] = append(rows[i], int32(perm[j]))
		}
		slices.Sort(rows[i])
		perm = r.Perm(L)
		for j := range K {
			pred.Labels[i*K+j] = int32(perm[j])
			pred.Scores[i*K+j] = float32(r.IntN(5)) / 4 // ties and zeros
			if j >= K-2 {
				pred.Labels[i*K+j] = -1
			}
		}
		if i%7 == 0 {
			filter = append(filter, data.Pair{Row: int32(i), Label: int32(perm[0])})
		}
	}
	truth, _ := sparse.FromRows(L, rows)
	inv := InvPropensity(truth, 0.55, 1.5)
	for _, k := range []int{1, 3, 5, 11} {
		res, err := Evaluate(pred, truth, filter, inv, []int{k})
		if err != nil {
			t.Fatal(err)
		}
		pr, err := PerRow(pred, truth, filter, inv, k)
		if err != nil {
			t.Fatal(err)
		}
		var p, nd, ps, ideal float64
		for i := range n {
			p, nd, ps, ideal = p+pr.P[i], nd+pr.NDCG[i], ps+pr.PSP[i], ideal+pr.PSPIdeal[i]
		}
		wantP, _ := res.Get("P", k)
		wantN, _ := res.Get("nDCG", k)
		wantPS, _ := res.Get("PSP", k)
		for _, c := range []struct {
			name      string
			got, want float64
		}{{"P", p / n, wantP}, {"nDCG", nd / n, wantN}, {"PSP", ps / ideal, wantPS}} {
			if math.Abs(c.got-c.want) > 1e-12 {
				t.Errorf("%s@%d: per-row %v, corpus %v", c.name, k, c.got, c.want)
			}
		}
	}
}
