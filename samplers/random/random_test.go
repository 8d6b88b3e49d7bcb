package random

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"

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

func TestCoversEpoch(t *testing.T) {
	p := batchingtest.NewPlanted(1, 503, 30, 5, 8, 7, 100)
	cases := []struct {
		name      string
		params    string
		batchSize int
	}{
		{"in-batch", "", 64},
		{"batch 1", "", 1},
		{"batch larger than epoch", "", 10000},
		{"explicit negatives", `{"negatives": 4}`, 50},
	}
	want := batching.LabeledDocs(p.DS.TrainY)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := configured(t, p, tc.params, 3)
			for epoch := range 3 {
				bs := batchingtest.Epoch(t, s, epoch, tc.batchSize)
				docs, pos := batchingtest.Flatten(bs)
				for i, b := range bs {
					if len(b.Docs) > tc.batchSize || (i < len(bs)-1 && len(b.Docs) != tc.batchSize) {
						t.Fatalf("batch %d has %d docs", i, len(b.Docs))
					}
				}
				for i, d := range docs {
					if !p.DS.TrainY.Has(int(d), pos[i]) {
						t.Fatalf("label %d is not a positive of doc %d", pos[i], d)
					}
				}
				slices.Sort(docs)
				if !slices.Equal(docs, want) {
					t.Fatalf("epoch %d does not cover each labelled doc once", epoch)
				}
			}
		})
	}
}

func TestSeedDeterminism(t *testing.T) {
	p := batchingtest.NewPlanted(2, 300, 30, 5, 8)
	a := batchingtest.Epoch(t, configured(t, p, `{"negatives":3}`, 7), 4, 32)
	cases := []struct {
		name  string
		seed  uint64
		epoch int
		same  bool
	}{
		{"same seed and epoch", 7, 4, true},
		{"other seed", 8, 4, false},
		{"other epoch", 7, 5, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := configured(t, p, `{"negatives":3}`, tc.seed)
			if tc.epoch > 4 {
				batchingtest.Epoch(t, s, 0, 32) // earlier epochs must not matter
			}
			b := batchingtest.Epoch(t, s, tc.epoch, 32)
			if eq := equalBatches(a, b); eq != tc.same {
				t.Fatalf("equal = %v, want %v", eq, tc.same)
			}
		})
	}
}

func equalBatches(a, b []sdk.Batch) bool {
	return slices.EqualFunc(a, b, func(x, y sdk.Batch) bool {
		return slices.Equal(x.Docs, y.Docs) && slices.Equal(x.Positives, y.Positives) &&
			slices.EqualFunc(x.Negatives, y.Negatives, func(u, v []int32) bool { return slices.Equal(u, v) })
	})
}

func TestNegativesExcludePositivesAndFilter(t *testing.T) {
	p := batchingtest.NewPlanted(3, 400, 12, 3, 8)
	s := configured(t, p, `{"negatives": 5}`, 1)
	filtered := map[[2]int32]bool{}
	for _, f := range p.DS.FilterTrain {
		filtered[[2]int32{f.Row, f.Label}] = true
	}
	for _, b := range batchingtest.Epoch(t, s, 0, 40) {
		for i, d := range b.Docs {
			neg := b.Negatives[i]
			if len(neg) != 5 {
				t.Fatalf("doc %d has %d negatives", d, len(neg))
			}
			for j, l := range neg {
				if p.DS.TrainY.Has(int(d), l) || filtered[[2]int32{d, l}] || slices.Contains(neg[:j], l) {
					t.Fatalf("doc %d: bad negative %d in %v", d, l, neg)
				}
			}
		}
	}
}

func TestConfigure(t *testing.T) {
	cases := []struct {
		name   string
		params string
		ok     bool
	}{
		{"defaults", "", true},
		{"negatives", `{"negatives": 2}`, true},
		{"unknown key", `{"negative": 2}`, false},
		{"negative count", `{"negatives": -1}`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := New().Configure(context.Background(), batchingtest.TinyConfig(tc.params, 1))
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, sdk.ErrInvalidConfig)) {
				t.Fatalf("err = %v", err)
			}
		})
	}
	s := New()
	if _, err := s.Plan(context.Background(), 0); !errors.Is(err, sdk.ErrNotConfigured) {
		t.Fatalf("unconfigured Plan: %v", err)
	}
	info, _ := s.Describe(context.Background())
	var schema map[string]map[string]any
	if err := json.Unmarshal(info.ConfigSchema, &schema); err != nil || schema["negatives"]["doc"] == "" {
		t.Fatalf("schema %s: %v", info.ConfigSchema, err)
	}
}

func TestOverGRPC(t *testing.T) {
	s := New()
	c := plugintest.Connect(t, sdk.KindSampler, s).(sdk.Sampler)
	ctx := context.Background()
	if err := c.Configure(ctx, batchingtest.TinyConfig(`{"negatives": 2}`, 5)); err != nil {
		t.Fatal(err)
	}
	remote := batchingtest.Epoch(t, c, 1, 8)
	local := batchingtest.Epoch(t, s, 1, 8)
	if !equalBatches(remote, local) || len(remote) != 4 {
		t.Fatalf("batches over gRPC differ from in-process (%d batches)", len(remote))
	}
}
