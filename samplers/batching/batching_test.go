package batching

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/core/sparse"
	"github.com/xcbench/xcbench/plugins/sdk"
	"github.com/xcbench/xcbench/samplers/batching/batchingtest"
)

func TestDecodeParams(t *testing.T) {
	type P struct {
		K    int    `json:"k"`
		Mode string `json:"mode"`
	}
	cases := []struct {
		name    string
		raw     string
		want    P
		wantErr string
	}{
		{"empty keeps defaults", "", P{K: 3, Mode: "a"}, ""},
		{"null keeps defaults", "null", P{K: 3, Mode: "a"}, ""},
		{"override", `{"k": 5}`, P{K: 5, Mode: "a"}, ""},
		{"unknown key", `{"kk": 5}`, P{}, `"kk"`},
		{"wrong type", `{"k": "x"}`, P{}, "k"},
		{"trailing", `{"k": 1} {}`, P{}, "trailing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := P{K: 3, Mode: "a"}
			err := DecodeParams("test", []byte(tc.raw), &p)
			if tc.wantErr != "" {
				if !errors.Is(err, sdk.ErrInvalidConfig) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want ErrInvalidConfig naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil || p != tc.want {
				t.Fatalf("got %+v, %v", p, err)
			}
		})
	}
}

func TestRNGIndependentStreams(t *testing.T) {
	draw := func(seed uint64, epoch int, purpose string) []uint64 {
		r := RNG(seed, epoch, purpose)
		return []uint64{r.Uint64(), r.Uint64()}
	}
	base := draw(1, 3, "order")
	cases := []struct {
		name    string
		seed    uint64
		epoch   int
		purpose string
		same    bool
	}{
		{"same key", 1, 3, "order", true},
		{"other seed", 2, 3, "order", false},
		{"other epoch", 1, 4, "order", false},
		{"other purpose", 1, 3, "positives", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := draw(tc.seed, tc.epoch, tc.purpose); slices.Equal(got, base) != tc.same {
				t.Fatalf("same = %v, want %v", !tc.same, tc.same)
			}
		})
	}
}

func TestUniformNegatives(t *testing.T) {
	y, _ := sparse.FromRows(6, [][]int32{{0, 1}, {0, 1, 2, 3, 4}})
	ex := Excluder{Y: y, Filter: data.NewFilterSet([]data.Pair{{Row: 0, Label: 2}, {Row: 1, Label: 5}})}
	cases := []struct {
		name    string
		doc     int32
		k, want int
	}{
		{"plenty", 0, 3, 3},
		{"fewer than k remain", 0, 5, 3},
		{"none remain", 1, 2, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for seed := range uint64(20) {
				got := UniformNegatives(RNG(seed, 0, "neg"), nil, tc.doc, tc.k, 6, ex)
				if len(got) != tc.want {
					t.Fatalf("got %v, want %d labels", got, tc.want)
				}
				for i, l := range got {
					if ex.Excluded(tc.doc, l) || slices.Contains(got[:i], l) {
						t.Fatalf("got %v: excluded or repeated label %d", got, l)
					}
				}
			}
		})
	}
}

func TestCut(t *testing.T) {
	order := []int32{5, 3, 1, 0, 2}
	pos := []int32{10, 11, 12, 13, 14, 15}
	var sizes []int
	var docs []int32
	for b, err := range Cut(context.Background(), order, pos, 2, nil) {
		if err != nil {
			t.Fatal(err)
		}
		for i, d := range b.Docs {
			if b.Positives[i] != pos[d] {
				t.Fatalf("positive of %d = %d", d, b.Positives[i])
			}
		}
		sizes = append(sizes, len(b.Docs))
		docs = append(docs, b.Docs...)
	}
	if !slices.Equal(sizes, []int{2, 2, 1}) || !slices.Equal(docs, order) {
		t.Fatalf("sizes %v docs %v", sizes, docs)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, err := range Cut(ctx, order, pos, 2, nil) {
		if !errors.Is(err, sdk.ErrCanceled) {
			t.Fatalf("err = %v", err)
		}
	}
	for _, err := range Cut(context.Background(), order, pos, 0, nil) {
		if !errors.Is(err, sdk.ErrInvalidConfig) {
			t.Fatalf("batch size 0: %v", err)
		}
	}
}

func TestOpenTinyFixture(t *testing.T) {
	ds, err := OpenDataset(batchingtest.TinyConfig("", 0))
	if err != nil {
		t.Fatal(err)
	}
	docs := LabeledDocs(ds.TrainY)
	if len(docs) != 28 || slices.Contains(docs, 4) || slices.Contains(docs, 17) || len(ds.FilterTrain) != 5 {
		t.Fatalf("fixture: %d labelled docs, %d filter pairs", len(docs), len(ds.FilterTrain))
	}
	if _, err := OpenDataset(sdk.Config{}); !errors.Is(err, sdk.ErrInvalidConfig) {
		t.Fatalf("empty dir: %v", err)
	}
}

func TestInBatchHardnessOrdersByTopic(t *testing.T) {
	p := batchingtest.NewPlanted(1, 400, 40, 8, 16)
	pos := Positives(RNG(1, 0, "p"), p.DS.TrainY)
	docs := LabeledDocs(p.DS.TrainY)
	random := Shuffled(RNG(1, 0, "o"), docs)
	// Group by the topic of the doc's first label: topic-pure batches.
	grouped := slices.Clone(docs)
	slices.SortStableFunc(grouped, func(a, b int32) int {
		ca, _ := p.DS.TrainY.Row(int(a))
		cb, _ := p.DS.TrainY.Row(int(b))
		return p.Topic[ca[0]] - p.Topic[cb[0]]
	})
	for _, labels := range [][]float32{nil, p.Lbls} {
		hr := InBatchHardness(p.Docs, labels, p.Dim, p.DS.TrainY, random, pos, 32, 10, 1000)
		hg := InBatchHardness(p.Docs, labels, p.Dim, p.DS.TrainY, grouped, pos, 32, 10, 1000)
		if !(hg > hr+0.1) {
			t.Fatalf("labels=%v: grouped hardness %.3f not above random %.3f", labels != nil, hg, hr)
		}
	}
}
