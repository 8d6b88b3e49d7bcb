package siamese

import (
	"fmt"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/xcbench/xcbench/encoders/loss"
)

// Gradient caching (Gao et al., "Scaling Deep Contrastive Learning Batch
// Size under Memory Limited Setup", 2021). The loss couples every item of a
// batch, but it depends on the network only through the embeddings, so
// dL/dθ = Σ_items (dL/de_item)·(de_item/dθ). Three passes:
//  1. encode every block of grad_cache items without gradients (pooled,
//     dropout-masked, un-normalised embeddings, as the uncached graph has
//     them before L2Normalize);
//  2. one small graph takes all embeddings, normalises them, computes the
//     loss and returns dL/de for every item;
//  3. re-encode each block with gradients and backpropagate the surrogate
//     Σ e·stop(dL/de), summing the parameter and table-row gradients over
//     blocks on the host.
// Only one block's activations are alive at a time; the price is a second
// forward pass. All blocks share the batch's table rows (one assembler), so
// their row gradients add up position by position.

// gcExecs are the compiled graphs of the cached path, by dropout.
type gcExecs struct {
	fwd, bwd [2]*Exec
	loss     [2]*Exec // by hasNeg
}

func (s *Service) gcForward(hasDrop bool) (*Exec, error) {
	k := btoi(hasDrop)
	if s.gc.fwd[k] != nil {
		return s.gc.fwd[k], nil
	}
	np := len(s.arch.Params())
	e, err := NewExec(s.backend, func(in []*Node) *Node {
		s.compiles++
		e := s.arch.Build(in[:np], in[np], in[np+1], in[np+2])
		if hasDrop {
			e = Mul(e, in[np+3])
		}
		return e
	})
	if err != nil {
		return nil, err
	}
	e.SetMaxCache(-1)
	s.gc.fwd[k] = e
	return e, nil
}

func (s *Service) gcBackward(hasDrop bool) (*Exec, error) {
	k := btoi(hasDrop)
	if s.gc.bwd[k] != nil {
		return s.gc.bwd[k], nil
	}
	np := len(s.arch.Params())
	e, err := NewExec(s.backend, func(in []*Node) []*Node {
		s.compiles++
		params, rows := in[:np], in[np]
		e := s.arch.Build(params, rows, in[np+1], in[np+2])
		g := in[np+3]
		if hasDrop {
			e = Mul(e, in[np+4])
		}
		sur := ReduceAllSum(Mul(e, g))
		return Gradient(sur, append(append([]*Node{}, params...), rows)...)
	})
	if err != nil {
		return nil, err
	}
	e.SetMaxCache(-1)
	s.gc.bwd[k] = e
	return e, nil
}

func (s *Service) gcLoss(hasNeg bool) (*Exec, error) {
	k := btoi(hasNeg)
	if s.gc.loss[k] != nil {
		return s.gc.loss[k], nil
	}
	cfg := s.cfg
	e, err := NewExec(s.backend, func(in []*Node) []*Node {
		s.compiles++
		de, le := in[0], in[1]
		rest := in[2:]
		var negs *Node
		wrt := []*Node{de, le}
		if hasNeg {
			negs, rest = rest[0], rest[1:]
			wrt = append(wrt, negs)
		}
		allow, valid := rest[0], rest[1]
		var posMask *Node
		if cfg.Loss == "dsoftmax" {
			posMask = rest[2]
		}
		nd, nl := L2Normalize(de, -1), L2Normalize(le, -1)
		var nn *Node
		if negs != nil {
			b := de.Shape().Dimensions[0]
			nn = L2Normalize(Reshape(negs, b, negs.Shape().Dimensions[0]/b, s.arch.Dim()), -1)
		}
		pos, cand := loss.Scores(nd, nl, nn)
		out := s.lossOf(pos, cand, allow, valid, posMask)
		grads := Gradient(out.Loss, wrt...)
		return append([]*Node{out.Loss, out.Hardness, StopGradient(nd)}, grads...)
	})
	if err != nil {
		return nil, err
	}
	e.SetMaxCache(-1)
	s.gc.loss[k] = e
	return e, nil
}

// lossOf applies the configured loss.
func (s *Service) lossOf(pos, cand, allow, valid, posMask *Node) loss.Output {
	switch s.cfg.Loss {
	case "infonce":
		return loss.InfoNCE(pos, cand, allow, valid, s.cfg.Temperature)
	case "dsoftmax":
		return loss.DSoftmax(pos, cand, allow, posMask, valid, s.cfg.Temperature)
	default:
		return loss.TripletOHNM(pos, cand, allow, valid, s.cfg.NumNegatives, s.cfg.Margin, s.cfg.Tau)
	}
}

// gcBlock is one block of rows of a token batch (and its dropout mask),
// padded to size rows.
func gcBlock(tb tokenBatch, drop []float32, from, rows, size, seq, d int) (idx []int32, w, m []float32) {
	idx = make([]int32, size*seq)
	w = make([]float32, size*seq)
	to := min(from+size, rows)
	copy(idx, tb.idx[from*seq:to*seq])
	copy(w, tb.w[from*seq:to*seq])
	if drop != nil {
		m = make([]float32, size*d)
		copy(m, drop[from*d:to*d])
	}
	return idx, w, m
}

// cachedGradients is gradients() by gradient caching.
func (s *Service) cachedGradients(in *stepInputs) (Grads, error) {
	d := s.arch.Dim()
	gc := s.cfg.GradCache
	sq := in.a.s
	hasNeg, hasDrop := in.kn > 0, in.drop[0] != nil
	params := s.paramTensors()
	rowsT := tensors.FromFlatDataAndDimensions(s.gatherRows(in.a.rows, in.u), in.u, d)
	type block struct {
		tb   tokenBatch
		drop []float32
		rows int
	}
	blocks := []block{{in.docs, in.drop[0], in.bc}, {in.labs, in.drop[1], in.bc}}
	if hasNeg {
		blocks = append(blocks, block{in.negs, in.drop[2], in.bc * in.kn})
	}
	fwd, err := s.gcForward(hasDrop)
	if err != nil {
		return Grads{}, err
	}
	args := func(b block, from int, extra ...*tensors.Tensor) []any {
		idx, w, m := gcBlock(b.tb, b.drop, from, b.rows, gc, sq, d)
		a := append(append([]any{}, params...), rowsT,
			tensors.FromFlatDataAndDimensions(idx, gc, sq), tensors.FromFlatDataAndDimensions(w, gc, sq))
		for _, e := range extra {
			a = append(a, e)
		}
		if hasDrop {
			a = append(a, tensors.FromFlatDataAndDimensions(m, gc, d))
		}
		return a
	}
	// Pass 1: embeddings without graphs kept.
	embs := make([][]float32, len(blocks))
	for bi, b := range blocks {
		embs[bi] = make([]float32, b.rows*d)
		for from := 0; from < b.rows; from += gc {
			out, err := fwd.Exec1(args(b, from)...)
			if err != nil {
				return Grads{}, fmt.Errorf("encoder %s: grad cache forward: %w", s.name, err)
			}
			e := tensors.MustCopyFlatData[float32](out)
			_ = out.FinalizeAll()
			copy(embs[bi][from*d:], e[:(min(from+gc, b.rows)-from)*d])
		}
	}
	// Pass 2: loss and dL/de on the whole batch.
	lossExec, err := s.gcLoss(hasNeg)
	if err != nil {
		return Grads{}, err
	}
	c := in.bc + in.kn
	la := []any{tensors.FromFlatDataAndDimensions(embs[0], in.bc, d), tensors.FromFlatDataAndDimensions(embs[1], in.bc, d)}
	if hasNeg {
		la = append(la, tensors.FromFlatDataAndDimensions(embs[2], in.bc*in.kn, d))
	}
	la = append(la, tensors.FromFlatDataAndDimensions(in.allow, in.bc, c), tensors.FromFlatDataAndDimensions(in.valid, in.bc))
	if in.pos != nil {
		la = append(la, tensors.FromFlatDataAndDimensions(in.pos, in.bc, c))
	}
	outs, err := lossExec.Exec(la...)
	if err != nil {
		return Grads{}, fmt.Errorf("encoder %s: grad cache loss: %w", s.name, err)
	}
	g := Grads{
		Loss:     float64(tensors.ToScalar[float32](outs[0])),
		Hardness: float64(tensors.ToScalar[float32](outs[1])),
		Items:    2*in.n + in.negCount,
		Emb:      tensors.MustCopyFlatData[float32](outs[2])[:in.n*d],
		Rows:     in.a.rows,
	}
	dE := make([][]float32, len(blocks))
	for bi := range blocks {
		dE[bi] = tensors.MustCopyFlatData[float32](outs[3+bi])
	}
	for _, t := range outs {
		_ = t.FinalizeAll()
	}
	// Pass 3: backpropagate block by block, summing on the host in a
	// fixed order (deterministic).
	bwd, err := s.gcBackward(hasDrop)
	if err != nil {
		return Grads{}, err
	}
	ps := s.arch.Params()
	g.Params = make([][]float32, len(ps))
	for i, p := range ps {
		g.Params[i] = make([]float32, len(p.Data))
	}
	table := make([]float32, in.u*d)
	for bi, b := range blocks {
		for from := 0; from < b.rows; from += gc {
			gb := make([]float32, gc*d)
			copy(gb, dE[bi][from*d:min(from+gc, b.rows)*d])
			outs, err := bwd.Exec(args(b, from, tensors.FromFlatDataAndDimensions(gb, gc, d))...)
			if err != nil {
				return Grads{}, fmt.Errorf("encoder %s: grad cache backward: %w", s.name, err)
			}
			for i := range ps {
				addInto(g.Params[i], tensors.MustCopyFlatData[float32](outs[i]))
			}
			addInto(table, tensors.MustCopyFlatData[float32](outs[len(ps)]))
			for _, t := range outs {
				_ = t.FinalizeAll()
			}
		}
	}
	g.Table = table[:len(in.a.rows)*d]
	return g, nil
}

func addInto(dst, src []float32) {
	for i, v := range src {
		dst[i] += v
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
