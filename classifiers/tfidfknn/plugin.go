package tfidfknn

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/plugins/registry"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// PluginName is the classifier's registry name.
const PluginName = "tfidf-knn"

// PluginVersion is reported by Describe.
const PluginVersion = "0.1.0"

func init() {
	registry.Register(sdk.KindClassifier, PluginName, func() sdk.Plugin { return NewPlugin() })
}

// Plugin serves the tf-idf kNN baseline as an sdk.Classifier. It ignores
// the embeddings it is handed: Train fits on the dataset's training
// features and labels, and Predict reads the split's raw features.
type Plugin struct {
	cfg   Config
	ds    *data.Dataset
	model *Model
}

// NewPlugin returns an unconfigured classifier.
func NewPlugin() *Plugin { return &Plugin{cfg: Default()} }

func (p *Plugin) Describe(ctx context.Context) (sdk.Info, error) {
	d := Default()
	return sdk.Info{Name: PluginName, Kind: sdk.KindClassifier, Version: PluginVersion,
		APIVersions: []int{sdk.APIVersion}, Capabilities: []string{"raw_features"},
		ConfigSchema: sdk.Schema(
			sdk.Param{Name: "k", Type: "int", Default: d.K, Doc: "neighbouring training documents per query"},
			sdk.Param{Name: "sublinear", Type: "bool", Default: d.Sublinear, Doc: "1+ln(tf) instead of raw tf"},
			sdk.Param{Name: "idf", Type: "string", Default: d.IDF, Doc: "smooth (scikit-learn default), plain or none"},
			sdk.Param{Name: "power", Type: "float", Default: d.Power, Doc: "neighbour similarities are raised to this power before summing"},
		)}, nil
}

// Configure decodes the params strictly and loads the dataset.
func (p *Plugin) Configure(ctx context.Context, c sdk.Config) error {
	cfg, err := decodeConfig(c)
	if err != nil {
		return err
	}
	ds, err := data.OpenFor(c.Dataset)
	if err != nil {
		return fmt.Errorf("tfidf-knn: configure: %w", err)
	}
	*p = Plugin{cfg: cfg, ds: ds}
	return nil
}

// ConfigureDataset is Configure with an already loaded dataset.
func (p *Plugin) ConfigureDataset(ctx context.Context, c sdk.Config, ds *data.Dataset) error {
	cfg, err := decodeConfig(c)
	if err != nil {
		return err
	}
	*p = Plugin{cfg: cfg, ds: ds}
	return nil
}

func decodeConfig(c sdk.Config) (Config, error) {
	cfg := Default()
	if err := sdk.DecodeParams(c.Params, &cfg); err != nil {
		return cfg, fmt.Errorf("tfidf-knn: %w", err)
	}
	switch {
	case cfg.K <= 0:
		return cfg, fmt.Errorf("tfidf-knn: %w: k %d <= 0", sdk.ErrInvalidConfig, cfg.K)
	case cfg.IDF != "smooth" && cfg.IDF != "plain" && cfg.IDF != "none":
		return cfg, fmt.Errorf("tfidf-knn: %w: idf %q: want smooth, plain or none", sdk.ErrInvalidConfig, cfg.IDF)
	case !(cfg.Power > 0):
		return cfg, fmt.Errorf("tfidf-knn: %w: power %g <= 0", sdk.ErrInvalidConfig, cfg.Power)
	}
	return cfg, nil
}

// Train fits the tf-idf model; the embeddings in in are not used.
func (p *Plugin) Train(ctx context.Context, in sdk.TrainInput) (st sdk.TrainStats, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("tfidf-knn: train: internal error: %v\n%s", r, debug.Stack())
		}
	}()
	if p.ds == nil {
		return st, fmt.Errorf("tfidf-knn: train: %w", sdk.ErrNotConfigured)
	}
	start := time.Now()
	m, err := FitConfig(p.ds, p.cfg)
	if err != nil {
		return st, fmt.Errorf("tfidf-knn: train: %w", err)
	}
	p.model = m
	return sdk.TrainStats{Wall: time.Since(start), Detail: map[string]float64{
		"train_docs": float64(p.ds.TrainX.NRows), "features": float64(p.ds.TrainX.NCols)}}, nil
}

// Predict scores the split's documents from their raw features; docs is
// ignored except that, when it carries a row count, it must match.
func (p *Plugin) Predict(ctx context.Context, split sdk.Split, docs sdk.Matrix, k int) (tk sdk.TopK, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("tfidf-knn: predict: internal error: %v\n%s", r, debug.Stack())
		}
	}()
	if p.model == nil {
		return tk, fmt.Errorf("tfidf-knn: predict %s: %w (Train first)", split, sdk.ErrNotConfigured)
	}
	if k <= 0 {
		return tk, fmt.Errorf("tfidf-knn: predict %s: k = %d", split, k)
	}
	var rows int
	switch split {
	case sdk.SplitTrain:
		rows = p.ds.TrainX.NRows
	case sdk.SplitTest:
		rows = p.ds.TestX.NRows
	default:
		return tk, fmt.Errorf("tfidf-knn: predict: split %q has no documents", split)
	}
	if docs.Rows != 0 && docs.Rows != rows {
		return tk, fmt.Errorf("tfidf-knn: predict %s: %d embedding rows for %d documents", split, docs.Rows, rows)
	}
	tk, err = p.model.PredictSplit(ctx, split, k)
	if err != nil {
		return tk, fmt.Errorf("tfidf-knn: predict %s: %w", split, err)
	}
	return tk, nil
}
