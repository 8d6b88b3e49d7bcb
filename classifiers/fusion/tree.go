package fusion

import (
	"context"
	"fmt"
	"slices"
)

// TreeConfig bounds tree growth.
type TreeConfig struct {
	// MaxDepth is the deepest split level (the root is depth 0); the
	// reference uses 7.
	MaxDepth int
	// MinLeaf is the fewest samples a leaf may hold (sklearn's
	// min_samples_leaf, default 1).
	MinLeaf int
}

// Node is one tree node; a leaf has Feature -1.
type Node struct {
	Feature   int     `json:"f"`
	Threshold float32 `json:"t"`
	Left      int32   `json:"l"`
	Right     int32   `json:"r"`
	// Prob is the fraction of positive samples that reached the node.
	Prob float32 `json:"p"`
	N    int     `json:"n"`
}

// Tree is a fitted binary classification tree. A sample goes left when
// x[Feature] <= Threshold.
type Tree struct {
	NumFeatures int    `json:"num_features"`
	Nodes       []Node `json:"nodes"`
}

// Prob returns P(positive) for one sample of NumFeatures values.
func (t *Tree) Prob(x []float32) float32 {
	i := int32(0)
	for {
		n := &t.Nodes[i]
		if n.Feature < 0 {
			return n.Prob
		}
		if x[n.Feature] <= n.Threshold {
			i = n.Left
		} else {
			i = n.Right
		}
	}
}

// Depth is the length of the longest root-to-leaf path.
func (t *Tree) Depth() int {
	var walk func(i int32) int
	walk = func(i int32) int {
		n := t.Nodes[i]
		if n.Feature < 0 {
			return 0
		}
		return 1 + max(walk(n.Left), walk(n.Right))
	}
	return walk(0)
}

// FitTree grows a gini tree on n samples: x is row-major n x nf, y the
// labels. Every split is the best over all features and all midpoints
// between consecutive distinct values; ties in impurity decrease keep the
// lower feature index, then the lower threshold, so the result is unique.
func FitTree(ctx context.Context, x []float32, nf int, y []bool, cfg TreeConfig) (*Tree, error) {
	n := len(y)
	if nf <= 0 || len(x) != n*nf {
		return nil, fmt.Errorf("fit tree: %d values for %d samples x %d features", len(x), n, nf)
	}
	if n == 0 {
		return nil, fmt.Errorf("fit tree: no samples")
	}
	if cfg.MaxDepth < 0 {
		return nil, fmt.Errorf("fit tree: max depth %d", cfg.MaxDepth)
	}
	if cfg.MinLeaf < 1 {
		cfg.MinLeaf = 1
	}
	b := &builder{x: x, nf: nf, y: y, cfg: cfg, t: &Tree{NumFeatures: nf}}
	// Sort the samples once per feature; splitting a node then partitions
	// these orders stably, so no node sorts again.
	b.order = make([][]int32, nf)
	for f := 0; f < nf; f++ {
		o := make([]int32, n)
		for i := range o {
			o[i] = int32(i)
		}
		slices.SortStableFunc(o, func(a, c int32) int {
			va, vc := x[int(a)*nf+f], x[int(c)*nf+f]
			switch {
			case va < vc:
				return -1
			case va > vc:
				return 1
			}
			return 0
		})
		b.order[f] = o
	}
	b.side = make([]bool, n)
	b.tmp = make([]int32, n)
	if err := b.grow(ctx, 0, n, 0); err != nil {
		return nil, err
	}
	return b.t, nil
}

type builder struct {
	x     []float32
	nf    int
	y     []bool
	cfg   TreeConfig
	t     *Tree
	order [][]int32 // per feature, the node's samples occupy order[f][lo:hi]
	side  []bool    // scratch: sample goes left
	tmp   []int32
}

func gini(pos, n int) float64 {
	if n == 0 {
		return 0
	}
	p := float64(pos) / float64(n)
	return 2 * p * (1 - p)
}

// grow builds the node over order[*][lo:hi] and returns nothing but appends
// nodes; the node's index is len(Nodes) at entry.
func (b *builder) grow(ctx context.Context, lo, hi, depth int) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("fit tree: %w", err)
	}
	n := hi - lo
	pos := 0
	for _, s := range b.order[0][lo:hi] {
		if b.y[s] {
			pos++
		}
	}
	id := len(b.t.Nodes)
	b.t.Nodes = append(b.t.Nodes, Node{Feature: -1, Prob: float32(pos) / float32(n), N: n})
	if depth >= b.cfg.MaxDepth || pos == 0 || pos == n || n < 2*b.cfg.MinLeaf {
		return nil
	}
	parent := gini(pos, n)
	bestF, bestGain, bestThr, bestLeft := -1, 0.0, float32(0), 0
	for f := 0; f < b.nf; f++ {
		o := b.order[f][lo:hi]
		lpos := 0
		for i := 0; i < n-1; i++ {
			s := o[i]
			if b.y[s] {
				lpos++
			}
			v, w := b.x[int(s)*b.nf+f], b.x[int(o[i+1])*b.nf+f]
			if v == w {
				continue
			}
			nl := i + 1
			nr := n - nl
			if nl < b.cfg.MinLeaf || nr < b.cfg.MinLeaf {
				continue
			}
			imp := (float64(nl)*gini(lpos, nl) + float64(nr)*gini(pos-lpos, nr)) / float64(n)
			gain := parent - imp
			// strict > keeps the first (lowest feature, lowest threshold) best
			if gain > bestGain+1e-12 {
				bestF, bestGain, bestLeft = f, gain, nl
				thr := v/2 + w/2
				if thr == w { // midpoint rounded up onto w: keep w on the right
					thr = v
				}
				bestThr = thr
			}
		}
	}
	if bestF < 0 {
		return nil
	}
	// Mark sides, then stably partition every feature's order.
	for _, s := range b.order[bestF][lo:hi] {
		b.side[s] = b.x[int(s)*b.nf+bestF] <= bestThr
	}
	for f := 0; f < b.nf; f++ {
		o := b.order[f][lo:hi]
		l, r := 0, bestLeft
		for _, s := range o {
			if b.side[s] {
				b.tmp[l] = s
				l++
			} else {
				b.tmp[r] = s
				r++
			}
		}
		copy(o, b.tmp[:n])
	}
	b.t.Nodes[id].Feature = bestF
	b.t.Nodes[id].Threshold = bestThr
	b.t.Nodes[id].Left = int32(len(b.t.Nodes))
	if err := b.grow(ctx, lo, lo+bestLeft, depth+1); err != nil {
		return err
	}
	b.t.Nodes[id].Right = int32(len(b.t.Nodes))
	return b.grow(ctx, lo+bestLeft, hi, depth+1)
}
