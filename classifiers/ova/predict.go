package ova

import (
	"context"
	"fmt"
	"slices"

	"github.com/xcbench/xcbench/classifiers/fusion"
	"github.com/xcbench/xcbench/core/ann"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// cand is one candidate label of a document with both exact scores (and
// its doc-kNN vote share when doc_neighbours > 0).
type cand struct {
	label         int32
	clf, knn, doc float32
}

// numFeatures is the reference's tree features: clf, knn, inverse
// propensity; doc_neighbours > 0 adds the doc-kNN score as a fourth.
const numFeatures = 3

func (c *Classifier) featureCount() int {
	if c.voter != nil {
		return numFeatures + 1
	}
	return numFeatures
}

func (c *Classifier) features(dst []float32, cd cand) []float32 {
	dst = append(dst, cd.clf, cd.knn, c.inv[cd.label])
	if c.voter != nil {
		dst = append(dst, cd.doc)
	}
	return dst
}

// retrieve queries both indexes at depth and returns, per document, the
// union of the two candidate lists (sorted by label) with both scores
// recomputed exactly, so a label found by one index only still gets its
// true score from the other. With doc_neighbours > 0 the labels voted by
// the document's neighbours join the union and every candidate carries
// its vote share (0 when not voted); self(i) is query i's own training
// row, left out of its neighbours (nil: none).
func (c *Classifier) retrieve(ctx context.Context, x []float32, nq, depth int, self func(int) int32) ([][]cand, error) {
	L := len(c.inv)
	depth = min(depth, L)
	idsK, _, err := c.knnIdx.Search(ctx, x, nq, depth)
	if err != nil {
		return nil, fmt.Errorf("knn index: %w", err)
	}
	idsC, _, err := c.clfIdx.Search(ctx, x, nq, depth)
	if err != nil {
		return nil, fmt.Errorf("classifier index: %w", err)
	}
	var votes []map[int32]float64
	if c.voter != nil {
		if votes, err = c.voter.Votes(ctx, x, nq, self); err != nil {
			return nil, err
		}
	}
	D := c.dim
	out := make([][]cand, nq)
	parallel(nq, c.p.Threads, func(lo, hi int) {
		var labels []int32
		for i := lo; i < hi; i++ {
			labels = append(labels[:0], idsK[i*depth:(i+1)*depth]...)
			labels = append(labels, idsC[i*depth:(i+1)*depth]...)
			if votes != nil {
				for l := range votes[i] {
					labels = append(labels, l)
				}
			}
			slices.Sort(labels)
			labels = slices.Compact(labels)
			xi := x[i*D : (i+1)*D]
			cs := make([]cand, 0, len(labels))
			for _, l := range labels {
				if l < 0 {
					continue
				}
				cd := cand{label: l,
					clf: dot(xi, c.wn[int(l)*D:(int(l)+1)*D]),
					knn: dot(xi, c.z[int(l)*D:(int(l)+1)*D])}
				if votes != nil {
					cd.doc = float32(votes[i][l])
				}
				cs = append(cs, cd)
			}
			out[i] = cs
		}
	})
	return out, nil
}

func (c *Classifier) predict(ctx context.Context, x []float32, nq, k int, mode string, self func(int) int32) (sdk.TopK, error) {
	tk := sdk.TopK{Rows: nq, K: k}
	switch mode {
	case "none", "knn":
		idx := c.clfIdx
		if mode == "knn" {
			idx = c.knnIdx
		}
		ids, scores, err := idx.Search(ctx, x, nq, k)
		if err != nil {
			return tk, err
		}
		tk.Labels, tk.Scores = ids, scores
		return tk, nil
	}
	cands, err := c.retrieve(ctx, x, nq, max(c.p.NumNbrs, k), self)
	if err != nil {
		return tk, err
	}
	tk.Labels = make([]int32, nq*k)
	tk.Scores = make([]float32, nq*k)
	beta, w, dw := float32(c.p.Beta), float32(c.p.SumWeight), float32(c.p.DocWeight)
	parallel(nq, c.p.Threads, func(lo, hi int) {
		sel := ann.NewHeap(k)
		feat := make([]float32, 0, c.featureCount())
		for i := lo; i < hi; i++ {
			sel.Reset()
			for _, cd := range cands[i] {
				var s float32
				if mode == "tree" {
					s = fusion.TreeScore(c.tree.Prob(c.features(feat[:0], cd)), cd.clf, cd.knn, beta)
				} else {
					s = fusion.Sum(w, cd.clf, cd.knn)
					if c.voter != nil {
						s += dw * cd.doc
					}
				}
				sel.Push(cd.label, s)
			}
			sel.Drain(tk.Labels[i*k:(i+1)*k], tk.Scores[i*k:(i+1)*k])
		}
	})
	return tk, nil
}

// fitTree fits the fusion tree on the candidates of the given training
// documents: target = the label is a true training label, with the
// training reciprocal-pair filter removing its pairs from the samples.
func (c *Classifier) fitTree(ctx context.Context, x []float32, docs []int32, detail map[string]float64) error {
	if len(docs) == 0 {
		return fmt.Errorf("no documents to fit on (all training documents lack labels?)")
	}
	D := c.dim
	q := make([]float32, 0, len(docs)*D)
	for _, d := range docs {
		q = append(q, x[int(d)*D:(int(d)+1)*D]...)
	}
	// Held-out documents are not indexed; with holdout 0 the fitting
	// documents are, and leave themselves out.
	cands, err := c.retrieve(ctx, q, len(docs), c.p.NumNbrs, func(i int) int32 { return docs[i] })
	if err != nil {
		return err
	}
	filtered := map[[2]int32]bool{}
	for _, p := range c.ds.FilterTrain {
		filtered[[2]int32{p.Row, p.Label}] = true
	}
	var (
		feats []float32
		ys    []bool
		npos  int
	)
	for i, d := range docs {
		cols, _ := c.ds.TrainY.Row(int(d))
		for _, cd := range cands[i] {
			if filtered[[2]int32{d, cd.label}] {
				continue
			}
			feats = c.features(feats, cd)
			y := hasSorted(cols, cd.label)
			ys = append(ys, y)
			if y {
				npos++
			}
		}
	}
	t, err := fusion.FitTree(ctx, feats, c.featureCount(), ys, fusion.TreeConfig{MaxDepth: c.p.TreeDepth})
	if err != nil {
		return err
	}
	c.tree = t
	detail["tree_docs"] = float64(len(docs))
	detail["tree_samples"] = float64(len(ys))
	detail["tree_positives"] = float64(npos)
	detail["tree_nodes"] = float64(len(t.Nodes))
	return nil
}
