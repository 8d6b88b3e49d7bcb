package bow

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive
	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/core/sparse"
	"github.com/xcbench/xcbench/encoders/gomlxkit"
	"github.com/xcbench/xcbench/encoders/optim"
	"github.com/xcbench/xcbench/encoders/siamese"
	"github.com/xcbench/xcbench/plugins/registry"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// Name is the registry name.
const Name = "bow"

// Version is reported by Describe.
const Version = "0.1.0"

// Config is the bow encoder's params.
type Config struct {
	Dim       int     `koanf:"dim"`
	Pooling   string  `koanf:"pooling"`
	Residual  bool    `koanf:"residual"`
	MaxTokens int     `koanf:"max_tokens"`
	InitStd   float64 `koanf:"init_std"`
	Engine    string  `koanf:"engine"`

	siamese.TrainConfig `koanf:",squash"`
}

// DefaultConfig holds the documented defaults.
func DefaultConfig() Config {
	return Config{Dim: 64, Pooling: "mean", MaxTokens: 128, InitStd: 0.1, Engine: "auto", TrainConfig: siamese.DefaultTrainConfig()}
}

var docs = func() map[string]string {
	m := map[string]string{
		"dim":        "embedding width",
		"pooling":    `"mean" (weighted by feature value/count) or "tfidf" (value × smoothed train idf)`,
		"residual":   "add a zero-initialised linear layer x + xW before normalising",
		"max_tokens": "features kept per item (the largest-weight ones)",
		"init_std":   "std of the N(0, σ²) embedding initialisation (not gomlx's He default: fan-in would be the vocabulary)",
		"engine":     `training step engine: "graph" (GoMLX autodiff on the backend), "fused" (hand-written forward and backward in Go on the host, row-sparse throughout, equal to the graph's up to float rounding) or "auto" (fused on the pure-Go backend, graph on XLA or with grad_cache)`,
	}
	for k, v := range siamese.TrainDocs {
		m[k] = v
	}
	return m
}()

// Schema is the ConfigSchema.
func Schema() (json.RawMessage, error) { return siamese.Schema(DefaultConfig(), docs) }

// New returns an unconfigured bow encoder.
func New() *siamese.Component {
	return &siamese.Component{Name: Name, Version: Version, Schema: Schema, Build: Build}
}

func init() {
	registry.Register(sdk.KindEncoder, Name, func() sdk.Plugin { return New() })
}

// Arch is the bow network.
type Arch struct {
	cfg   Config
	table *optim.Param
	resid *optim.Param
	idf   []float32
	fused bool
	x     map[sdk.Split]*sparse.CSR
}

// Build implements siamese.Builder.
func Build(raw json.RawMessage, ds *data.Dataset, rng *rand.Rand) (siamese.Arch, siamese.TrainConfig, error) {
	cfg := DefaultConfig()
	if err := siamese.DecodeParams(raw, &cfg); err != nil {
		return nil, cfg.TrainConfig, err
	}
	switch {
	case cfg.Dim < 1:
		return nil, cfg.TrainConfig, fmt.Errorf("%w: dim must be >= 1", sdk.ErrInvalidConfig)
	case cfg.Pooling != "mean" && cfg.Pooling != "tfidf":
		return nil, cfg.TrainConfig, fmt.Errorf("%w: pooling %q: want mean or tfidf", sdk.ErrInvalidConfig, cfg.Pooling)
	case cfg.Engine != "graph" && cfg.Engine != "fused" && cfg.Engine != "auto":
		return nil, cfg.TrainConfig, fmt.Errorf("%w: engine %q: want auto, graph or fused", sdk.ErrInvalidConfig, cfg.Engine)
	case cfg.MaxTokens < 1 || cfg.InitStd <= 0:
		return nil, cfg.TrainConfig, fmt.Errorf("%w: max_tokens must be >= 1 and init_std > 0", sdk.ErrInvalidConfig)
	}
	if ds.TrainX == nil || ds.LabelX == nil {
		return nil, cfg.TrainConfig, fmt.Errorf("dataset %s has no feature matrices (TrainX/LabelX)", ds.Name)
	}
	v := ds.TrainX.NCols
	if ds.LabelX.NCols != v || (ds.TestX != nil && ds.TestX.NCols != v) {
		return nil, cfg.TrainConfig, fmt.Errorf("dataset %s: feature spaces differ (train %d, labels %d columns)", ds.Name, v, ds.LabelX.NCols)
	}
	if cfg.Engine == "fused" && cfg.GradCache > 0 {
		return nil, cfg.TrainConfig, fmt.Errorf("%w: grad_cache chunks the graph engine's backward pass; engine fused computes the whole batch at once (use engine graph or auto)", sdk.ErrInvalidConfig)
	}
	// auto: the graph where it runs on an accelerator (XLA) or where
	// grad_cache asks for its chunked, memory-bounded backward pass.
	fused := cfg.Engine == "fused" || cfg.Engine == "auto" && cfg.GradCache == 0 && !strings.HasPrefix(gomlxkit.ResolveBackendSpec(cfg.Backend), "xla")
	a := &Arch{cfg: cfg, fused: fused, x: map[sdk.Split]*sparse.CSR{sdk.SplitTrain: ds.TrainX, sdk.SplitTest: ds.TestX, sdk.SplitLabels: ds.LabelX}}
	a.table = optim.NewParam("embedding", false, v, cfg.Dim)
	for i := range a.table.Data {
		a.table.Data[i] = float32(rng.NormFloat64() * cfg.InitStd)
	}
	if cfg.Residual {
		a.resid = optim.NewParam("residual", false, cfg.Dim, cfg.Dim)
	}
	if cfg.Pooling == "tfidf" {
		a.idf = IDF(ds.TrainX)
	}
	return a, cfg.TrainConfig, nil
}

// IDF is the smoothed inverse document frequency ln((1+N)/(1+df)) + 1.
func IDF(x *sparse.CSR) []float32 {
	df := x.ColCounts()
	out := make([]float32, len(df))
	for i, c := range df {
		out[i] = float32(math.Log(float64(1+x.NRows)/float64(1+c)) + 1)
	}
	return out
}

// Dim implements siamese.Arch.
func (a *Arch) Dim() int { return a.cfg.Dim }

// Table implements siamese.Arch.
func (a *Arch) Table() *optim.Param { return a.table }

// Params implements siamese.Arch.
func (a *Arch) Params() []*optim.Param {
	if a.resid != nil {
		return []*optim.Param{a.resid}
	}
	return nil
}

// NumItems implements siamese.Arch.
func (a *Arch) NumItems(split sdk.Split) int {
	if m := a.x[split]; m != nil {
		return m.NRows
	}
	return 0
}

// MaxLen implements siamese.Arch.
func (a *Arch) MaxLen() int { return a.cfg.MaxTokens }

// Item implements siamese.Arch: the row's features with positive weight,
// the MaxTokens largest kept (ties by column, so it is deterministic).
func (a *Arch) Item(split sdk.Split, id int32) ([]int32, []float32) {
	cols, vals := a.x[split].Row(int(id))
	toks := make([]int32, 0, len(cols))
	ws := make([]float32, 0, len(cols))
	for i, c := range cols {
		w := vals[i]
		if a.idf != nil {
			w *= a.idf[c]
		}
		if w > 0 {
			toks = append(toks, c)
			ws = append(ws, w)
		}
	}
	if len(toks) > a.cfg.MaxTokens {
		order := make([]int, len(toks))
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(i, j int) bool { return ws[order[i]] > ws[order[j]] })
		order = order[:a.cfg.MaxTokens]
		sort.Ints(order)
		t2, w2 := make([]int32, len(order)), make([]float32, len(order))
		for i, o := range order {
			t2[i], w2[i] = toks[o], ws[o]
		}
		toks, ws = t2, w2
	}
	return toks, ws
}

// Build implements siamese.Arch: weighted mean of the gathered rows.
func (a *Arch) Build(params []*Node, rows, idx, w *Node) *Node {
	emb := Gather(rows, InsertAxes(idx, -1)) // [N,S,D]
	total := ReduceSum(w, 1)                 // [N]
	norm := Div(w, InsertAxes(Max(total, Scalar(w.Graph(), w.DType(), 1e-12)), 1))
	pooled := DotGeneral(norm, []int{1}, []int{0}, emb, []int{1}, []int{0}) // [N,D]
	if a.resid != nil {
		pooled = Add(pooled, DotGeneral(pooled, []int{1}, nil, params[0], []int{0}, nil))
	}
	return pooled
}
