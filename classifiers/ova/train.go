package ova

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/core/sparse"
)

// Adam constants of torch.optim.SparseAdam's defaults.
const (
	adamBeta1 = 0.9
	adamBeta2 = 0.999
	adamEps   = 1e-8
)

// trainer holds the classifier weights and optimiser state for one Train.
type trainer struct {
	p       Params
	seed    uint64
	dim     int
	x       []float32      // normalised train-doc embeddings
	y       *sparse.CSR    // train labels
	w       []float32      // L x dim classifier weights (unnormalised)
	m, v    []float32      // Adam moments, L x dim
	short   [][]int32      // per train doc: ann shortlist (shortlist=ann only)
	filter  data.FilterSet // reciprocal train pairs: never a document's negative
	step    int            // optimiser steps taken
	total   int            // scheduled steps
	warmup  int
	threads int

	// per-step scratch
	pos     []int32 // label -> position in U, -1 when absent
	u       []int32
	wn      []float32 // |U| x dim normalised rows
	norm    []float32
	xn      []float32 // B x dim dropped-out, renormalised docs
	s       []float32 // B x |U| scores (inbatch)
	g       []float32 // |U| x dim gradient
	docGrad [][]gradEntry
}

type gradEntry struct {
	u    int32   // position in U
	coef float32 // dLoss/dscore
	s    float32 // the score, for the normalisation's Jacobian
}

func newTrainer(p Params, seed uint64, x []float32, y *sparse.CSR, filter data.FilterSet, z []float32, dim, threads int) *trainer {
	L := y.NCols
	t := &trainer{p: p, seed: seed, dim: dim, x: x, y: y, filter: filter, threads: threads,
		w: slices.Clone(z), m: make([]float32, L*dim), v: make([]float32, L*dim),
		pos: make([]int32, L)}
	for i := range t.pos {
		t.pos[i] = -1
	}
	return t
}

func (t *trainer) schedule(totalSteps int) {
	t.total = max(totalSteps, 1)
	t.warmup = min(t.p.WarmupSteps, t.total/10)
}

// lr is the linear warm-up then linear decay of the reference's scheduler
// (get_linear_schedule_with_warmup) at 0-based step s.
func (t *trainer) lr(s int) float64 {
	if s < t.warmup {
		return t.p.LR * float64(s+1) / float64(t.warmup+1)
	}
	return t.p.LR * math.Max(0, float64(t.total-s)/float64(max(1, t.total-t.warmup)))
}

// trainStep runs one optimiser step on docs and returns the batch loss.
func (t *trainer) trainStep(ctx context.Context, docs []int32) (float64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	B, D := len(docs), t.dim
	// Shortlist U: the batch's positives, plus each document's ann list.
	t.u = t.u[:0]
	add := func(l int32) {
		if t.pos[l] < 0 {
			t.pos[l] = int32(len(t.u))
			t.u = append(t.u, l)
		}
	}
	for _, d := range docs {
		cols, _ := t.y.Row(int(d))
		for _, l := range cols {
			add(l)
		}
		if t.short != nil {
			for _, l := range t.short[d] {
				if l >= 0 {
					add(l)
				}
			}
		}
	}
	U := len(t.u)
	defer func() {
		for _, l := range t.u {
			t.pos[l] = -1
		}
	}()

	// Normalised classifier rows of U.
	t.wn = grow(t.wn, U*D)
	t.norm = grow(t.norm, U)
	parallel(U, t.threads, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			row := t.w[int(t.u[j])*D : (int(t.u[j])+1)*D]
			ss := float64(0)
			for _, v := range row {
				ss += float64(v) * float64(v)
			}
			t.norm[j] = float32(math.Sqrt(ss))
			dst := t.wn[j*D : (j+1)*D]
			if t.norm[j] == 0 {
				clear(dst)
				continue
			}
			inv := 1 / t.norm[j]
			for k, v := range row {
				dst[k] = v * inv
			}
		}
	})

	// Dropout on the frozen features, then cosine normalisation: the
	// reference's Dropout(0.5) feeds normalize(x) @ normalize(W).T. Masks
	// come from (seed, step) so they do not depend on thread count.
	t.xn = grow(t.xn, B*D)
	rng := rand.New(rand.NewPCG(t.seed^0x6f76615f64726f70, uint64(t.step)))
	keep := 1 - t.p.Dropout
	for i, d := range docs {
		src := t.x[int(d)*D : (int(d)+1)*D]
		dst := t.xn[i*D : (i+1)*D]
		ss := float64(0)
		for k, v := range src {
			if t.p.Dropout > 0 && rng.Float64() >= keep {
				dst[k] = 0
				continue
			}
			dst[k] = v
			ss += float64(v) * float64(v)
		}
		if ss > 0 {
			inv := float32(1 / math.Sqrt(ss))
			for k := range dst {
				dst[k] *= inv
			}
		}
	}

	// Scores: one GEMM against the shared shortlist (inbatch), or dot
	// products over each document's own candidates (ann).
	if t.short == nil {
		t.s = grow(t.s, B*U)
		blas32.Gemm(blas.NoTrans, blas.Trans, 1,
			blas32.General{Rows: B, Cols: D, Stride: D, Data: t.xn},
			blas32.General{Rows: U, Cols: D, Stride: D, Data: t.wn},
			0, blas32.General{Rows: B, Cols: U, Stride: U, Data: t.s})
	}
	if len(t.docGrad) < B {
		t.docGrad = make([][]gradEntry, B)
	}
	losses := make([]float64, B)
	norm := float32(1 / float64(B*t.p.NumPositives*t.p.NumNegatives))
	parallel(B, t.threads, func(lo, hi int) {
		var c candidates
		for i := lo; i < hi; i++ {
			c.reset()
			d := int(docs[i])
			cols, _ := t.y.Row(d)
			if t.short == nil {
				row := t.s[i*U : (i+1)*U]
				for j, l := range t.u {
					pos := hasSorted(cols, l)
					if !pos && t.filter.Has(int32(d), l) {
						continue // the same entity as the document
					}
					c.add(int32(j), row[j], pos)
				}
			} else {
				xi := t.xn[i*D : (i+1)*D]
				seen := func(j int32) bool { return slices.Contains(c.u, j) }
				for _, l := range cols {
					j := t.pos[l]
					c.add(j, dot(xi, t.wn[int(j)*D:(int(j)+1)*D]), true)
				}
				for _, l := range t.short[d] {
					if l < 0 || hasSorted(cols, l) || t.filter.Has(int32(d), l) {
						continue
					}
					j := t.pos[l]
					if seen(j) {
						continue
					}
					c.add(j, dot(xi, t.wn[int(j)*D:(int(j)+1)*D]), false)
				}
			}
			losses[i], t.docGrad[i] = tripletMulti(&c, t.p.NumPositives, t.p.NumNegatives,
				float32(t.p.Margin), norm, t.docGrad[i][:0])
		}
	})
	loss := 0.0
	for _, l := range losses {
		loss += l
	}
	loss *= float64(norm)

	// Gradient w.r.t. the raw rows: d(x.w/|w|)/dw = (x - s*wn)/|w|.
	t.g = grow(t.g, U*D)
	clear(t.g)
	for i := range B {
		xi := t.xn[i*D : (i+1)*D]
		for _, e := range t.docGrad[i] {
			if t.norm[e.u] == 0 {
				continue
			}
			g := t.g[int(e.u)*D : (int(e.u)+1)*D]
			wn := t.wn[int(e.u)*D : (int(e.u)+1)*D]
			a := e.coef / t.norm[e.u]
			for k := range g {
				g[k] += a * (xi[k] - e.s*wn[k])
			}
		}
	}

	// Sparse Adam over the shortlist rows (torch.optim.SparseAdam updates
	// every row present in the sparse gradient, zero or not).
	t.step++
	lr := t.lr(t.step - 1)
	bc1 := 1 - math.Pow(adamBeta1, float64(t.step))
	bc2 := 1 - math.Pow(adamBeta2, float64(t.step))
	stepSize := float32(lr / bc1)
	sqrtBC2 := float32(math.Sqrt(bc2))
	parallel(U, t.threads, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			off := int(t.u[j]) * D
			g := t.g[j*D : (j+1)*D]
			w, m, v := t.w[off:off+D], t.m[off:off+D], t.v[off:off+D]
			for k, gk := range g {
				m[k] = adamBeta1*m[k] + (1-adamBeta1)*gk
				v[k] = adamBeta2*v[k] + (1-adamBeta2)*gk*gk
				w[k] -= stepSize * m[k] / (float32(math.Sqrt(float64(v[k])))/sqrtBC2 + adamEps)
			}
		}
	})
	return loss, nil
}

// candidates is one document's scored shortlist.
type candidates struct {
	u     []int32
	s     []float32
	isPos []bool
	pi    []int // scratch: chosen positives
	ni    []int // scratch: chosen negatives
}

func (c *candidates) reset() { c.u, c.s, c.isPos = c.u[:0], c.s[:0], c.isPos[:0] }

func (c *candidates) add(u int32, s float32, pos bool) {
	c.u, c.s, c.isPos = append(c.u, u), append(c.s, s), append(c.isPos, pos)
}

// tripletMulti is TripletMarginLossOHNMMulti for one document: the nP
// lowest-scoring positives against the nN highest-scoring negatives,
// l = relu(s_n - s_p + margin), weighted per positive by a softmax over the
// negatives of l (non-violators get logit -100), gradient flowing through
// the weights as in the reference. It returns the unnormalised loss and
// appends dLoss/ds (already multiplied by norm) to out.
func tripletMulti(c *candidates, nP, nN int, margin, norm float32, out []gradEntry) (float64, []gradEntry) {
	// Partial selection keeps the nP lowest positives and nN highest
	// negatives; strict comparisons keep the earlier candidate on ties.
	c.pi, c.ni = c.pi[:0], c.ni[:0]
	for i := range c.u {
		if c.isPos[i] {
			c.pi = insertKeep(c.pi, i, nP, func(a, b int) bool { return c.s[a] < c.s[b] })
		} else {
			c.ni = insertKeep(c.ni, i, nN, func(a, b int) bool { return c.s[a] > c.s[b] })
		}
	}
	pi, ni := c.pi, c.ni
	if len(pi) == 0 || len(ni) == 0 {
		return 0, out
	}
	var (
		l     [16]float32
		w     [16]float64
		gradP = make([]float32, len(pi))
		gradN = make([]float32, len(ni))
	)
	ls, ws := l[:0], w[:0]
	if len(ni) > len(l) {
		ls, ws = make([]float32, 0, len(ni)), make([]float64, 0, len(ni))
	}
	loss := 0.0
	for ip, p := range pi {
		ls, ws = ls[:0], ws[:0]
		zmax := math.Inf(-1)
		for _, n := range ni {
			v := c.s[n] - c.s[p] + margin
			if v < 0 {
				v = 0
			}
			ls = append(ls, v)
			z := -100.0
			if v > 0 {
				z = float64(v)
			}
			ws = append(ws, z)
			zmax = math.Max(zmax, z)
		}
		sum := 0.0
		for k := range ws {
			ws[k] = math.Exp(ws[k] - zmax)
			sum += ws[k]
		}
		mean := 0.0 // sum_n w_n l_n
		for k := range ws {
			ws[k] /= sum
			mean += ws[k] * float64(ls[k])
		}
		loss += mean
		for k := range ni {
			if ls[k] <= 0 {
				continue
			}
			// d(sum_n w_n l_n)/dl_k = w_k + w_k (l_k - sum_n w_n l_n)
			dl := float32(ws[k]*(1+float64(ls[k])-mean)) * norm
			gradN[k] += dl
			gradP[ip] -= dl
		}
	}
	for k, i := range pi {
		if gradP[k] != 0 {
			out = append(out, gradEntry{u: c.u[i], coef: gradP[k], s: c.s[i]})
		}
	}
	for k, i := range ni {
		if gradN[k] != 0 {
			out = append(out, gradEntry{u: c.u[i], coef: gradN[k], s: c.s[i]})
		}
	}
	return loss, out
}

// insertKeep inserts i into the sorted list keep (best first by before)
// and truncates it to k entries.
func insertKeep(keep []int, i, k int, before func(a, b int) bool) []int {
	pos := len(keep)
	for pos > 0 && before(i, keep[pos-1]) {
		pos--
	}
	if pos >= k {
		return keep
	}
	if len(keep) < k {
		keep = append(keep, 0)
	}
	copy(keep[pos+1:], keep[pos:len(keep)-1])
	keep[pos] = i
	return keep
}

func hasSorted(cols []int32, l int32) bool {
	_, ok := slices.BinarySearch(cols, l)
	return ok
}

func dot(a, b []float32) float32 {
	return blas32.Dot(blas32.Vector{N: len(a), Inc: 1, Data: a}, blas32.Vector{N: len(b), Inc: 1, Data: b})
}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}
