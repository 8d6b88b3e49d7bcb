package ngame

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/xcbench/xcbench/core/cluster"
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

func refresh(t *testing.T, s *Sampler, p *batchingtest.Planted, epoch int, withLabels bool) sdk.RefreshStats {
	t.Helper()
	lbl := sdk.Matrix{}
	if withLabels {
		lbl = p.LabelMatrix()
	}
	st, err := s.Refresh(context.Background(), epoch, p.DocMatrix(), lbl)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestPlanSchedule(t *testing.T) {
	p := batchingtest.NewPlanted(1, 50, 10, 2, 4)
	cases := []struct {
		name   string
		params string
		want   []int
	}{
		{"reference", "", []int{10, 15, 20, 25, 30}},
		{"start not a multiple", `{"refresh_start": 7, "refresh_interval": 4}`, []int{8, 12, 16, 20, 24, 28}},
		{"every epoch", `{"refresh_start": 0, "refresh_interval": 1}`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := configured(t, p, tc.params, 1)
			var got []int
			for e := range 31 {
				pl, err := s.Plan(context.Background(), e)
				if err != nil {
					t.Fatal(err)
				}
				if pl.Refresh {
					if !pl.NeedDocs || pl.NeedLabels || pl.DocSource == "" {
						t.Fatalf("plan %+v", pl)
					}
					got = append(got, e)
				}
			}
			if tc.want == nil {
				if len(got) != 31 {
					t.Fatalf("refreshes %v", got)
				}
			} else if !slices.Equal(got, tc.want) {
				t.Fatalf("refreshes %v, want %v", got, tc.want)
			}
		})
	}
}

func TestNominalSizeCurriculum(t *testing.T) {
	// Reference table (ngame-reference.md §2.2): refresh epoch -> nominal size.
	want := map[int]int{10: 2, 15: 2, 20: 4, 25: 8, 45: 8, 50: 16, 75: 32, 100: 64, 125: 128, 150: 256, 200: 512, 295: 512}
	p := Defaults()
	for e, w := range want {
		if got := p.NominalSize(e); got != w {
			t.Errorf("epoch %d: nominal size %d, want %d", e, got, w)
		}
	}
	// 294,805 docs at nominal 2 round up to 262,144 clusters as in the table.
	if n := (cluster.Options{NumClusters: 294805 / p.NominalSize(10)}).Target(294805); n != 262144 {
		t.Errorf("clusters at epoch 10 = %d, want 262144", n)
	}
}

func TestCoversEpochAndLabels(t *testing.T) {
	p := batchingtest.NewPlanted(2, 611, 40, 8, 16, 3, 300)
	want := batching.LabeledDocs(p.DS.TrainY)
	s := configured(t, p, `{"refresh_start": 2, "refresh_interval": 2, "curriculum_epochs": [1, 2, 3]}`, 4)
	for e := range 6 {
		if pl, _ := s.Plan(context.Background(), e); pl.Refresh {
			refresh(t, s, p, e, false)
		}
		for _, bs := range []int{1, 37, 1000} {
			docs, pos := batchingtest.Flatten(batchingtest.Epoch(t, s, e, bs))
			for i, d := range docs {
				if !p.DS.TrainY.Has(int(d), pos[i]) {
					t.Fatalf("epoch %d: %d is not a label of doc %d", e, pos[i], d)
				}
			}
			slices.Sort(docs)
			if !slices.Equal(docs, want) {
				t.Fatalf("epoch %d batch %d: docs not covered exactly once", e, bs)
			}
		}
	}
}

func TestLag(t *testing.T) {
	p := batchingtest.NewPlanted(3, 300, 30, 6, 8)
	params := func(lag bool) string {
		if lag {
			return `{"lag": true, "curriculum_epochs": [1,2,3]}`
		}
		return `{"lag": false, "curriculum_epochs": [1,2,3]}`
	}
	cases := []struct {
		name      string
		lag       bool
		firstUsed int
	}{
		{"reference lag", true, 11},
		{"no lag", false, 10},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			plain := configured(t, p, params(tc.lag), 9) // never refreshed: random shuffles
			s := configured(t, p, params(tc.lag), 9)
			st := refresh(t, s, p, 10, false)
			if int(st.Detail["first_epoch"]) != tc.firstUsed {
				t.Fatalf("first_epoch %v", st.Detail["first_epoch"])
			}
			for _, e := range []int{10, 11} {
				same := equal(batchingtest.Epoch(t, s, e, 16), batchingtest.Epoch(t, plain, e, 16))
				if usesClusters := !same; usesClusters != (e >= tc.firstUsed) {
					t.Fatalf("epoch %d uses clusters = %v", e, usesClusters)
				}
			}
		})
	}
}

func equal(a, b []sdk.Batch) bool {
	return slices.EqualFunc(a, b, func(x, y sdk.Batch) bool {
		return slices.Equal(x.Docs, y.Docs) && slices.Equal(x.Positives, y.Positives)
	})
}

func TestSeedDeterminism(t *testing.T) {
	p := batchingtest.NewPlanted(4, 400, 30, 6, 8)
	run := func(seed uint64, threads int) []sdk.Batch {
		s := configured(t, p, `{"lag": false, "curriculum_epochs": [1,2,3], "threads": `+string(rune('0'+threads))+`}`, seed)
		refresh(t, s, p, 10, false)
		return batchingtest.Epoch(t, s, 10, 32)
	}
	a := run(1, 1)
	cases := []struct {
		name    string
		seed    uint64
		threads int
		same    bool
	}{
		{"same seed", 1, 1, true},
		{"same seed more threads", 1, 3, true},
		{"other seed", 2, 1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := equal(a, run(tc.seed, tc.threads)); got != tc.same {
				t.Fatalf("equal = %v, want %v", got, tc.same)
			}
		})
	}
}

func TestHarderThanRandom(t *testing.T) {
	p := batchingtest.NewPlanted(5, 2000, 200, 20, 32)
	s := configured(t, p, `{"lag": false, "curriculum_epochs": [1,2,3,4]}`, 3)
	batchingtest.Epoch(t, s, 9, 64) // sets the batch size the hardness uses
	st := refresh(t, s, p, 10, true)
	if st.Detail["nominal_size"] != 16 || st.Detail["clusters"] != 128 {
		t.Fatalf("detail %v", st.Detail)
	}
	docsN, posN := batchingtest.Flatten(batchingtest.Epoch(t, s, 10, 64))
	plain := configured(t, p, `{}`, 3) // never refreshed: a uniform shuffle, as the random sampler
	docsR, posR := batchingtest.Flatten(batchingtest.Epoch(t, plain, 10, 64))
	posOf := func(docs, pos []int32) []int32 {
		out := make([]int32, p.DS.TrainY.NRows)
		for i, d := range docs {
			out[d] = pos[i]
		}
		return out
	}
	hn := batching.InBatchHardness(p.Docs, p.Lbls, p.Dim, p.DS.TrainY, docsN, posOf(docsN, posN), 64, 10, 2000)
	hr := batching.InBatchHardness(p.Docs, p.Lbls, p.Dim, p.DS.TrainY, docsR, posOf(docsR, posR), 64, 10, 2000)
	t.Logf("in-batch negative cosine: ngame %.3f, random %.3f (refresh stat %.3f)", hn, hr, st.Hardness)
	if hn < hr+0.1 {
		t.Fatalf("ngame hardness %.3f not above random %.3f", hn, hr)
	}
	if st.Hardness < hn-1e-6 || st.Hardness > hn+1e-6 {
		t.Fatalf("refresh hardness %.4f differs from measured %.4f on the same order", st.Hardness, hn)
	}
}

func TestConfigureAndErrors(t *testing.T) {
	cases := []struct {
		name   string
		params string
		ok     bool
	}{
		{"defaults", "", true},
		{"all keys", `{"cluster_size_init":2,"curriculum_epochs":[5],"refresh_interval":3,"refresh_start":3,"round_pow2":false,"lag":false,"doc_source":"fresh","threads":2,"tol":0.001,"max_iter":10,"hardness_docs":100}`, true},
		{"unknown key", `{"refresh":5}`, false},
		{"bad doc source", `{"doc_source":"cache"}`, false},
		{"zero interval", `{"refresh_interval":0}`, false},
		{"zero init size", `{"cluster_size_init":0}`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := New().Configure(context.Background(), batchingtest.TinyConfig(tc.params, 1))
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, sdk.ErrInvalidConfig)) {
				t.Fatalf("err = %v", err)
			}
		})
	}
	p := batchingtest.NewPlanted(6, 50, 10, 2, 4)
	s := configured(t, p, "", 1)
	if _, err := s.Refresh(context.Background(), 10, sdk.Matrix{}, sdk.Matrix{}); err == nil {
		t.Fatal("refresh without docs accepted")
	}
	bad := sdk.Matrix{Rows: 49, Cols: 4, Data: make([]float32, 49*4)}
	if _, err := s.Refresh(context.Background(), 10, bad, sdk.Matrix{}); err == nil {
		t.Fatal("wrong row count accepted")
	}
}

func TestOverGRPCWithNpyPath(t *testing.T) {
	s := New()
	c := plugintest.Connect(t, sdk.KindSampler, s).(sdk.Sampler)
	ctx := context.Background()
	if err := c.Configure(ctx, batchingtest.TinyConfig(`{"refresh_start":0,"refresh_interval":1,"lag":false}`, 2)); err != nil {
		t.Fatal(err)
	}
	p := batchingtest.NewPlanted(7, 30, 8, 2, 6) // shapes of the tiny fixture
	m, err := sdk.StoreMatrix(t.TempDir(), "docs", p.DocMatrix())
	if err != nil {
		t.Fatal(err)
	}
	m.Data = nil // only the path crosses
	st, err := c.Refresh(ctx, 0, m, sdk.Matrix{})
	if err != nil {
		t.Fatal(err)
	}
	// 28 labelled docs at nominal size 1: 28 clusters (32 after rounding, capped at the doc count).
	if st.Detail["clusters"] != 28 {
		t.Fatalf("detail %v", st.Detail)
	}
	docs, _ := batchingtest.Flatten(batchingtest.Epoch(t, c, 0, 8))
	slices.Sort(docs)
	if want := []int32{0, 1, 2, 3}; len(docs) != 28 || !slices.Equal(docs[:4], want) {
		t.Fatalf("docs %v", docs)
	}
}
