package ova

import (
	"fmt"

	"github.com/xcbench/xcbench/classifiers/knn"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// Params are the one-vs-all classifier's parameters; the index fields
// (index, m, ef_construction, ef_search, threads) tune both prediction
// indexes and the ann shortlist.
type Params struct {
	knn.Params
	Epochs       int     `json:"epochs"`
	BatchSize    int     `json:"batch_size"`
	LR           float64 `json:"lr"`
	WarmupSteps  int     `json:"warmup_steps"`
	Dropout      float64 `json:"dropout"`
	Margin       float64 `json:"margin"`
	NumPositives int     `json:"num_positives"`
	NumNegatives int     `json:"num_negatives"`
	Shortlist    string  `json:"shortlist"`
	NumNbrs      int     `json:"num_nbrs"`
	Batching     string  `json:"batching"`
	ClusterSize  int     `json:"cluster_size"`
	ClusterEvery int     `json:"cluster_every"`
	Fusion       string  `json:"fusion"`
	Beta         float64 `json:"beta"`
	SumWeight    float64 `json:"sum_weight"`
	Holdout      float64 `json:"holdout"`
	TreeDepth    int     `json:"tree_depth"`
	TreeMaxDocs  int     `json:"tree_max_docs"`
	// DocNeighbours > 0 adds a third score to the fusion: the doc-kNN vote
	// share of the label among that many nearest training documents.
	DocNeighbours int     `json:"doc_neighbours"`
	DocWeight     float64 `json:"doc_weight"`
}

// DefaultParams are the reference's M-IV values where it has one.
func DefaultParams() Params {
	return Params{
		Params: knn.DefaultParams(),
		Epochs: 100, BatchSize: 2048, LR: 1e-3, WarmupSteps: 500, Dropout: 0.5,
		Margin: 0.2, NumPositives: 3, NumNegatives: 5,
		Shortlist: "inbatch", NumNbrs: 100, Batching: "random",
		ClusterSize: 64, ClusterEvery: 5,
		Fusion: "tree", Beta: 1.0, SumWeight: 0.5, Holdout: 0.1,
		TreeDepth: 7, TreeMaxDocs: 75000,
		DocNeighbours: 0, DocWeight: 0.5,
	}
}

func schema() []sdk.Param {
	d := DefaultParams()
	return []sdk.Param{
		{Name: "index", Type: "string", Default: d.Index, Doc: "index over label embeddings and classifier vectors: exact or hnsw"},
		{Name: "m", Type: "int", Default: d.M, Doc: "HNSW graph degree"},
		{Name: "ef_construction", Type: "int", Default: d.EfConstruction, Doc: "HNSW build beam width"},
		{Name: "ef_search", Type: "int", Default: d.EfSearch, Doc: "HNSW search beam width"},
		{Name: "threads", Type: "int", Default: d.Threads, Doc: "worker threads; 0 = GOMAXPROCS"},
		{Name: "epochs", Type: "int", Default: d.Epochs, Doc: "training epochs (TrainInput.Epochs overrides when > 0)"},
		{Name: "batch_size", Type: "int", Default: d.BatchSize, Doc: "documents per step"},
		{Name: "lr", Type: "float", Default: d.LR, Doc: "Adam peak learning rate"},
		{Name: "warmup_steps", Type: "int", Default: d.WarmupSteps, Doc: "linear warm-up steps (capped at 10% of all steps), then linear decay to 0"},
		{Name: "dropout", Type: "float", Default: d.Dropout, Doc: "dropout on document features during training"},
		{Name: "margin", Type: "float", Default: d.Margin, Doc: "triplet margin"},
		{Name: "num_positives", Type: "int", Default: d.NumPositives, Doc: "lowest-scoring positives per document in the loss"},
		{Name: "num_negatives", Type: "int", Default: d.NumNegatives, Doc: "highest-scoring shortlisted negatives per document in the loss"},
		{Name: "shortlist", Type: "string", Default: d.Shortlist, Doc: "training shortlist: inbatch (union of the batch's positives, as the released NGAME) or ann (each document's num_nbrs nearest label embeddings plus its positives, as SiameseXML)"},
		{Name: "num_nbrs", Type: "int", Default: d.NumNbrs, Doc: "depth of both prediction indexes and of the ann shortlist"},
		{Name: "batching", Type: "string", Default: d.Batching, Doc: "batch order: random (shuffled each epoch) or clusters (NGAME: balanced 2-means clusters of the frozen training-doc embeddings, cluster order shuffled each epoch)"},
		{Name: "cluster_size", Type: "int", Default: d.ClusterSize, Doc: "documents per cluster for batching=clusters (the count is rounded up to a power of two, as pyxclib)"},
		{Name: "cluster_every", Type: "int", Default: d.ClusterEvery, Doc: "re-cluster every this many epochs with a fresh seed (reference refresh interval 5)"},
		{Name: "fusion", Type: "string", Default: d.Fusion, Doc: "score fusion: tree (beta*(P_tree+knn)+clf), sum (w*clf+(1-w)*knn), none (clf only), knn (knn only)"},
		{Name: "beta", Type: "float", Default: d.Beta, Doc: "tree fusion weight beta"},
		{Name: "sum_weight", Type: "float", Default: d.SumWeight, Doc: "sum fusion weight w of the clf score"},
		{Name: "holdout", Type: "float", Default: d.Holdout, Doc: "fraction of training documents held out of classifier training to fit the fusion tree (tree fusion only; 0 = fit on training predictions as the reference)"},
		{Name: "tree_depth", Type: "int", Default: d.TreeDepth, Doc: "fusion tree max depth"},
		{Name: "tree_max_docs", Type: "int", Default: d.TreeMaxDocs, Doc: "most documents whose candidates fit the tree"},
		{Name: "doc_neighbours", Type: "int", Default: d.DocNeighbours, Doc: "0 = off; > 0: fuse a doc-kNN score, the label's vote share among this many nearest training documents (classifiers/docknn; held-out documents never vote), as a fourth tree feature and a candidate source"},
		{Name: "doc_weight", Type: "float", Default: d.DocWeight, Doc: "sum fusion with doc_neighbours > 0: weight of the doc-kNN score added to w*clf+(1-w)*knn"},
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
	case p.Epochs < 0:
		return bad("epochs %d < 0", p.Epochs)
	case p.BatchSize <= 0:
		return bad("batch_size %d <= 0", p.BatchSize)
	case !(p.LR > 0):
		return bad("lr %g <= 0", p.LR)
	case p.WarmupSteps < 0:
		return bad("warmup_steps %d < 0", p.WarmupSteps)
	case !(p.Dropout >= 0 && p.Dropout < 1):
		return bad("dropout %g not in [0,1)", p.Dropout)
	case !(p.Margin >= 0):
		return bad("margin %g < 0", p.Margin)
	case p.NumPositives <= 0 || p.NumNegatives <= 0:
		return bad("num_positives and num_negatives must be > 0")
	case p.Shortlist != "inbatch" && p.Shortlist != "ann":
		return bad("shortlist %q: want inbatch or ann", p.Shortlist)
	case p.NumNbrs <= 0:
		return bad("num_nbrs %d <= 0", p.NumNbrs)
	case p.Batching != "random" && p.Batching != "clusters":
		return bad("batching %q: want random or clusters", p.Batching)
	case p.ClusterSize <= 0 || p.ClusterEvery <= 0:
		return bad("cluster_size and cluster_every must be > 0")
	case p.Fusion != "tree" && p.Fusion != "sum" && p.Fusion != "none" && p.Fusion != "knn":
		return bad("fusion %q: want tree, sum, none or knn", p.Fusion)
	case !(p.SumWeight >= 0 && p.SumWeight <= 1):
		return bad("sum_weight %g not in [0,1]", p.SumWeight)
	case !(p.Holdout >= 0 && p.Holdout < 1):
		return bad("holdout %g not in [0,1)", p.Holdout)
	case p.TreeDepth < 0 || p.TreeMaxDocs <= 0:
		return bad("tree_depth must be >= 0 and tree_max_docs > 0")
	case p.DocNeighbours < 0 || !(p.DocWeight >= 0):
		return bad("doc_neighbours and doc_weight must be >= 0")
	}
	return nil
}
