package transformer

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/encoders/gomlxkit"
	"github.com/xcbench/xcbench/encoders/siamese"
	"github.com/xcbench/xcbench/encoders/siamese/siamesetest"
	"github.com/xcbench/xcbench/plugins/sdk"
)

var update = flag.Bool("update", false, "rewrite testdata fixtures")

var planted = siamesetest.Planted(siamesetest.PlantedConfig{Vocab: 120, Labels: 16, Train: 320, Test: 80, Seed: 2})

const tiny = `{"dim": 16, "layers": 1, "heads": 2, "ffn": 32, "max_len": 8, "batch_size": 32, "encode_batch": 64, "lr": 0.005, "warmup_steps": 5, "temperature": 0.1}`

func configured(t testing.TB, ds *data.Dataset, seed uint64, params string) *siamese.Component {
	t.Helper()
	c := New()
	c.Dataset = ds
	if err := c.Configure(context.Background(), sdk.Config{Params: json.RawMessage(params), Seed: seed}); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLearnsPlanted(t *testing.T) {
	ctx := context.Background()
	enc := configured(t, planted, 4, tiny)
	before, err := siamesetest.PrecisionAt1(ctx, enc, planted.TestY)
	if err != nil {
		t.Fatal(err)
	}
	var first, last float64
	const epochs = 10
	for e := range epochs {
		var sum float64
		bs := siamesetest.Batches(planted.TrainY, 32, 1, e)
		for _, b := range bs {
			st, err := enc.TrainStep(ctx, b)
			if err != nil {
				t.Fatal(err)
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
	if last >= first*0.8 || after < before+0.25 {
		t.Fatalf("did not learn: loss %.4f -> %.4f, P@1 %.3f -> %.3f", first, last, before, after)
	}
}

// hostForward is the pre-LN transformer written out in float64 on the
// host: the reference for the graph (attention scaled once by 1/√dh, keys
// limited to the real tokens, final LN, mean pool, L2 norm).
func hostForward(a *Arch, toks []int32) []float64 {
	d, h := a.cfg.Dim, a.cfg.Heads
	dh := d / h
	n := len(toks)
	x := make([][]float64, n)
	for s, t := range toks {
		x[s] = make([]float64, d)
		for k := range d {
			x[s][k] = float64(a.tok.Data[int(t)*d+k]) + float64(a.pos.Data[s*d+k])
		}
	}
	ln := func(v []float64, g, b []float32) []float64 {
		var m, va float64
		for _, e := range v {
			m += e
		}
		m /= float64(len(v))
		for _, e := range v {
			va += (e - m) * (e - m)
		}
		va /= float64(len(v))
		out := make([]float64, len(v))
		for i, e := range v {
			out[i] = (e-m)/math.Sqrt(va+a.eps)*float64(g[i]) + float64(b[i])
		}
		return out
	}
	lin := func(v []float64, w, b []float32, out int) []float64 {
		r := make([]float64, out)
		for o := range out {
			r[o] = float64(b[o])
			for i, e := range v {
				r[o] += e * float64(w[i*out+o])
			}
		}
		return r
	}
	for _, b := range a.blocks {
		hs := make([][]float64, n)
		q, k, v := make([][]float64, n), make([][]float64, n), make([][]float64, n)
		for s := range n {
			hs[s] = ln(x[s], b.ln1g.Data, b.ln1b.Data)
			q[s], k[s], v[s] = lin(hs[s], b.wq.Data, b.bq.Data, d), lin(hs[s], b.wk.Data, b.bk.Data, d), lin(hs[s], b.wv.Data, b.bv.Data, d)
		}
		for s := range n {
			o := make([]float64, d)
			for hd := range h {
				lg := make([]float64, n)
				mx := math.Inf(-1)
				for t := range n {
					for j := hd * dh; j < (hd+1)*dh; j++ {
						lg[t] += q[s][j] * k[t][j]
					}
					lg[t] /= math.Sqrt(float64(dh))
					mx = math.Max(mx, lg[t])
				}
				var z float64
				for t := range n {
					lg[t] = math.Exp(lg[t] - mx)
					z += lg[t]
				}
				for t := range n {
					for j := hd * dh; j < (hd+1)*dh; j++ {
						o[j] += lg[t] / z * v[t][j]
					}
				}
			}
			att := lin(o, b.wo.Data, b.bo.Data, d)
			for j := range d {
				x[s][j] += att[j]
			}
			h2 := ln(x[s], b.ln2g.Data, b.ln2b.Data)
			f := lin(h2, b.w1.Data, b.b1.Data, a.cfg.FFN)
			for j := range f {
				f[j] = 0.5 * f[j] * (1 + math.Erf(f[j]/math.Sqrt2))
			}
			f = lin(f, b.w2.Data, b.b2.Data, d)
			for j := range d {
				x[s][j] += f[j]
			}
		}
	}
	pool := make([]float64, d)
	for s := range n {
		y := ln(x[s], a.finG.Data, a.finB.Data)
		for j := range d {
			pool[j] += y[j] / float64(n)
		}
	}
	var norm float64
	for _, e := range pool {
		norm += e * e
	}
	for j := range pool {
		pool[j] /= math.Sqrt(norm)
	}
	return pool
}

// TestForwardMatchesHost pins the attention scaling, the key mask (items of
// different lengths share a padded batch) and the layer layout, with random
// (non-zero) biases and norms so every term matters.
func TestForwardMatchesHost(t *testing.T) {
	enc := configured(t, planted, 5, `{"dim": 16, "layers": 2, "heads": 4, "ffn": 24, "max_len": 8, "encode_batch": 8}`)
	a := enc.Service().Arch().(*Arch)
	r := rand.New(rand.NewPCG(1, 1))
	for _, p := range a.Params() {
		for i := range p.Data {
			p.Data[i] += float32(r.NormFloat64() * 0.3)
		}
	}
	for i := range a.tok.Data {
		a.tok.Data[i] = float32(r.NormFloat64())
	}
	ids := []int32{0, 1, 2, 3, 4}
	m, err := enc.Encode(context.Background(), sdk.SplitTrain, ids)
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		toks, _ := a.Item(sdk.SplitTrain, id)
		want := hostForward(a, toks)
		for j, w := range want {
			if math.Abs(float64(m.Row(i)[j])-w) > 1e-4 {
				t.Fatalf("item %d (len %d) dim %d: graph %g host %g", id, len(toks), j, m.Row(i)[j], w)
			}
		}
	}
}

// TestInitialEmbeddingsDiffer guards the init trap: with gomlx's
// He-initialised rank-2 QKV biases every document got the same embedding.
func TestInitialEmbeddingsDiffer(t *testing.T) {
	enc := configured(t, planted, 6, tiny)
	a := enc.Service().Arch().(*Arch)
	for _, p := range a.Params() {
		if p.NoDecay && strings.Contains(p.Name, ".b") {
			for _, v := range p.Data {
				if v != 0 {
					t.Fatalf("%s not zero-initialised", p.Name)
				}
			}
		}
	}
	m, err := enc.Encode(context.Background(), sdk.SplitTest, nil)
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	n := 0
	for i := 0; i+1 < m.Rows; i += 2 {
		var c float64
		for k, v := range m.Row(i) {
			c += float64(v * m.Row(i + 1)[k])
		}
		sum += c
		n++
	}
	if mean := sum / float64(n); mean > 0.9 {
		t.Fatalf("mean cosine between different docs at init %.3f: embeddings collapsed", mean)
	}
}

// TestGradientMatchesStock compares every parameter gradient of the whole
// model under the GEMM-shaped matmul gradients with gomlx's stock rules.
func TestGradientMatchesStock(t *testing.T) {
	enc := configured(t, planted, 7, `{"dim": 8, "layers": 1, "heads": 2, "ffn": 12, "max_len": 8}`)
	a := enc.Service().Arch().(*Arch)
	b, err := gomlxkit.NewBackend("")
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(2, 2))
	const n, s, u = 3, 5, 10
	idx := make([]int32, n*s)
	w := make([]float32, n*s)
	for i := range idx {
		idx[i] = int32(r.IntN(u))
		if i%s < 3+i/s%2 {
			w[i] = 1
		}
	}
	rows := make([]float32, u*8)
	for i := range rows {
		rows[i] = float32(r.NormFloat64())
	}
	np := len(a.Params())
	grads := func() [][]float32 {
		exec := MustNewExec(b, func(in []*Node) []*Node {
			out := a.Build(in[:np], in[np], in[np+1], in[np+2])
			weights := Sin(IotaFull(out.Graph(), out.Shape()))
			return Gradient(ReduceAllSum(Mul(L2Normalize(out, -1), weights)), append(in[:np:np], in[np])...)
		})
		defer exec.Finalize()
		var args []any
		for _, p := range a.Params() {
			args = append(args, tensors.FromFlatDataAndDimensions(p.Data, p.Dims...))
		}
		args = append(args, tensors.FromFlatDataAndDimensions(rows, u, 8), tensors.FromFlatDataAndDimensions(idx, n, s), tensors.FromFlatDataAndDimensions(w, n, s))
		res := exec.MustExec(args...)
		out := make([][]float32, len(res))
		for i, t := range res {
			out[i] = tensors.MustCopyFlatData[float32](t)
		}
		return out
	}
	fast := grads()
	var stock [][]float32
	gomlxkit.WithStockMatmulGrads(func() { stock = grads() })
	names := append(paramNames(a), "rows")
	for i := range fast {
		var diff, norm float64
		for j := range fast[i] {
			diff += math.Abs(float64(fast[i][j] - stock[i][j]))
			norm += math.Abs(float64(stock[i][j]))
		}
		if diff > 1e-4*norm+1e-6 {
			t.Errorf("%s: L1 diff %g vs L1 norm %g", names[i], diff, norm)
		}
	}
}

func paramNames(a *Arch) []string {
	var out []string
	for _, p := range a.Params() {
		out = append(out, p.Name)
	}
	return out
}

func TestSameSeedSameLosses(t *testing.T) {
	bs := siamesetest.Batches(planted.TrainY, 32, 2, 0)[:3]
	run := func(seed uint64) []float64 {
		enc := configured(t, planted, seed, tiny)
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
	a, b := run(3), run(3)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("step %d: %v vs %v", i, a[i], b[i])
		}
	}
}

func TestNeedsTokens(t *testing.T) {
	bow := *planted
	bow.TrainTok, bow.TestTok, bow.LabelTok, bow.TokVocab = nil, nil, nil, nil
	bow.Format = "bow"
	c := New()
	c.Dataset = &bow
	err := c.Configure(context.Background(), sdk.Config{Params: json.RawMessage(tiny)})
	if !errors.Is(err, sdk.ErrInvalidConfig) || !strings.Contains(err.Error(), "token sequences") {
		t.Fatalf("got %v", err)
	}
	c = New()
	c.Dataset = planted
	if err := c.Configure(context.Background(), sdk.Config{Params: json.RawMessage(`{"dim": 10, "heads": 3}`)}); !errors.Is(err, sdk.ErrInvalidConfig) {
		t.Fatalf("heads not dividing dim: %v", err)
	}
}

func TestSafetensorsRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.safetensors")
	in := map[string]Tensor{
		"a":   {Dims: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, -6}},
		"b.c": {Dims: []int{1}, Data: []float32{0.25}},
	}
	if err := WriteSafetensors(path, in); err != nil {
		t.Fatal(err)
	}
	out, err := ReadSafetensors(path)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range in {
		got := out[k]
		if len(got.Data) != len(v.Data) || len(got.Dims) != len(v.Dims) {
			t.Fatalf("%s: got %+v", k, got)
		}
		for i := range v.Data {
			if got.Data[i] != v.Data[i] {
				t.Fatalf("%s[%d]: %g want %g", k, i, got.Data[i], v.Data[i])
			}
		}
	}
	// The fixture in testdata was written by this writer (go test -run
	// Safetensors -update); it must stay readable with the same values.
	fixture := map[string]Tensor{"embeddings.word_embeddings.weight": {Dims: []int{3, 2}, Data: []float32{0.5, -1, 2, 0, 1e-3, 7}}}
	if *update {
		if err := WriteSafetensors("testdata/tiny.safetensors", fixture); err != nil {
			t.Fatal(err)
		}
	}
	fx, err := ReadSafetensors("testdata/tiny.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	if got := fx["embeddings.word_embeddings.weight"]; len(got.Data) != 6 || got.Data[5] != 7 || got.Dims[0] != 3 {
		t.Fatalf("fixture read back as %+v", got)
	}
	for _, tc := range []struct {
		h    uint16
		want float32
	}{{0x3c00, 1}, {0xc000, -2}, {0x3555, 0.33325195}, {0x0001, 5.9604645e-08}, {0x0000, 0}} {
		if got := halfToFloat(tc.h); got != tc.want {
			t.Errorf("half %#x = %g want %g", tc.h, got, tc.want)
		}
	}
}

// writeDistilBERT writes a tiny DistilBERT-named checkpoint with random
// weights and returns the tensors.
func writeDistilBERT(t *testing.T, dir string, vocab []string, d, layers, ffn, maxPos int) map[string]Tensor {
	r := rand.New(rand.NewPCG(3, 3))
	rnd := func(dims ...int) Tensor {
		n := 1
		for _, x := range dims {
			n *= x
		}
		data := make([]float32, n)
		for i := range data {
			data[i] = float32(r.NormFloat64() * 0.1)
		}
		return Tensor{Dims: dims, Data: data}
	}
	ts := map[string]Tensor{
		"distilbert.embeddings.word_embeddings.weight":     rnd(len(vocab), d),
		"distilbert.embeddings.position_embeddings.weight": rnd(maxPos, d),
		"distilbert.embeddings.LayerNorm.weight":           rnd(d),
		"distilbert.embeddings.LayerNorm.bias":             rnd(d),
	}
	for l := range layers {
		p := "distilbert.transformer.layer." + string(rune('0'+l)) + "."
		for _, n := range []string{"q_lin", "k_lin", "v_lin", "out_lin"} {
			ts[p+"attention."+n+".weight"] = rnd(d, d)
			ts[p+"attention."+n+".bias"] = rnd(d)
		}
		ts[p+"ffn.lin1.weight"], ts[p+"ffn.lin1.bias"] = rnd(ffn, d), rnd(ffn)
		ts[p+"ffn.lin2.weight"], ts[p+"ffn.lin2.bias"] = rnd(d, ffn), rnd(d)
		for _, n := range []string{"sa_layer_norm", "output_layer_norm"} {
			ts[p+n+".weight"], ts[p+n+".bias"] = rnd(d), rnd(d)
		}
	}
	if err := WriteSafetensors(filepath.Join(dir, "model.safetensors"), ts); err != nil {
		t.Fatal(err)
	}
	cfg := map[string]any{"model_type": "distilbert", "dim": d, "n_layers": layers, "n_heads": 2, "hidden_dim": ffn,
		"max_position_embeddings": maxPos, "vocab_size": len(vocab), "activation": "gelu"}
	raw, _ := json.Marshal(cfg)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "vocab.txt"), []byte(strings.Join(vocab, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return ts
}

func TestLoadDistilBERTCheckpoint(t *testing.T) {
	dir := t.TempDir()
	ts := writeDistilBERT(t, dir, planted.TokVocab, 8, 2, 16, 16)
	params := `{"checkpoint_dir": "` + dir + `", "max_len": 6, "batch_size": 16}`
	enc := configured(t, planted, 1, params)
	a := enc.Service().Arch().(*Arch)
	if !a.postLN || a.cfg.Dim != 8 || len(a.blocks) != 2 || a.cfg.FFN != 16 || a.cfg.MaxLen != 6 {
		t.Fatalf("architecture not taken from config.json: %+v postLN=%v", a.cfg, a.postLN)
	}
	if want := 4 + 16*2; len(a.Loaded) != want {
		t.Fatalf("loaded %d tensors, want %d: %v", len(a.Loaded), want, a.Loaded)
	}
	q := ts["distilbert.transformer.layer.1.attention.q_lin.weight"] // [out, in]
	if got, want := a.blocks[1].wq.Data[2*8+5], q.Data[5*8+2]; got != want {
		t.Fatalf("wq[in=2,out=5]=%g, checkpoint q_lin[out=5,in=2]=%g (transpose lost?)", got, want)
	}
	pos := ts["distilbert.embeddings.position_embeddings.weight"]
	if a.pos.Data[5*8+7] != pos.Data[5*8+7] || len(a.pos.Data) != 6*8 {
		t.Fatal("position table not cut to max_len")
	}
	st, err := enc.TrainStep(context.Background(), siamesetest.Batches(planted.TrainY, 16, 1, 0)[0])
	if err != nil || math.IsNaN(st.Loss) {
		t.Fatalf("train step on loaded model: %+v %v", st, err)
	}
	// A dataset tokenised with another vocabulary is refused with a hint.
	other := *planted
	other.TokVocab = append([]string{"x"}, planted.TokVocab[1:]...)
	c := New()
	c.Dataset = &other
	if err := c.Configure(context.Background(), sdk.Config{Params: json.RawMessage(params)}); !errors.Is(err, sdk.ErrInvalidConfig) || !strings.Contains(err.Error(), "vocab") {
		t.Fatalf("vocabulary mismatch: %v", err)
	}
}

// TestInBatchStepMatchesHost pins the in-batch masks and the infonce and
// dsoftmax losses end to end against a host computation, with and
// without reciprocal train pairs.
func TestInBatchStepMatchesHost(t *testing.T) {
	siamesetest.CheckInBatchStep(t, func(ds *data.Dataset, params string) sdk.Encoder {
		return configured(t, ds, 3, params)
	}, planted, tiny, 32)
}

// TestGradCacheSameGradients: gradient caching changes no gradient.
func TestGradCacheSameGradients(t *testing.T) {
	siamesetest.CheckGradCache(t, func(params string) *siamese.Service {
		return configured(t, planted, 3, params).Service()
	}, planted, tiny, 32, 8)
}
