package ova

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"time"

	"github.com/xcbench/xcbench/classifiers/docknn"
	"github.com/xcbench/xcbench/classifiers/fusion"
	"github.com/xcbench/xcbench/core/ann"
	"github.com/xcbench/xcbench/core/cluster"
	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/plugins/registry"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// Name is the registry name.
const Name = "ova"

// Version is reported by Describe.
const Version = "0.1.0"

func init() {
	registry.Register(sdk.KindClassifier, Name, func() sdk.Plugin { return New() })
}

// Classifier is NGAME's one-vs-all stage; see the package doc.
type Classifier struct {
	p    Params
	seed uint64
	ds   *data.Dataset
	inv  []float32 // inverse propensity per label

	dim    int
	z, wn  []float32 // normalised label embeddings and classifier vectors
	knnIdx ann.Index
	clfIdx ann.Index
	tree   *fusion.Tree
	// voter scores doc-kNN votes (nil unless doc_neighbours > 0).
	voter *docknn.Voter
}

// New returns an unconfigured classifier.
func New() *Classifier { return &Classifier{p: DefaultParams()} }

func (c *Classifier) Describe(ctx context.Context) (sdk.Info, error) {
	return sdk.Info{Name: Name, Kind: sdk.KindClassifier, Version: Version,
		APIVersions: []int{sdk.APIVersion}, ConfigSchema: sdk.Schema(schema()...)}, nil
}

// Configure decodes the params and loads the dataset's training labels.
func (c *Classifier) Configure(ctx context.Context, cfg sdk.Config) error {
	p, err := decode(cfg)
	if err != nil {
		return err
	}
	ds, err := data.OpenFor(cfg.Dataset)
	if err != nil {
		return fmt.Errorf("ova: configure: %w", err)
	}
	return c.configure(p, cfg.Seed, ds)
}

// ConfigureDataset is Configure with an already loaded dataset (in-process
// use and tests); cfg.Dataset is ignored.
func (c *Classifier) ConfigureDataset(ctx context.Context, cfg sdk.Config, ds *data.Dataset) error {
	p, err := decode(cfg)
	if err != nil {
		return err
	}
	return c.configure(p, cfg.Seed, ds)
}

func decode(cfg sdk.Config) (Params, error) {
	p := DefaultParams()
	if err := sdk.DecodeParams(cfg.Params, &p); err != nil {
		return p, fmt.Errorf("ova: %w", err)
	}
	if err := p.validate(); err != nil {
		return p, fmt.Errorf("ova: %w", err)
	}
	return p, nil
}

func (c *Classifier) configure(p Params, seed uint64, ds *data.Dataset) error {
	if ds == nil || ds.TrainY == nil {
		return fmt.Errorf("ova: configure: dataset has no training labels")
	}
	if ds.NumLabels != ds.TrainY.NCols {
		return fmt.Errorf("ova: configure: dataset %q: NumLabels %d but train labels have %d columns", ds.Name, ds.NumLabels, ds.TrainY.NCols)
	}
	*c = Classifier{p: p, seed: seed, ds: ds, inv: invPropensity(ds)}
	return nil
}

// Weights returns the normalised classifier vectors (labels x dim) after
// Train; nil before.
func (c *Classifier) Weights() (vecs []float32, rows, cols int) {
	if c.wn == nil {
		return nil, 0, 0
	}
	return c.wn, len(c.wn) / c.dim, c.dim
}

// Tree returns the fitted fusion tree (nil unless fusion is tree).
func (c *Classifier) Tree() *fusion.Tree { return c.tree }

// Train fits the classifiers on frozen embeddings, builds both prediction
// indexes and, for tree fusion, fits the tree on held-out documents.
func (c *Classifier) Train(ctx context.Context, in sdk.TrainInput) (st sdk.TrainStats, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("ova: train: internal error: %v\n%s", r, debug.Stack())
		}
	}()
	if c.ds == nil {
		return st, fmt.Errorf("ova: train: %w", sdk.ErrNotConfigured)
	}
	start := time.Now()
	docs, err := sdk.LoadMatrix(in.TrainDocs)
	if err != nil {
		return st, fmt.Errorf("ova: train: train docs: %w", err)
	}
	labs, err := sdk.LoadMatrix(in.Labels)
	if err != nil {
		return st, fmt.Errorf("ova: train: labels: %w", err)
	}
	y := c.ds.TrainY
	switch {
	case docs.Rows != y.NRows:
		return st, fmt.Errorf("ova: train: %d train-doc embeddings for %d training documents", docs.Rows, y.NRows)
	case labs.Rows != y.NCols:
		return st, fmt.Errorf("ova: train: %d label embeddings for %d labels", labs.Rows, y.NCols)
	case docs.Cols != labs.Cols || docs.Cols == 0:
		return st, fmt.Errorf("ova: train: doc dim %d, label dim %d", docs.Cols, labs.Cols)
	}
	D := docs.Cols
	x := ann.Normalized(docs.Data, docs.Rows, D)
	z := ann.Normalized(labs.Data, labs.Rows, D)
	epochs := c.p.Epochs
	if in.Epochs > 0 {
		epochs = in.Epochs
	}

	// Held-out documents for the fusion tree, chosen from the seed.
	rng := rand.New(rand.NewPCG(c.seed, 0x686f6c646f7574))
	var hold, train []int32
	nh := 0
	if c.p.Fusion == "tree" {
		nh = int(math.Round(c.p.Holdout * float64(y.NRows)))
	}
	isHold := make([]bool, y.NRows)
	for _, d := range rng.Perm(y.NRows)[:nh] {
		isHold[d] = true
	}
	for d := 0; d < y.NRows; d++ {
		switch {
		case y.RowLen(d) == 0: // no positive to learn from (pitfall 5)
		case isHold[d]:
			hold = append(hold, int32(d))
		default:
			train = append(train, int32(d))
		}
	}

	threads := c.p.Threads
	icfg := c.p.IndexConfig(c.seed)
	c.dim, c.z = D, z
	c.knnIdx, err = ann.Build(ctx, icfg, z, labs.Rows, D)
	if err != nil {
		return st, fmt.Errorf("ova: train: label index: %w", err)
	}
	c.voter = nil
	if c.p.DocNeighbours > 0 && len(train) > 0 {
		// Only the documents the classifiers train on vote, so a held-out
		// document fitting the tree never sees its own labels.
		c.voter, err = docknn.NewVoter(ctx, icfg, x, D, y, func(r int32) bool { return !isHold[r] }, c.p.DocNeighbours, 1)
		if err != nil {
			return st, fmt.Errorf("ova: train: %w", err)
		}
	}
	tr := newTrainer(c.p, c.seed, x, y, data.NewFilterSet(c.ds.FilterTrain), z, D, threads)
	if c.p.Shortlist == "ann" && len(train) > 0 {
		q := make([]float32, 0, len(train)*D)
		for _, d := range train {
			q = append(q, x[int(d)*D:(int(d)+1)*D]...)
		}
		k := min(c.p.NumNbrs, labs.Rows)
		ids, _, err := c.knnIdx.Search(ctx, q, len(train), k)
		if err != nil {
			return st, fmt.Errorf("ova: train: ann shortlist: %w", err)
		}
		tr.short = make([][]int32, y.NRows)
		for i, d := range train {
			tr.short[d] = ids[i*k : (i+1)*k]
		}
	}
	B := c.p.BatchSize
	steps := (len(train) + B - 1) / B
	tr.schedule(epochs * steps)
	var lastLoss float64
	order := slices.Clone(train)
	var clusters [][]int32
	for e := 0; e < epochs; e++ {
		if c.p.Batching == "clusters" {
			if e%c.p.ClusterEvery == 0 {
				clusters, err = cluster.BalancedSubset(ctx, x, docs.Rows, D, train, cluster.Options{
					NumClusters: (len(train) + c.p.ClusterSize - 1) / c.p.ClusterSize,
					Threads:     threads, Seed: c.seed ^ uint64(e+1)*0x9e3779b97f4a7c15})
				if err != nil {
					return st, fmt.Errorf("ova: train: epoch %d: clustering: %w", e, err)
				}
			}
			rng.Shuffle(len(clusters), func(i, j int) { clusters[i], clusters[j] = clusters[j], clusters[i] })
			order = order[:0]
			for _, cl := range clusters {
				order = append(order, cl...)
			}
		} else {
			rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		}
		sum := 0.0
		for b := 0; b < len(order); b += B {
			l, err := tr.trainStep(ctx, order[b:min(b+B, len(order))])
			if err != nil {
				return st, fmt.Errorf("ova: train: epoch %d: %w", e, err)
			}
			sum += l
		}
		lastLoss = sum / float64(max(steps, 1))
	}
	c.wn = ann.Normalized(tr.w, labs.Rows, D)
	c.clfIdx, err = ann.Build(ctx, icfg, c.wn, labs.Rows, D)
	if err != nil {
		return st, fmt.Errorf("ova: train: classifier index: %w", err)
	}

	detail := map[string]float64{"epochs": float64(epochs), "steps": float64(tr.step),
		"train_docs": float64(len(train)), "holdout_docs": float64(len(hold))}
	c.tree = nil
	if c.p.Fusion == "tree" {
		fit := hold
		if len(fit) == 0 { // holdout 0: the reference's optimistic fit on training docs
			fit = train
		}
		if len(fit) > c.p.TreeMaxDocs {
			fit = slices.Clone(fit)
			rng.Shuffle(len(fit), func(i, j int) { fit[i], fit[j] = fit[j], fit[i] })
			fit = fit[:c.p.TreeMaxDocs]
			slices.Sort(fit)
		}
		if err := c.fitTree(ctx, x, fit, detail); err != nil {
			return st, fmt.Errorf("ova: train: fusion tree: %w", err)
		}
	}
	return sdk.TrainStats{Loss: lastLoss, Wall: time.Since(start), Detail: detail}, nil
}

// Predict returns the k best labels per document under the configured
// fusion.
func (c *Classifier) Predict(ctx context.Context, split sdk.Split, docs sdk.Matrix, k int) (tk sdk.TopK, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("ova: predict: internal error: %v\n%s", r, debug.Stack())
		}
	}()
	if c.clfIdx == nil {
		return tk, fmt.Errorf("ova: predict %s: %w (Train first)", split, sdk.ErrNotConfigured)
	}
	d, err := sdk.LoadMatrix(docs)
	if err != nil {
		return tk, fmt.Errorf("ova: predict %s: %w", split, err)
	}
	if d.Rows > 0 && d.Cols != c.dim {
		return tk, fmt.Errorf("ova: predict %s: doc dim %d, trained on %d", split, d.Cols, c.dim)
	}
	if k <= 0 {
		return tk, fmt.Errorf("ova: predict %s: k = %d", split, k)
	}
	var self func(int) int32
	if split == sdk.SplitTrain {
		self = func(i int) int32 { return int32(i) } // leave-one-out doc-kNN votes
	}
	tk, err = c.predict(ctx, ann.Normalized(d.Data, d.Rows, d.Cols), d.Rows, k, c.p.Fusion, self)
	if err != nil {
		return tk, fmt.Errorf("ova: predict %s: %w", split, err)
	}
	return tk, nil
}
