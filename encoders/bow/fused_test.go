package bow

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"testing"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/encoders/optim"
	"github.com/xcbench/xcbench/encoders/siamese"
	"github.com/xcbench/xcbench/encoders/siamese/siamesetest"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// withFilter is planted with reciprocal filter pairs, so the in-batch mask
// has filtered columns besides multi-label positives.
func withFilter() *data.Dataset {
	ds := *planted
	for doc := int32(0); doc < int32(ds.TrainY.NRows); doc += 3 {
		ds.FilterTrain = append(ds.FilterTrain, data.Pair{Row: doc, Label: (doc * 7) % int32(ds.NumLabels)})
	}
	return &ds
}

// maxDiff reports the largest |a-b| relative to the largest |a| (so tiny
// gradients are compared at their own scale).
func maxDiff(a, b []float32) float64 {
	var scale, worst float64 = 1e-30, 0
	for i := range a {
		scale = math.Max(scale, math.Abs(float64(a[i])))
	}
	for i := range a {
		worst = math.Max(worst, math.Abs(float64(a[i])-float64(b[i]))/scale)
	}
	return worst
}

// TestFusedEqualsGraph trains two encoders from the same seed, one per
// engine, over the same batches: every step's loss, hardness and gradients
// and, at the end, the weights, Adam moments and memory bank must agree to
// float32 rounding.
func TestFusedEqualsGraph(t *testing.T) {
	ds := withFilter()
	ctx := context.Background()
	base := `"dim": 16, "batch_size": 32, "lr": 0.01, "warmup_steps": 2, "total_steps": 40, "weight_decay": 0.01`
	for _, tc := range []struct {
		name, params string
		negatives    bool
	}{
		{"triplet", `"num_negatives": 5`, false},
		{"triplet_residual_tfidf", `"num_negatives": 5, "residual": true, "pooling": "tfidf"`, false},
		{"triplet_k_exceeds_batch", `"num_negatives": 40, "residual": true`, false},
		{"triplet_dropout", `"num_negatives": 3, "residual": true, "dropout": 0.2`, false},
		{"infonce", `"loss": "infonce", "temperature": 0.1, "residual": true`, false},
		{"dsoftmax", `"loss": "dsoftmax", "temperature": 0.1, "residual": true`, false},
		{"triplet_explicit_negatives_dropout", `"num_negatives": 5, "residual": true, "dropout": 0.1`, true},
		{"infonce_explicit_negatives", `"loss": "infonce", "temperature": 0.1, "residual": true`, true},
		{"dsoftmax_explicit_negatives", `"loss": "dsoftmax", "temperature": 0.1`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := configured(t, ds, 5, fmt.Sprintf(`{%s, %s, "engine": "graph"}`, base, tc.params))
			f := configured(t, ds, 5, fmt.Sprintf(`{%s, %s, "engine": "fused"}`, base, tc.params))
			bs := siamesetest.Batches(ds.TrainY, 32, 4, 0)[:6]
			// A ragged batch: padded to 32 in the graph, 20 rows on the host.
			bs = append(bs, sdk.Batch{Docs: bs[0].Docs[:20], Positives: bs[0].Positives[:20]})
			if tc.negatives {
				// Ragged lists (some empty), including positives of the
				// doc and filtered labels, which the mask must drop.
				for bi := range bs {
					b := &bs[bi]
					b.Negatives = make([][]int32, len(b.Docs))
					for i := range b.Docs {
						for j := range (i + bi) % 4 {
							b.Negatives[i] = append(b.Negatives[i], int32((i*5+j*7+bi)%ds.NumLabels))
						}
					}
					if ys, _ := ds.TrainY.Row(int(b.Docs[0])); len(ys) > 0 {
						b.Negatives[0] = append(b.Negatives[0], ys[0])
					}
				}
			}
			for step, b := range bs {
				gg, err := g.Service().Gradients(ctx, b)
				if err != nil {
					t.Fatal(err)
				}
				fg, err := f.Service().Gradients(ctx, b)
				if err != nil {
					t.Fatal(err)
				}
				if math.Abs(gg.Loss-fg.Loss) > 1e-5*math.Max(1, math.Abs(gg.Loss)) || math.Abs(gg.Hardness-fg.Hardness) > 1e-5 {
					t.Fatalf("step %d: graph loss %.7g hardness %.7g, fused %.7g %.7g", step, gg.Loss, gg.Hardness, fg.Loss, fg.Hardness)
				}
				if gg.Items != fg.Items || len(gg.Rows) != len(fg.Rows) {
					t.Fatalf("step %d: items %d/%d rows %d/%d", step, gg.Items, fg.Items, len(gg.Rows), len(fg.Rows))
				}
				// Rounding differences grow over Adam steps to ~2e-5 of
				// the largest value here (dropout makes them largest).
				for name, pair := range map[string][2][]float32{"table": {gg.Table, fg.Table}, "emb": {gg.Emb, fg.Emb}} {
					if d := maxDiff(pair[0], pair[1]); d > 1e-4 {
						t.Fatalf("step %d: %s gradients differ by %.3g", step, name, d)
					}
				}
				for i := range gg.Params {
					if d := maxDiff(gg.Params[i], fg.Params[i]); d > 2e-5 {
						t.Fatalf("step %d: param %d gradients differ by %.3g", step, i, d)
					}
				}
				sg, err := g.TrainStep(ctx, b)
				if err != nil {
					t.Fatal(err)
				}
				sf, err := f.TrainStep(ctx, b)
				if err != nil {
					t.Fatal(err)
				}
				if math.Abs(sg.Loss-sf.Loss) > 1e-5*math.Max(1, math.Abs(sg.Loss)) {
					t.Fatalf("step %d: train losses %.7g vs %.7g", step, sg.Loss, sf.Loss)
				}
			}
			pg := append([]*optim.Param{g.Service().Arch().Table()}, g.Service().Arch().Params()...)
			pf := append([]*optim.Param{f.Service().Arch().Table()}, f.Service().Arch().Params()...)
			for i := range pg {
				for name, pair := range map[string][2][]float32{"weights": {pg[i].Data, pf[i].Data}, "m": {pg[i].M, pf[i].M}, "v": {pg[i].V, pf[i].V}} {
					if d := maxDiff(pair[0], pair[1]); d > 1e-4 {
						t.Errorf("%s %s differ by %.3g after %d steps", pg[i].Name, name, d, len(bs))
					}
				}
			}
			mg, _ := g.MemoryBank(ctx)
			mf, _ := f.MemoryBank(ctx)
			if d := maxDiff(mg.Data, mf.Data); d > 1e-4 {
				t.Errorf("memory banks differ by %.3g", d)
			}
		})
	}
}

// TestEngineAuto: auto is fused on the pure-Go backend and the graph on
// XLA (where the graph runs on the accelerator).
func TestEngineAuto(t *testing.T) {
	for _, tc := range []struct {
		params string
		fused  bool
	}{
		{`{}`, true},
		{`{"backend": "go"}`, true},
		{`{"backend": "xla:cuda"}`, false},
		{`{"backend": "xla:cuda", "engine": "fused"}`, true},
		{`{"engine": "graph"}`, false},
		{`{"grad_cache": 8}`, false},
	} {
		a, _, err := Build(json.RawMessage(tc.params), planted, siamese.NewRNG(1, "bow"))
		if err != nil {
			t.Fatal(err)
		}
		if got := a.(*Arch).HostEngine(); got != tc.fused {
			t.Errorf("%s: fused %v, want %v", tc.params, got, tc.fused)
		}
	}
}

// TestFusedEncodeEqualsGraph: Encode on each engine gives the same
// embeddings (after a few steps, so the residual is non-zero), for every
// split and a chunk size that leaves a ragged last chunk.
func TestFusedEncodeEqualsGraph(t *testing.T) {
	ctx := context.Background()
	params := `{"dim": 16, "batch_size": 32, "encode_batch": 50, "lr": 0.01, "residual": true, "pooling": "tfidf", "engine": "%s"}`
	g := configured(t, planted, 5, fmt.Sprintf(params, "graph"))
	f := configured(t, planted, 5, fmt.Sprintf(params, "fused"))
	for _, b := range siamesetest.Batches(planted.TrainY, 32, 4, 0)[:3] {
		for _, enc := range []sdk.Encoder{g, f} {
			if _, err := enc.TrainStep(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, split := range []sdk.Split{sdk.SplitTrain, sdk.SplitTest, sdk.SplitLabels} {
		mg, err := g.Encode(ctx, split, nil)
		if err != nil {
			t.Fatal(err)
		}
		mf, err := f.Encode(ctx, split, nil)
		if err != nil {
			t.Fatal(err)
		}
		if mg.Rows != mf.Rows || mg.Cols != mf.Cols {
			t.Fatalf("%s: shapes %dx%d vs %dx%d", split, mg.Rows, mg.Cols, mf.Rows, mf.Cols)
		}
		if d := maxDiff(mg.Data, mf.Data); d > 1e-4 {
			t.Fatalf("%s: embeddings differ by %.3g", split, d)
		}
	}
	if _, err := f.Encode(ctx, sdk.SplitTrain, []int32{480}); err == nil {
		t.Fatal("fused: out-of-range id accepted")
	}
}
