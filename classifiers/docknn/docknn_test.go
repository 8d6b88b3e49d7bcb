package docknn

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/xcbench/xcbench/classifiers/tfidfknn"
	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/core/sparse"
	"github.com/xcbench/xcbench/core/synth"
	"github.com/xcbench/xcbench/plugins/plugintest"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// fixture: 5 training docs in 2-D (doc 4 has no label), 4 labels.
// Label counts: l0 2, l1 2, l2 1, l3 0.
func fixture(t *testing.T) (*data.Dataset, sdk.Matrix, sdk.Matrix) {
	y, err := sparse.FromRows(4, [][]int32{{0}, {0, 1}, {1}, {2}, {}})
	if err != nil {
		t.Fatal(err)
	}
	ds := &data.Dataset{Name: "fixture", NumLabels: 4, TrainY: y}
	s := float32(math.Sqrt(0.5))
	docs := sdk.Matrix{Rows: 5, Cols: 2, Data: []float32{1, 0, s, s, 0, 1, -1, 0, 1, 0}}
	labels := sdk.Matrix{Rows: 4, Cols: 2, Data: []float32{1, 0, 0, 1, -1, 0, s, -s}}
	return ds, docs, labels
}

func trained(t *testing.T, ds *data.Dataset, docs, labels sdk.Matrix, params string) *Classifier {
	t.Helper()
	c := New()
	if err := c.ConfigureDataset(context.Background(), sdk.Config{Params: json.RawMessage(params)}, ds); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Train(context.Background(), sdk.TrainInput{TrainDocs: docs, Labels: labels}); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestScores checks the fused score against the formula worked by hand
// for the query (0.8, 0.6): cosines to docs 0..3 are 0.8, 0.98995, 0.6,
// -0.8 (doc 4 is unlabelled and never indexed).
func TestScores(t *testing.T) {
	ds, docs, labels := fixture(t)
	q := sdk.Matrix{Rows: 1, Cols: 2, Data: []float32{0.8, 0.6}}
	s1 := (0.8 + 0.6) / math.Sqrt(2) // cosine to doc 1
	pop := func(n float64) float64 { return math.Log1p(n) / math.Log1p(2) }
	cases := []struct {
		name   string
		params string
		k      int
		want   map[int32]float64
	}{
		{"votes_k2", `{"neighbours":2}`, 4, map[int32]float64{0: 1, 1: s1 / (s1 + 0.8)}},
		{"votes_k3", `{"neighbours":3}`, 4, map[int32]float64{0: (0.8 + s1) / (0.8 + s1 + 0.6), 1: (s1 + 0.6) / (0.8 + s1 + 0.6)}},
		// The doc at cosine -0.8 is a neighbour but casts no vote, so its
		// label 2 is no candidate.
		{"negative_neighbour", `{"neighbours":4,"power":2}`, 4, map[int32]float64{
			0: (0.64 + s1*s1) / (0.64 + s1*s1 + 0.36), 1: (s1*s1 + 0.36) / (0.64 + s1*s1 + 0.36)}},
		{"fused", `{"neighbours":2,"label_weight":0.5,"label_depth":4,"pop_weight":0.1}`, 4, map[int32]float64{
			0: 1 + 0.5*0.8 + 0.1*pop(2),
			1: s1/(s1+0.8) + 0.5*0.6 + 0.1*pop(2),
			2: 0 + 0.5*-0.8 + 0.1*pop(1),
			3: 0 + 0.5*(0.8-0.6)*math.Sqrt(0.5) + 0},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := trained(t, ds, docs, labels, tc.params)
			top, err := c.Predict(context.Background(), sdk.SplitTest, q, tc.k)
			if err != nil {
				t.Fatal(err)
			}
			labs, scores := top.Row(0)
			got := map[int32]float64{}
			for j, l := range labs {
				if l >= 0 {
					got[l] = float64(scores[j])
					if j > 0 && scores[j] > scores[j-1] {
						t.Fatalf("not best first: %v %v", labs, scores)
					}
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("labels %v scores %v, want %v", labs, scores, tc.want)
			}
			for l, w := range tc.want {
				if g, ok := got[l]; !ok || math.Abs(g-w) > 1e-5 {
					t.Errorf("label %d: score %v (present %v), want %.6f", l, g, ok, w)
				}
			}
		})
	}
}

// TestLeaveOneOut: predicting the training split never lets a document
// vote for itself.
func TestLeaveOneOut(t *testing.T) {
	ds, docs, labels := fixture(t)
	c := trained(t, ds, docs, labels, `{"neighbours":1}`)
	top, err := c.Predict(context.Background(), sdk.SplitTrain, docs, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Nearest other labelled doc: 0->1 (labels 0,1; 0 wins the tie on id),
	// 1->0 (label 0), 2->1, 3->... all others have cosine <= 0: no vote,
	// 4 (same vector as doc 0, unlabelled) -> 0.
	if got, want := top.Labels, []int32{0, 0, 0, -1, 0}; !slices.Equal(got, want) {
		t.Fatalf("train labels %v want %v", got, want)
	}
	test, _ := c.Predict(context.Background(), sdk.SplitTest, sdk.Matrix{Rows: 1, Cols: 2, Data: []float32{0, 1}}, 1)
	if test.Labels[0] != 1 {
		t.Fatalf("test split: label %d, want 1 (doc 2's own label)", test.Labels[0])
	}
}

func TestBadInput(t *testing.T) {
	ds, docs, labels := fixture(t)
	ctx := context.Background()
	for _, bad := range []string{`{"neighbours":0}`, `{"power":-1}`, `{"label_weight":-1}`, `{"label_depth":0}`, `{"pop_weight":-0.5}`, `{"index":"lsh"}`, `{"k":3}`} {
		if err := New().ConfigureDataset(ctx, sdk.Config{Params: json.RawMessage(bad)}, ds); !errors.Is(err, sdk.ErrInvalidConfig) {
			t.Errorf("%s: err %v", bad, err)
		}
	}
	c := New()
	if _, err := c.Predict(ctx, sdk.SplitTest, docs, 1); !errors.Is(err, sdk.ErrNotConfigured) {
		t.Errorf("predict before train: %v", err)
	}
	if err := c.ConfigureDataset(ctx, sdk.Config{}, ds); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Train(ctx, sdk.TrainInput{TrainDocs: sdk.Matrix{Rows: 3, Cols: 2, Data: make([]float32, 6)}, Labels: labels}); err == nil {
		t.Error("train docs with the wrong row count accepted")
	}
	c = trained(t, ds, docs, labels, `{}`)
	if _, err := c.Predict(ctx, sdk.SplitTest, sdk.Matrix{Rows: 1, Cols: 3, Data: make([]float32, 3)}, 1); err == nil {
		t.Error("wrong width accepted")
	}
}

// TestConformance runs the plugin kit in process and over gRPC.
func TestConformance(t *testing.T) {
	dir := t.TempDir()
	ds, err := synth.Generate(synth.Config{Labels: 40, TrainDocs: 300, TestDocs: 50, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := synth.Write(dir, ds); err != nil {
		t.Fatal(err)
	}
	for _, params := range []string{`{}`, `{"neighbours":5,"label_weight":0.3,"label_depth":10,"pop_weight":0.05,"index":"hnsw"}`,
		`{"lexical_weight":0.7,"lexical_k":25,"lexical_power":3}`} {
		t.Run(params, func(t *testing.T) {
			cfg := sdk.Config{Seed: 3, Params: json.RawMessage(params),
				Dataset: sdk.Dataset{Dir: dir, Options: json.RawMessage(`{"cache_dir": "-"}`)}}
			plugintest.TestClassifier(t, func() sdk.Classifier { return New() }, cfg, plugintest.ClassifierOptions{Dim: 16, K: 12})
		})
	}
}

// TestLexicalTerm checks lexical_weight against the tf-idf kNN model it
// wraps: each candidate's score is its vote plus the weight times the
// tfidfknn score over the document's best, and a label only the lexical
// neighbours know becomes a candidate. Without features it is an error.
func TestLexicalTerm(t *testing.T) {
	ds, docs, labels := fixture(t)
	if c := New(); c.ConfigureDataset(context.Background(), sdk.Config{Params: json.RawMessage(`{"lexical_weight":0.5}`)}, ds) == nil {
		t.Fatal("lexical_weight without features accepted")
	}
	// Features: doc 3 (label 2) shares word 2 with the query, so the
	// lexical neighbours bring label 2, which the embedding votes (k=2)
	// never see.
	x, _ := sparse.FromRows(3, [][]int32{{0}, {0, 1}, {1}, {2}, {0}})
	q, _ := sparse.FromRows(3, [][]int32{{0, 2}})
	for _, m := range []*sparse.CSR{x, q} {
		for i := range m.Data {
			m.Data[i] = 1
		}
	}
	ds.TrainX, ds.TestX = x, q
	const params = `{"neighbours":2,"lexical_weight":0.5,"lexical_k":3,"lexical_power":2,"lexical_idf":"plain"}`
	c := trained(t, ds, docs, labels, params)
	qe := sdk.Matrix{Rows: 1, Cols: 2, Data: []float32{0.8, 0.6}}
	top, err := c.Predict(context.Background(), sdk.SplitTest, qe, 4)
	if err != nil {
		t.Fatal(err)
	}
	plain := trained(t, ds, docs, labels, `{"neighbours":2}`)
	vtop, _ := plain.Predict(context.Background(), sdk.SplitTest, qe, 4)
	votes := map[int32]float64{}
	vl, vs := vtop.Row(0)
	for j, l := range vl {
		if l >= 0 {
			votes[l] = float64(vs[j])
		}
	}
	m, err := tfidfknn.FitConfig(ds, tfidfknn.Config{K: 3, IDF: "plain", Power: 2})
	if err != nil {
		t.Fatal(err)
	}
	ltop, _ := m.PredictSplit(context.Background(), sdk.SplitTest, 4)
	ll, ls := ltop.Row(0)
	best := float64(ls[0])
	want := map[int32]float64{}
	for l, v := range votes {
		want[l] = v
	}
	for j, l := range ll {
		if l >= 0 && ls[j] > 0 {
			want[l] += 0.5 * float64(ls[j]) / best
		}
	}
	if _, ok := votes[2]; ok || want[2] == 0 {
		t.Fatalf("fixture: label 2 should come from the lexical term only (votes %v, want %v)", votes, want)
	}
	labs, scores := top.Row(0)
	got := map[int32]float64{}
	for j, l := range labs {
		if l >= 0 {
			got[l] = float64(scores[j])
		}
	}
	if len(got) != len(want) {
		t.Fatalf("candidates %v, want %v", got, want)
	}
	for l, w := range want {
		if math.Abs(got[l]-w) > 1e-5 {
			t.Errorf("label %d: score %v, want %v", l, got[l], w)
		}
	}
	// The first rows of the test split only (split_limit) agree with the
	// full split's rows.
	if _, err := c.Predict(context.Background(), sdk.SplitTest, sdk.Matrix{Rows: 2, Cols: 2, Data: []float32{1, 0, 0, 1}}, 4); err == nil {
		t.Error("more query rows than test documents accepted")
	}
}
