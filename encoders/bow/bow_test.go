package bow

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/encoders/siamese"
	"github.com/xcbench/xcbench/encoders/siamese/siamesetest"
	"github.com/xcbench/xcbench/plugins/sdk"
)

var planted = siamesetest.Planted(siamesetest.PlantedConfig{Vocab: 200, Labels: 24, Train: 480, Test: 120, Seed: 1})

func configured(t testing.TB, ds *data.Dataset, seed uint64, params string) *siamese.Component {
	t.Helper()
	c := New()
	c.Dataset = ds
	if err := c.Configure(context.Background(), sdk.Config{Params: json.RawMessage(params), Seed: seed}); err != nil {
		t.Fatal(err)
	}
	return c
}

const small = `{"dim": 16, "batch_size": 32, "encode_batch": 64, "lr": 0.01, "warmup_steps": 5, "num_negatives": 5}`

func TestLearnsPlanted(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct{ name, params string }{
		{"triplet_mean", small},
		{"dsoftmax", `{"dim": 16, "batch_size": 32, "encode_batch": 64, "lr": 0.01, "loss": "dsoftmax", "temperature": 0.1}`},
		{"infonce_tfidf_residual", `{"dim": 16, "batch_size": 32, "encode_batch": 64, "lr": 0.01, "loss": "infonce", "temperature": 0.1, "pooling": "tfidf", "residual": true}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enc := configured(t, planted, 7, tc.params)
			before, err := siamesetest.PrecisionAt1(ctx, enc, planted.TestY)
			if err != nil {
				t.Fatal(err)
			}
			var first, last float64
			const epochs = 8
			for e := range epochs {
				var sum float64
				bs := siamesetest.Batches(planted.TrainY, 32, 3, e)
				for _, b := range bs {
					st, err := enc.TrainStep(ctx, b)
					if err != nil {
						t.Fatal(err)
					}
					if math.IsNaN(st.Loss) || st.Hardness < -1 || st.Hardness > 1 {
						t.Fatalf("bad stats %+v", st)
					}
					sum += st.Loss
				}
				if e == 0 {
					first = sum / float64(len(bs))
				}
				last = sum / float64(len(bs))
			}
			after, err := siamesetest.PrecisionAt1(ctx, enc, planted.TestY)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("loss %.4f -> %.4f, P@1 %.3f -> %.3f", first, last, before, after)
			if last >= first*0.8 {
				t.Errorf("loss did not drop: first epoch %.4f, last %.4f", first, last)
			}
			if after < before+0.3 || after < 0.6 {
				t.Errorf("P@1 %.3f -> %.3f: want a rise of 0.3 to at least 0.6", before, after)
			}
		})
	}
}

func trainLosses(t *testing.T, enc sdk.Encoder, bs []sdk.Batch) []float64 {
	t.Helper()
	var out []float64
	for _, b := range bs {
		st, err := enc.TrainStep(context.Background(), b)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, st.Loss)
	}
	return out
}

func TestSameSeedSameLosses(t *testing.T) {
	bs := siamesetest.Batches(planted.TrainY, 32, 5, 0)[:5]
	a := trainLosses(t, configured(t, planted, 11, small), bs)
	b := trainLosses(t, configured(t, planted, 11, small), bs)
	c := trainLosses(t, configured(t, planted, 12, small), bs)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("step %d: same seed gave %v vs %v", i, a[i], b[i])
		}
	}
	if a[0] == c[0] {
		t.Fatalf("different seeds gave the same first loss %v", a[0])
	}
}

func TestEncodeShapeAndNorms(t *testing.T) {
	enc := configured(t, planted, 1, small)
	ctx := context.Background()
	for _, tc := range []struct {
		split sdk.Split
		ids   []int32
		rows  int
	}{
		{sdk.SplitTest, nil, 120},
		{sdk.SplitLabels, nil, 24},
		{sdk.SplitTrain, []int32{5, 0, 479}, 3},
	} {
		m, err := enc.Encode(ctx, tc.split, tc.ids)
		if err != nil {
			t.Fatal(err)
		}
		if m.Rows != tc.rows || m.Cols != 16 || len(m.Data) != tc.rows*16 {
			t.Fatalf("%s: got %dx%d (%d values)", tc.split, m.Rows, m.Cols, len(m.Data))
		}
		for i := range m.Rows {
			var n float64
			for _, v := range m.Row(i) {
				n += float64(v) * float64(v)
			}
			if math.Abs(n-1) > 1e-4 {
				t.Fatalf("%s row %d: squared norm %g", tc.split, i, n)
			}
		}
	}
	// Ids order is respected: encoding [5] alone equals row 0 above.
	one, _ := enc.Encode(ctx, sdk.SplitTrain, []int32{5})
	three, _ := enc.Encode(ctx, sdk.SplitTrain, []int32{5, 0, 479})
	for k := range 16 {
		if math.Abs(float64(one.Data[k]-three.Data[k])) > 1e-6 {
			t.Fatalf("row for id 5 differs between batches: %v vs %v", one.Row(0), three.Row(0))
		}
	}
	if _, err := enc.Encode(ctx, sdk.SplitTrain, []int32{480}); err == nil {
		t.Fatal("out-of-range id accepted")
	}
}

func TestCheckpointResume(t *testing.T) {
	ctx := context.Background()
	bs := siamesetest.Batches(planted.TrainY, 32, 9, 0)[:4]
	// Dropout on: the resumed run must draw the same masks.
	params := `{"dim": 16, "batch_size": 32, "lr": 0.01, "warmup_steps": 2, "total_steps": 20, "residual": true, "dropout": 0.2}`
	a := configured(t, planted, 3, params)
	trainLosses(t, a, bs[:3])
	dir := t.TempDir()
	if err := a.Save(ctx, dir); err != nil {
		t.Fatal(err)
	}
	want := trainLosses(t, a, bs[3:])
	// A fresh encoder with another seed: everything must come from the checkpoint.
	b := configured(t, planted, 99, params)
	if err := b.Load(ctx, dir); err != nil {
		t.Fatal(err)
	}
	if got := trainLosses(t, b, bs[3:]); got[0] != want[0] {
		t.Fatalf("resumed loss %v, uninterrupted %v", got[0], want[0])
	}
	// Memory bank round-trips too.
	ma, _ := a.MemoryBank(ctx)
	mb, _ := b.MemoryBank(ctx)
	for i := range ma.Data {
		if ma.Data[i] != mb.Data[i] {
			t.Fatalf("memory bank differs at %d", i)
		}
	}
	// A different architecture is refused, naming the mismatch.
	c := configured(t, planted, 3, `{"dim": 8}`)
	if err := c.Load(ctx, dir); err == nil || !strings.Contains(err.Error(), "tensor") {
		t.Fatalf("loading a dim-16 checkpoint into dim 8: %v", err)
	}
}

func TestStrictParams(t *testing.T) {
	for _, tc := range []struct{ params, want string }{
		{`{"dimm": 3}`, "dimm"},
		{`{"pooling": "max"}`, "pooling"},
		{`{"loss": "hinge"}`, "loss"},
		{`{"lr": 0}`, "lr"},
		{`{"engine": "xla"}`, "engine"},
		{`{"engine": "fused", "grad_cache": 8}`, "grad_cache"},
		{`{"total_steps": 5, "warmup_steps": 10}`, "total_steps"},
	} {
		c := New()
		c.Dataset = planted
		err := c.Configure(context.Background(), sdk.Config{Params: json.RawMessage(tc.params)})
		if !errors.Is(err, sdk.ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want ErrInvalidConfig naming %q", tc.params, err, tc.want)
		}
	}
	var unconfigured sdk.Encoder = New()
	if _, err := unconfigured.TrainStep(context.Background(), sdk.Batch{}); !errors.Is(err, sdk.ErrNotConfigured) {
		t.Fatalf("unconfigured TrainStep: %v", err)
	}
}

func TestDescribeSchema(t *testing.T) {
	info, err := New().Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]struct {
		Type    string `json:"type"`
		Default any    `json:"default"`
		Doc     string `json:"doc"`
	}
	if err := json.Unmarshal(info.ConfigSchema, &schema); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"dim", "pooling", "residual", "lr", "weight_decay", "warmup_steps", "total_steps", "loss", "margin", "num_negatives", "tau", "batch_size", "encode_batch", "init_std", "backend", "dropout"} {
		if schema[k].Doc == "" || schema[k].Type == "" {
			t.Errorf("schema lacks %q: %+v", k, schema[k])
		}
	}
	if info.Kind != sdk.KindEncoder || info.Name != Name {
		t.Fatalf("info %+v", info)
	}
}

func TestExplicitNegativesAndMemoryBank(t *testing.T) {
	ctx := context.Background()
	enc := configured(t, planted, 1, small)
	b := siamesetest.Batches(planted.TrainY, 8, 1, 0)[0]
	b.Negatives = [][]int32{{1, 2, 3}, {4}, nil, {5, 6}, {7}, {8}, {9}, {10}}
	st, err := enc.TrainStep(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if st.Items != 8+8+10 {
		t.Fatalf("items %d want 26", st.Items)
	}
	bank, err := enc.MemoryBank(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int32]bool{}
	for _, d := range b.Docs {
		seen[d] = true
	}
	for i := range bank.Rows {
		var n float64
		for _, v := range bank.Row(i) {
			n += float64(v) * float64(v)
		}
		if seen[int32(i)] && math.Abs(n-1) > 1e-4 || !seen[int32(i)] && n != 0 {
			t.Fatalf("bank row %d (seen %v) has squared norm %g", i, seen[int32(i)], n)
		}
	}
	if _, err := enc.TrainStep(ctx, sdk.Batch{Docs: []int32{0}, Positives: []int32{99}}); err == nil {
		t.Fatal("label id out of range accepted")
	}
}

// TestCooking trains briefly on the real cooking set with random in-batch
// batches (skipped when ../shared/data is absent).
func TestCooking(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	dir, ok := siamesetest.DataDir()
	if !ok {
		t.Skip("shared data folder not found (set XCBENCH_DATA or put it at ../shared/data)")
	}
	ctx := context.Background()
	c := New()
	err := c.Configure(ctx, sdk.Config{
		Params:  json.RawMessage(`{"dim": 32, "batch_size": 256, "lr": 0.01, "warmup_steps": 10, "loss": "infonce", "temperature": 0.05}`),
		Seed:    1,
		Dataset: sdk.Dataset{Dir: dir + "/cooking", Name: "cooking", Options: json.RawMessage(`{"cache_dir":"-"}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	ds := c.Service().Dataset()
	before, _ := siamesetest.PrecisionAt1(ctx, c, ds.TestY)
	for e := range 2 {
		for _, b := range siamesetest.Batches(ds.TrainY, 256, 1, e) {
			if _, err := c.TrainStep(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
	}
	after, err := siamesetest.PrecisionAt1(ctx, c, ds.TestY)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cooking encoder-only P@1 %.3f -> %.3f after 2 epochs", before, after)
	if after < before+0.1 {
		t.Fatalf("P@1 %.3f -> %.3f: expected a clear rise", before, after)
	}
}

// TestRaggedBatchReusesGraph: the last, smaller batch of an epoch is padded
// to the compiled shape instead of compiling a new graph.
func TestRaggedBatchReusesGraph(t *testing.T) {
	ctx := context.Background()
	// Long rows so that every batch rounds to the same sequence bucket.
	enc := configured(t, planted, 1, `{"dim": 8, "batch_size": 64, "max_tokens": 4, "engine": "graph"}`)
	bs := siamesetest.Batches(planted.TrainY, 64, 1, 0)
	last := bs[len(bs)-1]
	if len(last.Docs) == 64 {
		t.Fatal("fixture: want a ragged last batch")
	}
	for _, b := range []sdk.Batch{bs[0], last} {
		if _, err := enc.TrainStep(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if n := enc.Service().Compiles(); n != 1 {
		t.Fatalf("%d graphs compiled for a full and a ragged batch (%d docs), want 1", n, len(last.Docs))
	}
}

// TestInBatchStepMatchesHost pins the in-batch masks and the infonce and
// dsoftmax losses end to end against a host computation, with and
// without reciprocal train pairs.
func TestInBatchStepMatchesHost(t *testing.T) {
	for _, engine := range []string{"graph", "fused"} {
		t.Run(engine, func(t *testing.T) {
			siamesetest.CheckInBatchStep(t, func(ds *data.Dataset, params string) sdk.Encoder {
				return configured(t, ds, 3, params)
			}, planted, strings.Replace(small, "{", `{"engine": "`+engine+`", `, 1), 32)
		})
	}
}

// TestGradCacheSameGradients: gradient caching changes no gradient.
func TestGradCacheSameGradients(t *testing.T) {
	siamesetest.CheckGradCache(t, func(params string) *siamese.Service {
		return configured(t, planted, 3, params).Service()
	}, planted, `{"dim": 16, "batch_size": 32, "encode_batch": 64, "residual": true, "engine": "graph"}`, 32, 8)
}
