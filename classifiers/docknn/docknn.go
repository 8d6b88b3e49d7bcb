package docknn

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/xcbench/xcbench/classifiers/knn"
	"github.com/xcbench/xcbench/classifiers/tfidfknn"
	"github.com/xcbench/xcbench/core/ann"
	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/plugins/registry"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// Name is the registry name.
const Name = "docknn"

// Version is reported by Describe.
const Version = "1.0.0"

func init() {
	registry.Register(sdk.KindClassifier, Name, func() sdk.Plugin { return New() })
}

// Params are the classifier's parameters; the index fields tune the index
// over training documents and, with label_weight > 0, over labels.
type Params struct {
	knn.Params
	Neighbours  int     `json:"neighbours"`
	Power       float64 `json:"power"`
	LabelWeight float64 `json:"label_weight"`
	LabelDepth  int     `json:"label_depth"`
	PopWeight   float64 `json:"pop_weight"`
	// The lexical term: the tf-idf kNN score of classifiers/tfidfknn on
	// the dataset's own features, normalised by the document's largest.
	LexicalWeight float64 `json:"lexical_weight"`
	LexicalK      int     `json:"lexical_k"`
	LexicalPower  float64 `json:"lexical_power"`
	LexicalIDF    string  `json:"lexical_idf"`
	LexicalDepth  int     `json:"lexical_depth"`
}

// DefaultParams: pure neighbour voting with the tf-idf kNN anchor's k.
func DefaultParams() Params {
	lex := tfidfknn.Default()
	return Params{Params: knn.DefaultParams(), Neighbours: 10, Power: 1, LabelDepth: 100,
		LexicalK: lex.K, LexicalPower: lex.Power, LexicalIDF: lex.IDF, LexicalDepth: 100}
}

func schema() []sdk.Param {
	d := DefaultParams()
	return []sdk.Param{
		{Name: "index", Type: "string", Default: d.Index, Doc: "index over training documents (and labels): exact or hnsw"},
		{Name: "m", Type: "int", Default: d.M, Doc: "HNSW graph degree"},
		{Name: "ef_construction", Type: "int", Default: d.EfConstruction, Doc: "HNSW build beam width"},
		{Name: "ef_search", Type: "int", Default: d.EfSearch, Doc: "HNSW search beam width (raised to the depth asked)"},
		{Name: "threads", Type: "int", Default: d.Threads, Doc: "search threads; 0 = GOMAXPROCS"},
		{Name: "neighbours", Type: "int", Default: d.Neighbours, Doc: "nearest training documents that vote"},
		{Name: "power", Type: "float", Default: d.Power, Doc: "a neighbour's vote is its cosine to this power (0 = unweighted count)"},
		{Name: "label_weight", Type: "float", Default: d.LabelWeight, Doc: "weight of the label-embedding cosine fused into the score (0 = votes only)"},
		{Name: "label_depth", Type: "int", Default: d.LabelDepth, Doc: "labels nearest to the document added as candidates when label_weight > 0"},
		{Name: "pop_weight", Type: "float", Default: d.PopWeight, Doc: "weight of the label-popularity prior ln(1+n_l)/ln(1+max n)"},
		{Name: "lexical_weight", Type: "float", Default: d.LexicalWeight, Doc: "weight of the lexical term: the tf-idf kNN score (tfidf-knn on the data set's own features) over the document's largest (0 = off)"},
		{Name: "lexical_k", Type: "int", Default: d.LexicalK, Doc: "lexical term: neighbouring training documents (tfidf-knn k)"},
		{Name: "lexical_power", Type: "float", Default: d.LexicalPower, Doc: "lexical term: similarity power (tfidf-knn power)"},
		{Name: "lexical_idf", Type: "string", Default: d.LexicalIDF, Doc: "lexical term: smooth, plain or none (tfidf-knn idf)"},
		{Name: "lexical_depth", Type: "int", Default: d.LexicalDepth, Doc: "lexical term: labels kept per document (also candidates)"},
	}
}

func (p Params) validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{sdk.ErrInvalidConfig}, a...)...)
	}
	switch {
	case p.Index != "exact" && p.Index != "hnsw":
		return bad("index %q: want exact or hnsw", p.Index)
	case p.M <= 0 || p.EfConstruction <= 0 || p.EfSearch <= 0 || p.Threads < 0:
		return bad("m, ef_construction, ef_search must be > 0 and threads >= 0")
	case p.Neighbours <= 0:
		return bad("neighbours %d <= 0", p.Neighbours)
	case !(p.Power >= 0) || math.IsInf(p.Power, 0):
		return bad("power %g < 0", p.Power)
	case !(p.LabelWeight >= 0) || math.IsInf(p.LabelWeight, 0):
		return bad("label_weight %g < 0", p.LabelWeight)
	case p.LabelDepth <= 0:
		return bad("label_depth %d <= 0", p.LabelDepth)
	case !(p.PopWeight >= 0) || math.IsInf(p.PopWeight, 0):
		return bad("pop_weight %g < 0", p.PopWeight)
	case !(p.LexicalWeight >= 0) || math.IsInf(p.LexicalWeight, 0):
		return bad("lexical_weight %g < 0", p.LexicalWeight)
	case p.LexicalK <= 0 || p.LexicalDepth <= 0:
		return bad("lexical_k %d and lexical_depth %d must be > 0", p.LexicalK, p.LexicalDepth)
	case !(p.LexicalPower > 0) || math.IsInf(p.LexicalPower, 0):
		return bad("lexical_power %g <= 0", p.LexicalPower)
	case p.LexicalIDF != "smooth" && p.LexicalIDF != "plain" && p.LexicalIDF != "none":
		return bad("lexical_idf %q: want smooth, plain or none", p.LexicalIDF)
	}
	return nil
}

// Classifier votes labels from the nearest training documents.
type Classifier struct {
	p    Params
	seed uint64
	ds   *data.Dataset
	pop  []float32
	lex  *tfidfknn.Model // nil unless lexical_weight > 0

	voter  *Voter
	lblIdx ann.Index
	z      []float32
	dim    int
}

// New returns an unconfigured classifier.
func New() *Classifier { return &Classifier{p: DefaultParams()} }

// Describe implements sdk.Plugin.
func (c *Classifier) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{Name: Name, Kind: sdk.KindClassifier, Version: Version, APIVersions: []int{sdk.APIVersion},
		ConfigSchema: sdk.Schema(schema()...)}, nil
}

// Configure decodes the params and loads the dataset's training labels.
func (c *Classifier) Configure(ctx context.Context, cfg sdk.Config) error {
	p, err := decode(cfg)
	if err != nil {
		return err
	}
	ds, err := data.OpenFor(cfg.Dataset)
	if err != nil {
		return fmt.Errorf("docknn: configure: %w", err)
	}
	return c.configure(p, cfg.Seed, ds)
}

// ConfigureDataset is Configure with an already loaded dataset (in-process
// use and tests); cfg.Dataset is ignored.
func (c *Classifier) ConfigureDataset(_ context.Context, cfg sdk.Config, ds *data.Dataset) error {
	p, err := decode(cfg)
	if err != nil {
		return err
	}
	return c.configure(p, cfg.Seed, ds)
}

func decode(cfg sdk.Config) (Params, error) {
	p := DefaultParams()
	if err := sdk.DecodeParams(cfg.Params, &p); err != nil {
		return p, fmt.Errorf("docknn: %w", err)
	}
	if err := p.validate(); err != nil {
		return p, fmt.Errorf("docknn: %w", err)
	}
	return p, nil
}

func (c *Classifier) configure(p Params, seed uint64, ds *data.Dataset) error {
	if ds == nil || ds.TrainY == nil {
		return fmt.Errorf("docknn: configure: dataset has no training labels")
	}
	counts := ds.TrainY.ColCounts()
	maxN := 0
	for _, n := range counts {
		maxN = max(maxN, n)
	}
	pop := make([]float32, ds.TrainY.NCols)
	if maxN > 0 {
		for l, n := range counts {
			pop[l] = float32(math.Log1p(float64(n)) / math.Log1p(float64(maxN)))
		}
	}
	*c = Classifier{p: p, seed: seed, ds: ds, pop: pop}
	if p.LexicalWeight > 0 {
		if ds.TrainX == nil || ds.TrainX.NNZ() == 0 {
			return fmt.Errorf("docknn: configure: %w: lexical_weight > 0 needs the data set's own features, and %q has none", sdk.ErrInvalidConfig, ds.Name)
		}
		m, err := tfidfknn.FitConfig(ds, tfidfknn.Config{K: p.LexicalK, IDF: p.LexicalIDF, Power: p.LexicalPower})
		if err != nil {
			return fmt.Errorf("docknn: configure: lexical term: %w", err)
		}
		c.lex = m
	}
	return nil
}

// Train indexes the training documents with labels (and the labels when
// label_weight > 0).
func (c *Classifier) Train(ctx context.Context, in sdk.TrainInput) (sdk.TrainStats, error) {
	var st sdk.TrainStats
	if c.ds == nil {
		return st, fmt.Errorf("docknn: train: %w", sdk.ErrNotConfigured)
	}
	start := time.Now()
	docs, err := sdk.LoadMatrix(in.TrainDocs)
	if err != nil {
		return st, fmt.Errorf("docknn: train: train docs: %w", err)
	}
	y := c.ds.TrainY
	if docs.Rows != y.NRows || docs.Cols == 0 {
		return st, fmt.Errorf("docknn: train: %dx%d training-document embeddings, dataset has %d training documents", docs.Rows, docs.Cols, y.NRows)
	}
	cfg := c.p.IndexConfig(c.seed)
	voter, err := NewVoter(ctx, cfg, ann.Normalized(docs.Data, docs.Rows, docs.Cols), docs.Cols, y, nil, c.p.Neighbours, c.p.Power)
	if err != nil {
		return st, fmt.Errorf("docknn: train: %w", err)
	}
	var lblIdx ann.Index
	var z []float32
	if c.p.LabelWeight > 0 {
		labs, err := sdk.LoadMatrix(in.Labels)
		if err != nil {
			return st, fmt.Errorf("docknn: train: labels: %w", err)
		}
		if labs.Rows != y.NCols || labs.Cols != docs.Cols {
			return st, fmt.Errorf("docknn: train: %dx%d label embeddings, want %dx%d", labs.Rows, labs.Cols, y.NCols, docs.Cols)
		}
		z = ann.Normalized(labs.Data, labs.Rows, labs.Cols)
		if lblIdx, err = ann.Build(ctx, cfg, z, labs.Rows, labs.Cols); err != nil {
			return st, fmt.Errorf("docknn: train: label index: %w", err)
		}
	}
	c.voter, c.lblIdx, c.z, c.dim = voter, lblIdx, z, docs.Cols
	st.Wall = time.Since(start)
	st.Detail = map[string]float64{"indexed_docs": float64(voter.Indexed())}
	return st, nil
}

// Predict returns each document's k best labels by the fused score.
func (c *Classifier) Predict(ctx context.Context, split sdk.Split, docs sdk.Matrix, k int) (sdk.TopK, error) {
	if c.voter == nil {
		return sdk.TopK{}, fmt.Errorf("docknn: predict %s: %w (Train first)", split, sdk.ErrNotConfigured)
	}
	d, err := sdk.LoadMatrix(docs)
	if err != nil {
		return sdk.TopK{}, fmt.Errorf("docknn: predict %s: %w", split, err)
	}
	if d.Rows > 0 && d.Cols != c.dim {
		return sdk.TopK{}, fmt.Errorf("docknn: predict %s: doc dim %d, trained on %d", split, d.Cols, c.dim)
	}
	if k <= 0 {
		return sdk.TopK{}, fmt.Errorf("docknn: predict %s: k = %d", split, k)
	}
	self := split == sdk.SplitTrain
	if self && d.Rows > c.ds.TrainY.NRows {
		return sdk.TopK{}, fmt.Errorf("docknn: predict train: %d rows, dataset has %d training documents", d.Rows, c.ds.TrainY.NRows)
	}
	x := ann.Normalized(d.Data, d.Rows, d.Cols)
	var own func(i int) int32
	if self {
		own = func(i int) int32 { return int32(i) }
	}
	all, err := c.voter.Votes(ctx, x, d.Rows, own)
	if err != nil {
		return sdk.TopK{}, fmt.Errorf("docknn: predict %s: %w", split, err)
	}
	var lIDs []int32
	ld := 0
	if c.lblIdx != nil {
		ld = min(c.p.LabelDepth, c.ds.TrainY.NCols)
		if lIDs, _, err = c.lblIdx.Search(ctx, x, d.Rows, ld); err != nil {
			return sdk.TopK{}, fmt.Errorf("docknn: predict %s: %w", split, err)
		}
	}
	var lex sdk.TopK
	if c.lex != nil {
		if lex, err = c.lexical(ctx, split, d.Rows); err != nil {
			return sdk.TopK{}, fmt.Errorf("docknn: predict %s: lexical term: %w", split, err)
		}
	}
	out := sdk.TopK{Rows: d.Rows, K: k, Labels: make([]int32, d.Rows*k), Scores: make([]float32, d.Rows*k)}
	type cand struct {
		l int32
		s float64
	}
	var cs []cand
	for i := range d.Rows {
		votes := all[i]
		for j := range ld {
			if l := lIDs[i*ld+j]; l >= 0 {
				if _, ok := votes[l]; !ok {
					votes[l] = 0
				}
			}
		}
		var lexOf map[int32]float64
		if c.lex != nil {
			// Normalised by the document's best lexical score, so the
			// weight means the same for every document and data set.
			labs, scores := lex.Row(i)
			lexOf = make(map[int32]float64, len(labs))
			best := 0.0
			for j, l := range labs {
				if l >= 0 && float64(scores[j]) > best {
					best = float64(scores[j])
				}
			}
			for j, l := range labs {
				if l >= 0 && best > 0 && scores[j] > 0 {
					lexOf[l] = float64(scores[j]) / best
					if _, ok := votes[l]; !ok {
						votes[l] = 0
					}
				}
			}
		}
		xi := x[i*c.dim : (i+1)*c.dim]
		cs = cs[:0]
		for l, v := range votes {
			s := v
			if c.z != nil {
				s += c.p.LabelWeight * dot(xi, c.z[int(l)*c.dim:(int(l)+1)*c.dim])
			}
			s += c.p.PopWeight * float64(c.pop[l])
			s += c.p.LexicalWeight * lexOf[l]
			cs = append(cs, cand{l, s})
		}
		slices.SortFunc(cs, func(a, b cand) int {
			switch {
			case a.s > b.s:
				return -1
			case a.s < b.s:
				return 1
			}
			return int(a.l - b.l)
		})
		for j := range k {
			if j < len(cs) {
				out.Labels[i*k+j], out.Scores[i*k+j] = cs[j].l, float32(cs[j].s)
			} else {
				out.Labels[i*k+j], out.Scores[i*k+j] = -1, float32(math.Inf(-1))
			}
		}
	}
	return out, nil
}

// lexical returns the tf-idf kNN labels of the first rows documents of
// split: test documents as they are, training documents leave-one-out as
// the votes are.
func (c *Classifier) lexical(ctx context.Context, split sdk.Split, rows int) (sdk.TopK, error) {
	depth := min(c.p.LexicalDepth, c.ds.TrainY.NCols)
	switch {
	case split == sdk.SplitTest && c.ds.TestX != nil && rows <= c.ds.TestX.NRows:
		if rows == c.ds.TestX.NRows {
			return c.lex.PredictSplit(ctx, split, depth)
		}
		ids := make([]int32, rows)
		for i := range ids {
			ids[i] = int32(i)
		}
		return c.lex.Predict(ctx, c.ds.TestX.SelectRows(ids), depth)
	case split == sdk.SplitTrain && rows <= c.ds.TrainX.NRows:
		top, err := c.lex.PredictSplit(ctx, split, depth)
		if err != nil {
			return top, err
		}
		top.Rows = rows
		top.Labels, top.Scores = top.Labels[:rows*top.K], top.Scores[:rows*top.K]
		return top, nil
	}
	return sdk.TopK{}, fmt.Errorf("%d documents asked of split %q, which the data set's features do not cover", rows, split)
}

func dot(a, b []float32) float64 {
	var s float64
	for i, v := range a {
		s += float64(v) * float64(b[i])
	}
	return s
}
