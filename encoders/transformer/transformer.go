package transformer

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/encoders/optim"
	"github.com/xcbench/xcbench/encoders/siamese"
	"github.com/xcbench/xcbench/plugins/registry"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// Name is the registry name.
const Name = "transformer"

// Version is reported by Describe.
const Version = "0.1.0"

// Config is the transformer encoder's params.
type Config struct {
	Dim           int     `koanf:"dim"`
	Layers        int     `koanf:"layers"`
	Heads         int     `koanf:"heads"`
	FFN           int     `koanf:"ffn"`
	MaxLen        int     `koanf:"max_len"`
	Activation    string  `koanf:"activation"`
	InitStd       float64 `koanf:"init_std"`
	CheckpointDir string  `koanf:"checkpoint_dir"`

	siamese.TrainConfig `koanf:",squash"`
}

// DefaultConfig holds the documented defaults. InfoNCE is the default loss:
// from scratch the triplet hinge collapses to identical embeddings (loss
// stuck at the margin; see docs/gomlx-notes §2).
func DefaultConfig() Config {
	tc := siamese.DefaultTrainConfig()
	tc.Loss = "infonce"
	tc.BatchSize = 64
	tc.EncodeBatch = 256
	return Config{Dim: 64, Layers: 2, Heads: 4, FFN: 128, MaxLen: 32, Activation: "gelu", InitStd: 0.02, TrainConfig: tc}
}

var docs = func() map[string]string {
	m := map[string]string{
		"dim":            "model width (overridden by checkpoint_dir's config.json)",
		"layers":         "transformer blocks (overridden by the checkpoint)",
		"heads":          "attention heads; must divide dim (overridden by the checkpoint)",
		"ffn":            "feed-forward width (overridden by the checkpoint)",
		"max_len":        "tokens kept per item and size of the position table",
		"activation":     `feed-forward activation: "gelu" (erf form) or "relu"`,
		"init_std":       "std of the N(0, σ²) initialisation of embeddings and weights (biases 0, norms 1)",
		"checkpoint_dir": "folder with a BERT-family config.json, vocab.txt and model.safetensors to start from (post-LN layout); empty = from scratch, pre-LN",
	}
	for k, v := range siamese.TrainDocs {
		m[k] = v
	}
	return m
}()

// Schema is the ConfigSchema.
func Schema() (json.RawMessage, error) { return siamese.Schema(DefaultConfig(), docs) }

// New returns an unconfigured transformer encoder.
func New() *siamese.Component {
	return &siamese.Component{Name: Name, Version: Version, Schema: Schema, Build: Build}
}

func init() {
	registry.Register(sdk.KindEncoder, Name, func() sdk.Plugin { return New() })
}

type block struct {
	wq, bq, wk, bk, wv, bv, wo, bo *optim.Param
	ln1g, ln1b                     *optim.Param
	w1, b1, w2, b2                 *optim.Param
	ln2g, ln2b                     *optim.Param
}

// Arch is the transformer network.
type Arch struct {
	cfg        Config
	postLN     bool
	eps        float64
	tok, pos   *optim.Param
	embG, embB *optim.Param // post-LN (BERT) only
	blocks     []block
	finG, finB *optim.Param // pre-LN only
	params     []*optim.Param
	index      map[*optim.Param]int
	items      map[sdk.Split][][]int32
	// Loaded lists the checkpoint tensors that were mapped (tests, logs).
	Loaded []string
}

// Build implements siamese.Builder.
func Build(raw json.RawMessage, ds *data.Dataset, rng *rand.Rand) (siamese.Arch, siamese.TrainConfig, error) {
	cfg := DefaultConfig()
	if err := siamese.DecodeParams(raw, &cfg); err != nil {
		return nil, cfg.TrainConfig, err
	}
	var hf *hfCheckpoint
	if cfg.CheckpointDir != "" {
		var err error
		if hf, err = readHF(cfg.CheckpointDir); err != nil {
			return nil, cfg.TrainConfig, err
		}
		cfg.Dim, cfg.Layers, cfg.Heads, cfg.FFN, cfg.Activation = hf.dim, hf.layers, hf.heads, hf.ffn, hf.activation
		cfg.MaxLen = min(cfg.MaxLen, hf.maxPos)
	}
	switch {
	case cfg.Dim < 1 || cfg.Layers < 0 || cfg.Heads < 1 || cfg.FFN < 1 || cfg.MaxLen < 1:
		return nil, cfg.TrainConfig, fmt.Errorf("%w: dim, heads, ffn, max_len must be >= 1 and layers >= 0", sdk.ErrInvalidConfig)
	case cfg.Dim%cfg.Heads != 0:
		return nil, cfg.TrainConfig, fmt.Errorf("%w: heads %d does not divide dim %d", sdk.ErrInvalidConfig, cfg.Heads, cfg.Dim)
	case cfg.Activation != "gelu" && cfg.Activation != "relu":
		return nil, cfg.TrainConfig, fmt.Errorf("%w: activation %q: want gelu or relu", sdk.ErrInvalidConfig, cfg.Activation)
	case cfg.InitStd <= 0:
		return nil, cfg.TrainConfig, fmt.Errorf("%w: init_std must be > 0", sdk.ErrInvalidConfig)
	}
	if ds.TrainTok == nil || ds.LabelTok == nil {
		return nil, cfg.TrainConfig, fmt.Errorf("%w: the transformer encoder needs token sequences, and dataset %q (format %s) has none: use a text dataset or the bow encoder", sdk.ErrInvalidConfig, ds.Name, ds.Format)
	}
	vocab := len(ds.TokVocab)
	if vocab == 0 {
		for _, seqs := range [][][]int32{ds.TrainTok, ds.TestTok, ds.LabelTok} {
			for _, s := range seqs {
				for _, t := range s {
					vocab = max(vocab, int(t)+1)
				}
			}
		}
	}
	if hf != nil {
		if err := hf.checkVocab(ds.TokVocab); err != nil {
			return nil, cfg.TrainConfig, err
		}
		vocab = len(hf.vocab)
	}
	a := &Arch{cfg: cfg, postLN: hf != nil, eps: 1e-5, index: map[*optim.Param]int{}}
	if hf != nil {
		a.eps = hf.eps
	}
	normal := func(p *optim.Param) *optim.Param {
		for i := range p.Data {
			p.Data[i] = float32(rng.NormFloat64() * cfg.InitStd)
		}
		return p
	}
	ones := func(p *optim.Param) *optim.Param {
		for i := range p.Data {
			p.Data[i] = 1
		}
		return p
	}
	add := func(p *optim.Param) *optim.Param {
		a.index[p] = len(a.params)
		a.params = append(a.params, p)
		return p
	}
	d, f := cfg.Dim, cfg.FFN
	a.tok = normal(optim.NewParam("tok_embedding", false, vocab, d))
	a.pos = add(normal(optim.NewParam("pos_embedding", false, cfg.MaxLen, d)))
	if a.postLN {
		a.embG = add(ones(optim.NewParam("emb_ln.g", true, d)))
		a.embB = add(optim.NewParam("emb_ln.b", true, d))
	}
	for l := range cfg.Layers {
		n := func(s string) string { return fmt.Sprintf("layer%d.%s", l, s) }
		b := block{
			wq: add(normal(optim.NewParam(n("wq"), false, d, d))), bq: add(optim.NewParam(n("bq"), true, d)),
			wk: add(normal(optim.NewParam(n("wk"), false, d, d))), bk: add(optim.NewParam(n("bk"), true, d)),
			wv: add(normal(optim.NewParam(n("wv"), false, d, d))), bv: add(optim.NewParam(n("bv"), true, d)),
			wo: add(normal(optim.NewParam(n("wo"), false, d, d))), bo: add(optim.NewParam(n("bo"), true, d)),
			ln1g: add(ones(optim.NewParam(n("ln1.g"), true, d))), ln1b: add(optim.NewParam(n("ln1.b"), true, d)),
			w1: add(normal(optim.NewParam(n("w1"), false, d, f))), b1: add(optim.NewParam(n("b1"), true, f)),
			w2: add(normal(optim.NewParam(n("w2"), false, f, d))), b2: add(optim.NewParam(n("b2"), true, d)),
			ln2g: add(ones(optim.NewParam(n("ln2.g"), true, d))), ln2b: add(optim.NewParam(n("ln2.b"), true, d)),
		}
		a.blocks = append(a.blocks, b)
	}
	if !a.postLN {
		a.finG = add(ones(optim.NewParam("final_ln.g", true, d)))
		a.finB = add(optim.NewParam("final_ln.b", true, d))
	}
	if hf != nil {
		if err := hf.assign(a); err != nil {
			return nil, cfg.TrainConfig, err
		}
	}
	a.items = map[sdk.Split][][]int32{sdk.SplitTrain: ds.TrainTok, sdk.SplitTest: ds.TestTok, sdk.SplitLabels: ds.LabelTok}
	for split, seqs := range a.items {
		for i, s := range seqs {
			for _, t := range s {
				if int(t) >= vocab || t < 0 {
					return nil, cfg.TrainConfig, fmt.Errorf("dataset %s: %s item %d has token id %d outside the vocabulary of %d", ds.Name, split, i, t, vocab)
				}
			}
		}
	}
	return a, cfg.TrainConfig, nil
}

// Dim implements siamese.Arch.
func (a *Arch) Dim() int { return a.cfg.Dim }

// Table implements siamese.Arch.
func (a *Arch) Table() *optim.Param { return a.tok }

// Params implements siamese.Arch.
func (a *Arch) Params() []*optim.Param { return a.params }

// NumItems implements siamese.Arch.
func (a *Arch) NumItems(split sdk.Split) int { return len(a.items[split]) }

// MaxLen implements siamese.Arch.
func (a *Arch) MaxLen() int { return a.cfg.MaxLen }

// Item implements siamese.Arch: the token sequence without padding ids,
// truncated to MaxLen, weight 1 per token.
func (a *Arch) Item(split sdk.Split, id int32) ([]int32, []float32) {
	seq := a.items[split][id]
	toks := make([]int32, 0, min(len(seq), a.cfg.MaxLen))
	for _, t := range seq {
		if t != 0 && len(toks) < a.cfg.MaxLen {
			toks = append(toks, t)
		}
	}
	ws := make([]float32, len(toks))
	for i := range ws {
		ws[i] = 1
	}
	return toks, ws
}

// layerNorm uses Div(·, Sqrt) because Rsqrt has no gradient in gomlx v0.26.0.
func (a *Arch) layerNorm(x, g, b *Node) *Node {
	mean := InsertAxes(ReduceMean(x, -1), -1)
	c := Sub(x, mean)
	v := InsertAxes(ReduceMean(Square(c), -1), -1)
	return Add(Mul(Div(c, Sqrt(AddScalar(v, a.eps))), expandTo(g, x)), expandTo(b, x))
}

// expandTo reshapes a vector to [1, …, 1, D] for x's rank: gomlx binary ops
// only broadcast between equal ranks.
func expandTo(v, x *Node) *Node {
	dims := make([]int, x.Rank())
	for i := range dims {
		dims[i] = 1
	}
	dims[len(dims)-1] = v.Shape().Dimensions[0]
	return Reshape(v, dims...)
}

// dense is x[..., in]·W[in, out] + b.
func dense(x, w, b *Node) *Node {
	y := DotGeneral(x, []int{x.Rank() - 1}, nil, w, []int{0}, nil)
	return Add(y, expandTo(b, y))
}

func (a *Arch) act(x *Node) *Node {
	if a.cfg.Activation == "relu" {
		return Max(x, ZerosLike(x))
	}
	return Mul(MulScalar(x, 0.5), AddScalar(Erf(MulScalar(x, 1/math.Sqrt2)), 1))
}

// attention is multi-head self-attention with key masking; keyBias [N,1,1,S]
// is 0 for real tokens and -1e9 for padding. The logits are scaled once, by
// 1/√d_head.
func (a *Arch) attention(p func(*optim.Param) *Node, b block, x, keyBias *Node) *Node {
	dims := x.Shape().Dimensions
	n, s, d := dims[0], dims[1], dims[2]
	h := a.cfg.Heads
	dh := d / h
	split := func(w, bias *optim.Param) *Node { return Reshape(dense(x, p(w), p(bias)), n, s, h, dh) }
	q, k, v := split(b.wq, b.bq), split(b.wk, b.bk), split(b.wv, b.bv)
	logits := DotGeneral(q, []int{3}, []int{0, 2}, k, []int{3}, []int{0, 2}) // [N,H,Sq,Sk]
	logits = Add(MulScalar(logits, 1/math.Sqrt(float64(dh))), keyBias)
	probs := Softmax(logits, -1)
	o := DotGeneral(probs, []int{3}, []int{0, 1}, v, []int{1}, []int{0, 2}) // [N,H,Sq,dh]
	o = Reshape(TransposeAllAxes(o, 0, 2, 1, 3), n, s, d)
	return dense(o, p(b.wo), p(b.bo))
}

// Build implements siamese.Arch.
func (a *Arch) Build(params []*Node, rows, idx, w *Node) *Node {
	p := func(x *optim.Param) *Node { return params[a.index[x]] }
	g := idx.Graph()
	s := idx.Shape().Dimensions[1]
	x := Gather(rows, InsertAxes(idx, -1)) // [N,S,D]
	// Positions by Gather, not Slice: Slice's gradient needs Pad, which
	// simplego lacks.
	posIdx := Iota(g, shapes.Make(dtypes.Int32, s, 1), 0)
	x = Add(x, InsertAxes(Gather(p(a.pos), posIdx), 0))
	isTok := ConvertDType(GreaterThan(w, ZerosLike(w)), w.DType()) // [N,S]
	keyBias := InsertAxes(MulScalar(OneMinus(isTok), -1e9), 1, 1)  // [N,1,1,S]
	if a.postLN {
		x = a.layerNorm(x, p(a.embG), p(a.embB))
	}
	for _, b := range a.blocks {
		ffn := func(h *Node) *Node { return dense(a.act(dense(h, p(b.w1), p(b.b1))), p(b.w2), p(b.b2)) }
		if a.postLN {
			x = a.layerNorm(Add(x, a.attention(p, b, x, keyBias)), p(b.ln1g), p(b.ln1b))
			x = a.layerNorm(Add(x, ffn(x)), p(b.ln2g), p(b.ln2b))
		} else {
			x = Add(x, a.attention(p, b, a.layerNorm(x, p(b.ln1g), p(b.ln1b)), keyBias))
			x = Add(x, ffn(a.layerNorm(x, p(b.ln2g), p(b.ln2b))))
		}
	}
	if !a.postLN {
		x = a.layerNorm(x, p(a.finG), p(a.finB))
	}
	total := Max(ReduceSum(isTok, 1), Scalar(g, w.DType(), 1e-12))
	wn := Div(isTok, InsertAxes(total, 1))
	return DotGeneral(wn, []int{1}, []int{0}, x, []int{1}, []int{0}) // masked mean [N,D]
}
