package ance

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/xcbench/xcbench/core/ann"
	"github.com/xcbench/xcbench/plugins/plugintest"
	"github.com/xcbench/xcbench/plugins/sdk"
	"github.com/xcbench/xcbench/samplers/batching"
	"github.com/xcbench/xcbench/samplers/batching/batchingtest"
)

func configured(t *testing.T, p *batchingtest.Planted, params string, seed uint64) *Sampler {
	t.Helper()
	s := New()
	s.open = p.Open
	c := sdk.Config{Seed: seed}
	if params != "" {
		c.Params = json.RawMessage(params)
	}
	if err := s.Configure(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return s
}

func refresh(t *testing.T, s *Sampler, p *batchingtest.Planted, epoch int) sdk.RefreshStats {
	t.Helper()
	st, err := s.Refresh(context.Background(), epoch, p.DocMatrix(), p.LabelMatrix())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func cosine(p *batchingtest.Planted, d, l int32) float64 {
	var s float64
	for j := range p.Dim {
		s += float64(p.Docs[int(d)*p.Dim+j]) * float64(p.Lbls[int(l)*p.Dim+j])
	}
	return s
}

// meanNegCosine is the mean cosine of the handed-out negatives to their docs.
func meanNegCosine(p *batchingtest.Planted, bs []sdk.Batch) float64 {
	var s float64
	var n int
	for _, b := range bs {
		for i, d := range b.Docs {
			for _, l := range b.Negatives[i] {
				s += cosine(p, d, l)
				n++
			}
		}
	}
	return s / float64(n)
}

func TestNegativesExcludePositivesAndFilter(t *testing.T) {
	p := batchingtest.NewPlanted(1, 800, 120, 12, 16, 5)
	filtered := map[[2]int32]bool{}
	for _, f := range p.DS.FilterTrain {
		filtered[[2]int32{f.Row, f.Label}] = true
	}
	// The filtered pairs are same-topic labels, so an unfiltered miner
	// would pick them: check that the test can fail.
	ctx := context.Background()
	idx := ann.NewExact(p.Lbls, p.DS.NumLabels, p.Dim)
	wouldPick := 0
	for _, f := range p.DS.FilterTrain {
		got, _, _ := idx.Search(ctx, p.Docs[int(f.Row)*p.Dim:(int(f.Row)+1)*p.Dim], 1, 15)
		if slices.Contains(got, f.Label) {
			wouldPick++
		}
	}
	if wouldPick == 0 {
		t.Fatal("fixture: no filtered pair ranks in the top 15")
	}
	cases := []struct{ name, params string }{
		{"top exact", `{"index":"exact","negatives":8,"depth":30}`},
		{"sample hnsw", `{"index":"hnsw","pick":"sample","negatives":8,"depth":30}`},
		{"pool shorter than k", `{"index":"exact","negatives":8,"depth":3}`},
		{"mixed skip_top", `{"index":"exact","negatives":8,"depth":30,"uniform_fraction":0.25,"skip_top":2}`},
		{"all uniform", `{"index":"exact","negatives":8,"uniform_fraction":1}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := configured(t, p, tc.params, 2)
			check := func(epoch int) {
				bs := batchingtest.Epoch(t, s, epoch, 50)
				docs, _ := batchingtest.Flatten(bs)
				if len(docs) != 799 || slices.Contains(docs, 5) {
					t.Fatalf("epoch %d covers %d docs", epoch, len(docs))
				}
				for _, b := range bs {
					for i, d := range b.Docs {
						neg := b.Negatives[i]
						if len(neg) != 8 {
							t.Fatalf("doc %d: %d negatives", d, len(neg))
						}
						for j, l := range neg {
							if p.DS.TrainY.Has(int(d), l) || filtered[[2]int32{d, l}] || slices.Contains(neg[:j], l) {
								t.Fatalf("epoch %d doc %d: bad negative %d in %v", epoch, d, l, neg)
							}
						}
					}
				}
			}
			check(0)
			refresh(t, s, p, 10)
			check(10)
			check(11)
		})
	}
}

func TestTopPicksBestNonPositives(t *testing.T) {
	p := batchingtest.NewPlanted(2, 300, 60, 6, 16)
	s := configured(t, p, `{"index":"exact","negatives":4,"depth":20}`, 1)
	refresh(t, s, p, 10)
	filter := map[[2]int32]bool{}
	for _, f := range p.DS.FilterTrain {
		filter[[2]int32{f.Row, f.Label}] = true
	}
	for _, b := range batchingtest.Epoch(t, s, 10, 64) {
		for i, d := range b.Docs {
			var want []int32
			ids, _ := ann.TopK(func() []float32 {
				sc := make([]float32, p.DS.NumLabels)
				for l := range sc {
					sc[l] = float32(cosine(p, d, int32(l)))
				}
				return sc
			}(), 20)
			for _, l := range ids {
				if !p.DS.TrainY.Has(int(d), l) && !filter[[2]int32{d, l}] && len(want) < 4 {
					want = append(want, l)
				}
			}
			if !slices.Equal(b.Negatives[i], want) {
				t.Fatalf("doc %d: negatives %v, want %v", d, b.Negatives[i], want)
			}
		}
	}
}

// TestMixAndSkipTop pins uniform_fraction and skip_top against the exact
// host ranking: with skip_top s and m mined slots a document's negatives
// start with pool[s:s+m] (pool = its ranked non-positive, unfiltered
// labels) and the rest are uniform labels, easier on average.
func TestMixAndSkipTop(t *testing.T) {
	p := batchingtest.NewPlanted(2, 300, 60, 6, 16)
	filter := map[[2]int32]bool{}
	for _, f := range p.DS.FilterTrain {
		filter[[2]int32{f.Row, f.Label}] = true
	}
	pool := func(d int32) []int32 {
		sc := make([]float32, p.DS.NumLabels)
		for l := range sc {
			sc[l] = float32(cosine(p, d, int32(l)))
		}
		ids, _ := ann.TopK(sc, 30)
		var out []int32
		for _, l := range ids {
			if !p.DS.TrainY.Has(int(d), l) && !filter[[2]int32{d, l}] {
				out = append(out, l)
			}
		}
		return out
	}
	cases := []struct {
		name       string
		params     string
		skip, mine int
	}{
		{"skip_top", `{"index":"exact","negatives":4,"depth":30,"skip_top":3}`, 3, 4},
		{"mixed", `{"index":"exact","negatives":8,"depth":30,"uniform_fraction":0.5}`, 0, 4},
		{"mixed_skip", `{"index":"exact","negatives":8,"depth":30,"uniform_fraction":0.25,"skip_top":5}`, 5, 6},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := configured(t, p, tc.params, 1)
			refresh(t, s, p, 10)
			var minedCos, uniCos float64
			var nm, nu int
			for _, b := range batchingtest.Epoch(t, s, 10, 64) {
				for i, d := range b.Docs {
					neg := b.Negatives[i]
					want := pool(d)[tc.skip : tc.skip+tc.mine]
					if !slices.Equal(neg[:tc.mine], want) {
						t.Fatalf("doc %d: mined %v, want %v", d, neg[:tc.mine], want)
					}
					for j, l := range neg {
						if j < tc.mine {
							minedCos += cosine(p, d, l)
							nm++
						} else {
							uniCos += cosine(p, d, l)
							nu++
						}
					}
				}
			}
			if nu > 0 && uniCos/float64(nu) > minedCos/float64(nm)-0.1 {
				t.Fatalf("uniform negatives not easier: mean cosine %.3f vs mined %.3f", uniCos/float64(nu), minedCos/float64(nm))
			}
		})
	}
	s := configured(t, p, `{"uniform_fraction":1}`, 1)
	for e := range 30 {
		if pl, _ := s.Plan(context.Background(), e); pl.Refresh {
			t.Fatalf("all-uniform sampler plans a refresh at %d", e)
		}
	}
	for _, bad := range []string{`{"uniform_fraction":-0.1}`, `{"uniform_fraction":1.5}`, `{"skip_top":-1}`, `{"skip_top":100,"depth":100}`} {
		c := New()
		c.open = p.Open
		if err := c.Configure(context.Background(), sdk.Config{Params: json.RawMessage(bad)}); !errors.Is(err, sdk.ErrInvalidConfig) {
			t.Errorf("%s: err %v", bad, err)
		}
	}
}

func TestHardnessAndSchedule(t *testing.T) {
	p := batchingtest.NewPlanted(3, 1000, 200, 10, 32)
	cases := []struct {
		name   string
		params string
		plans  []int
	}{
		{"stale", `{"index":"hnsw"}`, []int{10, 15, 20}},
		{"fresh every epoch", `{"index":"hnsw","stale":false,"refresh_start":18}`, []int{18, 19, 20, 21}},
		{"sample", `{"index":"exact","pick":"sample","depth":15,"refresh_start":3,"refresh_interval":7}`, []int{3, 10, 17}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := configured(t, p, tc.params, 4)
			var got []int
			for e := range 22 {
				pl, _ := s.Plan(context.Background(), e)
				if pl.Refresh {
					if !pl.NeedDocs || !pl.NeedLabels || pl.DocSource != "fresh" {
						t.Fatalf("plan %+v", pl)
					}
					got = append(got, e)
				}
			}
			if !slices.Equal(got, tc.plans) {
				t.Fatalf("refresh epochs %v, want %v", got, tc.plans)
			}
			before := meanNegCosine(p, batchingtest.Epoch(t, s, tc.plans[0], 100))
			st := refresh(t, s, p, tc.plans[0])
			after := meanNegCosine(p, batchingtest.Epoch(t, s, tc.plans[0], 100))
			t.Logf("negative cosine: uniform %.3f, mined %.3f (stat %.3f), detail %v", before, after, st.Hardness, st.Detail)
			if after < before+0.2 {
				t.Fatalf("mined negatives (%.3f) not harder than uniform (%.3f)", after, before)
			}
			if d := st.Hardness - after; d > 0.02 || d < -0.02 {
				t.Fatalf("refresh hardness %.3f far from handed-out %.3f", st.Hardness, after)
			}
			if st.Detail["ann_recall"] < 0.9 || st.Detail["positive_recall"] <= 0 {
				t.Fatalf("detail %v", st.Detail)
			}
		})
	}
}

func TestSeedDeterminism(t *testing.T) {
	p := batchingtest.NewPlanted(4, 300, 60, 6, 16)
	run := func(seed uint64, threads string) []sdk.Batch {
		s := configured(t, p, `{"pick":"sample","negatives":3,"threads":`+threads+`}`, seed)
		refresh(t, s, p, 10)
		return batchingtest.Epoch(t, s, 12, 32)
	}
	a := run(1, "1")
	cases := []struct {
		name, threads string
		seed          uint64
		same          bool
	}{
		{"same seed", "1", 1, true},
		{"same seed more threads", "3", 1, true},
		{"other seed", "1", 2, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := run(tc.seed, tc.threads)
			eq := slices.EqualFunc(a, b, func(x, y sdk.Batch) bool {
				return slices.Equal(x.Docs, y.Docs) && slices.EqualFunc(x.Negatives, y.Negatives, func(u, v []int32) bool { return slices.Equal(u, v) })
			})
			if eq != tc.same {
				t.Fatalf("equal = %v, want %v", eq, tc.same)
			}
		})
	}
}

func TestConfigure(t *testing.T) {
	cases := []struct {
		name, params string
		ok           bool
	}{
		{"defaults", "", true},
		{"unknown key", `{"k": 3}`, false},
		{"bad pick", `{"pick": "hardest"}`, false},
		{"bad index", `{"index": "ivf"}`, false},
		{"zero negatives", `{"negatives": 0}`, false},
		{"zero depth", `{"depth": 0}`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := New().Configure(context.Background(), batchingtest.TinyConfig(tc.params, 1))
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, sdk.ErrInvalidConfig)) {
				t.Fatalf("err = %v", err)
			}
		})
	}
	p := batchingtest.NewPlanted(5, 40, 10, 2, 4)
	s := configured(t, p, "", 1)
	if _, err := s.Refresh(context.Background(), 10, p.DocMatrix(), sdk.Matrix{}); err == nil {
		t.Fatal("refresh without labels accepted")
	}
}

func TestOverGRPC(t *testing.T) {
	s := New()
	c := plugintest.Connect(t, sdk.KindSampler, s).(sdk.Sampler)
	ctx := context.Background()
	if err := c.Configure(ctx, batchingtest.TinyConfig(`{"negatives":2,"depth":5,"refresh_start":0}`, 2)); err != nil {
		t.Fatal(err)
	}
	p := batchingtest.NewPlanted(7, 30, 8, 2, 6) // shapes of the tiny fixture
	dir := t.TempDir()
	dm, err := sdk.StoreMatrix(dir, "docs", p.DocMatrix())
	if err != nil {
		t.Fatal(err)
	}
	lm, err := sdk.StoreMatrix(dir, "labels", p.LabelMatrix())
	if err != nil {
		t.Fatal(err)
	}
	dm.Data, lm.Data = nil, nil
	if _, err := c.Refresh(ctx, 0, dm, lm); err != nil {
		t.Fatal(err)
	}
	ds, _ := batching.OpenDataset(batchingtest.TinyConfig("", 0))
	for _, b := range batchingtest.Epoch(t, c, 0, 8) {
		for i, d := range b.Docs {
			for _, l := range b.Negatives[i] {
				if ds.TrainY.Has(int(d), l) {
					t.Fatalf("positive %d handed out as a negative of %d", l, d)
				}
			}
		}
	}
}
