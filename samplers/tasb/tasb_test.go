package tasb

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/xcbench/xcbench/core/sparse"
	"github.com/xcbench/xcbench/plugins/sdk"
	"github.com/xcbench/xcbench/samplers/batching"
	"github.com/xcbench/xcbench/samplers/batching/batchingtest"
)

// withFeatures gives the planted dataset bag-of-words rows: each document
// holds its labels' words (feature id = label id) and three noise words
// out of 500, so its tf-idf vector carries its topic.
func withFeatures(p *batchingtest.Planted) *batchingtest.Planted {
	r := rand.New(rand.NewPCG(9, 9))
	nl := p.DS.NumLabels
	b := sparse.NewBuilder(nl + 500)
	for d := range p.DS.TrainY.NRows {
		labs, _ := p.DS.TrainY.Row(d)
		m := map[int32]float32{}
		for _, l := range labs {
			m[l] += 2
		}
		for range 3 {
			m[int32(nl+r.IntN(500))]++
		}
		var es []sparse.Entry
		for c, v := range m {
			es = append(es, sparse.Entry{Col: c, Val: v})
		}
		slices.SortFunc(es, func(a, b sparse.Entry) int { return int(a.Col - b.Col) })
		if err := b.AddRow(es); err != nil {
			panic(err)
		}
	}
	ds := *p.DS
	ds.TrainX = b.Build()
	q := *p
	q.DS = &ds
	return &q
}

func configured(t *testing.T, p *batchingtest.Planted, params string, seed uint64) *Sampler {
	t.Helper()
	s := New()
	s.open = p.Open
	if err := s.Configure(context.Background(), sdk.Config{Seed: seed, Params: json.RawMessage(params)}); err != nil {
		t.Fatal(err)
	}
	return s
}

// sameTopic is the share of in-batch document pairs whose first labels
// share a topic.
func sameTopic(p *batchingtest.Planted, bs []sdk.Batch) float64 {
	var same, all int
	topic := func(d int32) int {
		labs, _ := p.DS.TrainY.Row(int(d))
		return p.Topic[labs[0]]
	}
	for _, b := range bs {
		for i := range b.Docs {
			for j := i + 1; j < len(b.Docs); j++ {
				all++
				if topic(b.Docs[i]) == topic(b.Docs[j]) {
					same++
				}
			}
		}
	}
	return float64(same) / float64(all)
}

func TestTopicAwareBatches(t *testing.T) {
	p := withFeatures(batchingtest.NewPlanted(3, 1200, 80, 16, 8))
	const bs = 64
	uniform := uniformBatches(p, bs)
	base := sameTopic(p, uniform)
	for _, tc := range []struct {
		name, params string
		refresh      bool
	}{
		{"tfidf", `{}`, false},
		{"tfidf_cluster_size", `{"cluster_size": 32, "dim": 64}`, false},
		{"encoder", `{"features": "encoder", "cluster_size": 64}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := configured(t, p, tc.params, 1)
			if tc.refresh {
				st, err := s.Refresh(context.Background(), 0, p.DocMatrix(), sdk.Matrix{})
				if err != nil {
					t.Fatal(err)
				}
				if st.Detail["clusters"] != float64(len(s.docs)/64) || st.Hardness <= 0 {
					t.Fatalf("refresh stats %+v", st)
				}
			}
			for e := range 2 {
				got := sameTopic(p, batchingtest.Epoch(t, s, e, bs))
				t.Logf("epoch %d: same-topic pairs %.3f (uniform shuffle %.3f)", e, got, base)
				if got < 3*base {
					t.Errorf("epoch %d: same-topic share %.3f, uniform %.3f: not topic-aware", e, got, base)
				}
			}
		})
	}
}

// uniformBatches is the baseline order: a uniform shuffle.
func uniformBatches(p *batchingtest.Planted, bs int) []sdk.Batch {
	var out []sdk.Batch
	docs := batching.LabeledDocs(p.DS.TrainY)
	order := batching.Shuffled(batching.RNG(1, 0, "order"), docs)
	for b, err := range batching.Cut(context.Background(), order, batching.Positives(batching.RNG(1, 0, "positives"), p.DS.TrainY), bs, nil) {
		if err != nil {
			panic(err)
		}
		out = append(out, b)
	}
	return out
}

// TestDeterministicAndResumable: the batches of an epoch depend only on
// (dataset, seed, epoch): a fresh sampler asked for epoch 2 first (a
// resumed run) gives what a sampler that ran epochs 0 and 1 gives.
func TestDeterministicAndResumable(t *testing.T) {
	p := withFeatures(batchingtest.NewPlanted(4, 300, 40, 8, 8))
	for _, tc := range []struct {
		name, params string
		refresh      bool
	}{
		{"tfidf", `{"dim": 32}`, false},
		{"encoder", `{"features": "encoder"}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prep := func(seed uint64) *Sampler {
				s := configured(t, p, tc.params, seed)
				if tc.refresh {
					// The runner's replay hands over the saved epoch-0 embeddings.
					if _, err := s.Refresh(context.Background(), 0, p.DocMatrix(), sdk.Matrix{}); err != nil {
						t.Fatal(err)
					}
				}
				return s
			}
			a := prep(5)
			var ep [3][]int32
			for e := range 3 {
				ep[e], _ = batchingtest.Flatten(batchingtest.Epoch(t, a, e, 16))
			}
			if slices.Equal(ep[0], ep[1]) {
				t.Fatal("epochs 0 and 1 have the same order")
			}
			b := prep(5)
			got, _ := batchingtest.Flatten(batchingtest.Epoch(t, b, 2, 16))
			if !slices.Equal(got, ep[2]) {
				t.Fatal("a resumed sampler's epoch 2 differs")
			}
			c := prep(6)
			other, _ := batchingtest.Flatten(batchingtest.Epoch(t, c, 2, 16))
			if slices.Equal(other, ep[2]) {
				t.Fatal("seed does not change the order")
			}
		})
	}
}

func TestPlanAndRefreshRules(t *testing.T) {
	p := withFeatures(batchingtest.NewPlanted(4, 100, 20, 4, 8))
	ctx := context.Background()
	tf := configured(t, p, `{}`, 1)
	for e := range 5 {
		if pl, err := tf.Plan(ctx, e); err != nil || pl.Refresh {
			t.Fatalf("tfidf plan %d: %+v %v", e, pl, err)
		}
	}
	if _, err := tf.Refresh(ctx, 0, p.DocMatrix(), sdk.Matrix{}); err == nil {
		t.Fatal("tfidf accepted a refresh")
	}
	enc := configured(t, p, `{"features": "encoder"}`, 1)
	if pl, _ := enc.Plan(ctx, 0); !pl.Refresh || !pl.NeedDocs || pl.NeedLabels || pl.DocSource != "fresh" {
		t.Fatalf("encoder plan 0: %+v", pl)
	}
	for e := 1; e < 5; e++ {
		if pl, _ := enc.Plan(ctx, e); pl.Refresh {
			t.Fatalf("encoder plan %d refreshes: never refreshed after epoch 0", e)
		}
	}
	for _, err := range enc.Batches(ctx, 0, 8) {
		if err == nil {
			t.Fatal("batches before the epoch-0 refresh")
		}
		break
	}
	for _, bad := range []string{`{"features": "bert"}`, `{"dim": 0}`, `{"cluster_size": -1}`, `{"bogus": 1}`} {
		s := New()
		s.open = p.Open
		if err := s.Configure(ctx, sdk.Config{Params: json.RawMessage(bad)}); !errors.Is(err, sdk.ErrInvalidConfig) {
			t.Errorf("%s: err %v", bad, err)
		}
	}
}

// TestProjectionKeepsCosines: the ±1 projection preserves tf-idf cosines
// to within a few 1/√dim.
func TestProjectionKeepsCosines(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	const rows, cols, dim = 40, 300, 2048
	b := sparse.NewBuilder(cols)
	for range rows {
		var es []sparse.Entry
		for c := range cols {
			if r.IntN(10) == 0 {
				es = append(es, sparse.Entry{Col: int32(c), Val: float32(1 + r.IntN(3))})
			}
		}
		if err := b.AddRow(es); err != nil {
			t.Fatal(err)
		}
	}
	x := b.Build()
	v := ProjectedTFIDF(x, dim, 7)
	// Exact tf-idf cosines on the host.
	n := float64(rows)
	df := make([]float64, cols)
	for _, j := range x.Indices {
		df[j]++
	}
	dense := make([][]float64, rows)
	for i := range rows {
		dense[i] = make([]float64, cols)
		cs, vs := x.Row(i)
		var nn float64
		for k, c := range cs {
			dense[i][c] = float64(vs[k]) * (math.Log((1+n)/(1+df[c])) + 1)
			nn += dense[i][c] * dense[i][c]
		}
		for c := range dense[i] {
			dense[i][c] /= math.Sqrt(nn)
		}
	}
	var worst float64
	for i := range rows {
		for j := i + 1; j < rows; j++ {
			var exact, proj float64
			for c := range cols {
				exact += dense[i][c] * dense[j][c]
			}
			for k := range dim {
				proj += float64(v[i*dim+k]) * float64(v[j*dim+k])
			}
			worst = max(worst, math.Abs(exact-proj))
		}
	}
	if worst > 4/math.Sqrt(dim) {
		t.Fatalf("worst cosine error %.4f > %.4f", worst, 4/math.Sqrt(dim))
	}
	if w2 := ProjectedTFIDF(x, dim, 7); !slices.Equal(w2, v) {
		t.Fatal("projection not deterministic")
	}
}
