package ova

import (
	"context"
	"fmt"
	"slices"

	"github.com/xcbench/xcbench/classifiers/fusion"
	"github.com/xcbench/xcbench/core/ann"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// cand is one candidate label of a document with both exact scores.
type cand struct {
	label    int32
	clf, knn float32
}

// features of a candidate for the fusion tree, in the reference's order.
const numFeatures = 3

func (c *Classifier) features(dst []float32, cd cand) []float32 {
	return append(dst, cd.clf, cd.knn, c.inv[cd.label])
}

// retrieve queries both indexes at depth and returns, per document, the
// union of the two candidate lists (sorted by label) with both scores
// recomputed exactly, so a label found by one index only still gets its
// true score from the other.
func (c *Classifier) retrieve(ctx context.Context, x []float32, nq, depth int) ([][]cand, error) {
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
	D := c.dim
	out := make([][]cand, nq)
	parallel(nq, c.p.Threads, func(lo, hi int) {
		var labels []int32
		for i := lo; i < hi; i++ {
			labels = append(labels[:0], idsK[i*depth:(i+1)*depth]...)
			labels = append(labels, idsC[i*depth:(i+1)*depth]...)
			slices.Sort(labels)
			labels = slices.Compact(labels)
			xi := x[i*D : (i+1)*D]
			cs := make([]cand, 0, len(labels))
			for _, l := range labels {
				if l < 0 {
					continue
				}
				cs = append(cs, cand{label: l,
					clf: dot(xi, c.wn[int(l)*D:(int(l)+1)*D]),
					knn: dot(xi, c.z[int(l)*D:(int(l)+1)*D])})
			}
			out[i] = cs
		}
	})
	return out, nil
}

func (c *Classifier) predict(ctx context.Context, x []float32, nq, k int, mode string) (sdk.TopK, error) {
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
	cands, err := c.retrieve(ctx, x, nq, max(c.p.NumNbrs, k))
	if err != nil {
		return tk, err
	}
	tk.Labels = make([]int32, nq*k)
	tk.Scores = make([]float32, nq*k)
	beta, w := float32(c.p.Beta), float32(c.p.SumWeight)
	parallel(nq, c.p.Threads, func(lo, hi int) {
		sel := ann.NewHeap(k)
		feat := make([]float32, 0, numFeatures)
		for i := lo; i < hi; i++ {
			sel.Reset()
			for _, cd := range cands[i] {
				var s float32
				if mode == "tree" {
					s = fusion.TreeScore(c.tree.Prob(c.features(feat[:0], cd)), cd.clf, cd.knn, beta)
				} else {
					s = fusion.Sum(w, cd.clf, cd.knn)
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
	cands, err := c.retrieve(ctx, q, len(docs), c.p.NumNbrs)
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
	t, err := fusion.FitTree(ctx, feats, numFeatures, ys, fusion.TreeConfig{MaxDepth: c.p.TreeDepth})
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
