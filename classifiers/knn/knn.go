package knn

import (
	"context"
	"fmt"
	"time"

	"github.com/xcbench/xcbench/core/ann"
	"github.com/xcbench/xcbench/plugins/registry"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// Name is the registry name.
const Name = "knn"

// Version is reported by Describe.
const Version = "0.1.0"

func init() {
	registry.Register(sdk.KindClassifier, Name, func() sdk.Plugin { return New() })
}

// Params are the knn classifier's parameters.
type Params struct {
	Index          string `json:"index"`
	M              int    `json:"m"`
	EfConstruction int    `json:"ef_construction"`
	EfSearch       int    `json:"ef_search"`
	Threads        int    `json:"threads"`
}

// DefaultParams are the documented defaults.
func DefaultParams() Params {
	return Params{Index: "exact", M: 32, EfConstruction: 200, EfSearch: 300}
}

// Classifier ranks labels by cosine to their embeddings.
type Classifier struct {
	p          Params
	seed       uint64
	configured bool
	index      ann.Index
	dim        int
}

// New returns an unconfigured classifier.
func New() *Classifier { return &Classifier{p: DefaultParams()} }

func (c *Classifier) Describe(ctx context.Context) (sdk.Info, error) {
	d := DefaultParams()
	return sdk.Info{
		Name: Name, Kind: sdk.KindClassifier, Version: Version, APIVersions: []int{sdk.APIVersion},
		ConfigSchema: sdk.Schema(
			sdk.Param{Name: "index", Type: "string", Default: d.Index, Doc: "label index: exact (brute-force cosine) or hnsw (core/ann)"},
			sdk.Param{Name: "m", Type: "int", Default: d.M, Doc: "HNSW graph degree"},
			sdk.Param{Name: "ef_construction", Type: "int", Default: d.EfConstruction, Doc: "HNSW build beam width"},
			sdk.Param{Name: "ef_search", Type: "int", Default: d.EfSearch, Doc: "HNSW search beam width (raised to k when smaller)"},
			sdk.Param{Name: "threads", Type: "int", Default: d.Threads, Doc: "search threads; 0 = GOMAXPROCS"},
		),
	}, nil
}

func (c *Classifier) Configure(ctx context.Context, cfg sdk.Config) error {
	p := DefaultParams()
	if err := sdk.DecodeParams(cfg.Params, &p); err != nil {
		return fmt.Errorf("knn: %w", err)
	}
	if err := p.validate(); err != nil {
		return fmt.Errorf("knn: %w", err)
	}
	c.p, c.seed, c.configured, c.index = p, cfg.Seed, true, nil
	return nil
}

func (p Params) validate() error {
	if p.Index != "exact" && p.Index != "hnsw" {
		return fmt.Errorf("%w: index %q: want exact or hnsw", sdk.ErrInvalidConfig, p.Index)
	}
	if p.M <= 0 || p.EfConstruction <= 0 || p.EfSearch <= 0 || p.Threads < 0 {
		return fmt.Errorf("%w: m, ef_construction, ef_search must be > 0 and threads >= 0", sdk.ErrInvalidConfig)
	}
	return nil
}

// IndexConfig is the core/ann index these params describe.
func (p Params) IndexConfig(seed uint64) ann.Config {
	return ann.Config{Kind: p.Index, M: p.M, EfConstruction: p.EfConstruction, EfSearch: p.EfSearch, Threads: p.Threads, Seed: seed}
}

// Train indexes the label embeddings; document embeddings are not needed.
func (c *Classifier) Train(ctx context.Context, in sdk.TrainInput) (sdk.TrainStats, error) {
	if !c.configured {
		return sdk.TrainStats{}, fmt.Errorf("knn: train: %w", sdk.ErrNotConfigured)
	}
	start := time.Now()
	lab, err := sdk.LoadMatrix(in.Labels)
	if err != nil {
		return sdk.TrainStats{}, fmt.Errorf("knn: train: labels: %w", err)
	}
	if lab.Rows == 0 || lab.Cols == 0 {
		return sdk.TrainStats{}, fmt.Errorf("knn: train: empty label embeddings (%dx%d)", lab.Rows, lab.Cols)
	}
	idx, err := ann.Build(ctx, c.p.IndexConfig(c.seed), ann.Normalized(lab.Data, lab.Rows, lab.Cols), lab.Rows, lab.Cols)
	if err != nil {
		return sdk.TrainStats{}, fmt.Errorf("knn: train: %w", err)
	}
	c.index, c.dim = idx, lab.Cols
	return sdk.TrainStats{Wall: time.Since(start), Detail: map[string]float64{"labels": float64(lab.Rows)}}, nil
}

// Predict returns the k labels nearest to each document.
func (c *Classifier) Predict(ctx context.Context, split sdk.Split, docs sdk.Matrix, k int) (sdk.TopK, error) {
	if c.index == nil {
		return sdk.TopK{}, fmt.Errorf("knn: predict %s: %w (Train first)", split, sdk.ErrNotConfigured)
	}
	d, err := sdk.LoadMatrix(docs)
	if err != nil {
		return sdk.TopK{}, fmt.Errorf("knn: predict %s: %w", split, err)
	}
	if d.Rows > 0 && d.Cols != c.dim {
		return sdk.TopK{}, fmt.Errorf("knn: predict %s: doc dim %d, label dim %d", split, d.Cols, c.dim)
	}
	if k <= 0 {
		return sdk.TopK{}, fmt.Errorf("knn: predict %s: k = %d", split, k)
	}
	ids, scores, err := c.index.Search(ctx, ann.Normalized(d.Data, d.Rows, d.Cols), d.Rows, k)
	if err != nil {
		return sdk.TopK{}, fmt.Errorf("knn: predict %s: %w", split, err)
	}
	return sdk.TopK{Rows: d.Rows, K: k, Labels: ids, Scores: scores}, nil
}
