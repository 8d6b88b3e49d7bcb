package siamese

import (
	"context"
	"fmt"
	"github.com/xcbench/xcbench/encoders/optim"
	"math"

	"github.com/xcbench/xcbench/core/ann/vecdot"
	"github.com/xcbench/xcbench/encoders/loss"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// HostArch is an Arch that can also run its forward and backward passes on
// the host in plain Go (the "fused" engine): for small networks such as the
// bag of embeddings the graph engine's per-op overhead, dense gradient
// buffers and copies cost more than the arithmetic. The service then
// computes normalisation, scores, loss and their gradients on the host too,
// and the optimiser, memory bank and checkpoints are shared with the graph
// engine, so the two give the same updates up to float rounding.
type HostArch interface {
	Arch
	// HostEngine reports whether training steps should take the host path.
	HostEngine() bool
	// HostForward returns the un-normalised embeddings [n, Dim] of n token
	// rows laid out as for Build (idx [n, s] local row indices, w [n, s]
	// weights, 0 = pad), where local row r is table row rows[r], and a
	// backward function that adds the gradients for dEmb [n, Dim] into
	// dParams (aligned with Params()) and dRows ([len(rows), Dim]).
	HostForward(rows []int32, idx []int32, w []float32, n, s int) (emb []float32, backward func(dEmb []float32, dParams [][]float32, dRows []float32))
}

// hostArch returns the arch when the step takes the host path.
func (s *Service) hostArch() (HostArch, bool) {
	ha, ok := s.arch.(HostArch)
	if !ok || !ha.HostEngine() {
		return nil, false
	}
	return ha, true
}

// hostGradients is gradients' fused path: the same loss and gradients as
// the graph, computed on the host for the n real rows only (padding rows
// and columns contribute nothing to either). Candidates of row i are the
// n in-batch labels, then its kn explicit negative slots.
func (s *Service) hostGradients(in *stepInputs, ha HostArch) (Grads, error) {
	n, d, sq, kn := in.n, s.arch.Dim(), in.a.s, in.kn
	c, c0 := n+kn, in.bc+in.kn // host and graph candidate columns
	rows := in.a.rows
	de, backD := ha.HostForward(rows, in.docs.idx[:n*sq], in.docs.w[:n*sq], n, sq)
	le, backL := ha.HostForward(rows, in.labs.idx[:n*sq], in.labs.w[:n*sq], n, sq)
	var ne []float32
	var backN func([]float32, [][]float32, []float32)
	if kn > 0 {
		ne, backN = ha.HostForward(rows, in.negs.idx[:n*kn*sq], in.negs.w[:n*kn*sq], n*kn, sq)
	}
	if in.drop[0] != nil {
		mulInto(de, in.drop[0][:n*d])
		mulInto(le, in.drop[1][:n*d])
		if kn > 0 {
			mulInto(ne, in.drop[2][:n*kn*d])
		}
	}
	dn, dNorm := l2Rows(de, n, d)
	ln, lNorm := l2Rows(le, n, d)
	var nn, nNorm []float32
	if kn > 0 {
		nn, nNorm = l2Rows(ne, n*kn, d)
	}
	// The n x c buffers dominate the step's memory: reuse the layout's
	// masks when they already have the host's shape (a full batch without
	// explicit negatives) and score straight into cand then.
	sc := loss.HostScores{N: n, C: c, Columns: c0, Pos: make([]float32, n)}
	full := kn == 0 && in.bc == n
	if full {
		sc.Cand = make([]float32, n*n)
		MatMulABt(sc.Cand, dn, ln, n, n, d)
		sc.Allow = in.allow[:n*n]
	} else {
		sc.Cand, sc.Allow = make([]float32, n*c), make([]float32, n*c)
		inBatch := make([]float32, n*n)
		MatMulABt(inBatch, dn, ln, n, n, d)
		for i := range n {
			copy(sc.Cand[i*c:i*c+n], inBatch[i*n:(i+1)*n])
			copy(sc.Allow[i*c:i*c+n], in.allow[i*c0:i*c0+n])
			copy(sc.Allow[i*c+n:(i+1)*c], in.allow[i*c0+in.bc:(i+1)*c0])
		}
	}
	for i := range n {
		di := dn[i*d : (i+1)*d]
		sc.Pos[i] = vecdot.Dot(di, ln[i*d:(i+1)*d])
		for j := range kn {
			sc.Cand[i*c+n+j] = vecdot.Dot(di, nn[(i*kn+j)*d:(i*kn+j+1)*d])
		}
	}
	var out loss.HostOutput
	switch s.cfg.Loss {
	case "triplet":
		out = loss.TripletOHNMHost(sc, s.cfg.NumNegatives, s.cfg.Margin, s.cfg.Tau)
	case "infonce":
		out = loss.InfoNCEHost(sc, s.cfg.Temperature)
	case "dsoftmax":
		// PositiveMask marks in-batch columns only.
		pm := in.pos[:n*n]
		if !full {
			pm = make([]float32, n*c)
			for i := range n {
				copy(pm[i*c:i*c+n], in.pos[i*c0:i*c0+n])
			}
		}
		out = loss.DSoftmaxHost(sc, pm, s.cfg.Temperature)
	}
	// Scores backward: pos_i = dn_i·ln_i, cand_ij = dn_i·ln_j (j < n) and
	// dn_i·nn_{i,j-n} (explicit negatives).
	dDn := make([]float32, n*d)
	dLn := make([]float32, n*d)
	var dNn []float32
	if kn > 0 {
		dNn = make([]float32, n*kn*d)
	}
	for i := range n {
		axpy(out.DPos[i], ln[i*d:(i+1)*d], dDn[i*d:(i+1)*d])
		axpy(out.DPos[i], dn[i*d:(i+1)*d], dLn[i*d:(i+1)*d])
	}
	cell := func(i, j int, g float32) {
		if g == 0 {
			return
		}
		di, gi := dn[i*d:(i+1)*d], dDn[i*d:(i+1)*d]
		if j < n {
			axpy(g, ln[j*d:(j+1)*d], gi)
			axpy(g, di, dLn[j*d:(j+1)*d])
			return
		}
		r := i*kn + j - n
		axpy(g, nn[r*d:(r+1)*d], gi)
		axpy(g, di, dNn[r*d:(r+1)*d])
	}
	if out.Sparse {
		for i := range n {
			for p, j := range out.Picks[i*out.K : (i+1)*out.K] {
				if j >= 0 {
					cell(i, int(j), out.DCand[i*out.K+p])
				}
			}
		}
	} else {
		// In-batch block: dDn += G·L, dLn += Gᵀ·D with G = dCand[:, :n].
		g := make([]float32, n*n)
		for i := range n {
			copy(g[i*n:(i+1)*n], out.DCand[i*c:i*c+n])
			for j := n; j < c; j++ {
				cell(i, j, out.DCand[i*c+j])
			}
		}
		lt := TransposeHost(ln, n, d)
		dt := TransposeHost(dn, n, d)
		gt := TransposeHost(g, n, n)
		tmp := make([]float32, n*d)
		MatMulABt(tmp, g, lt, n, d, n)
		addInto(dDn, tmp)
		MatMulABt(tmp, gt, dt, n, d, n)
		addInto(dLn, tmp)
	}
	l2Backward(dDn, dn, dNorm, n, d)
	l2Backward(dLn, ln, lNorm, n, d)
	if kn > 0 {
		l2Backward(dNn, nn, nNorm, n*kn, d)
	}
	if in.drop[0] != nil {
		mulInto(dDn, in.drop[0][:n*d])
		mulInto(dLn, in.drop[1][:n*d])
		if kn > 0 {
			mulInto(dNn, in.drop[2][:n*kn*d])
		}
	}
	g := Grads{Loss: out.Loss, Hardness: out.Hardness, Items: 2*n + in.negCount, Emb: dn, Rows: rows, Table: make([]float32, len(rows)*d)}
	for _, p := range s.arch.Params() {
		g.Params = append(g.Params, make([]float32, p.Size()))
	}
	backD(dDn, g.Params, g.Table)
	backL(dLn, g.Params, g.Table)
	if kn > 0 {
		backN(dNn, g.Params, g.Table)
	}
	return g, nil
}

// hostEncode is Encode on the host engine: HostForward and L2
// normalisation per chunk of encode_batch items (no padding).
func (s *Service) hostEncode(ctx context.Context, ha HostArch, split sdk.Split, ids []int32, out []float32) (sdk.Matrix, error) {
	d := s.arch.Dim()
	for from := 0; from < len(ids); from += s.cfg.EncodeBatch {
		if err := ctx.Err(); err != nil {
			return sdk.Matrix{}, fmt.Errorf("%w: %w", sdk.ErrCanceled, err)
		}
		chunk := ids[from:min(from+s.cfg.EncodeBatch, len(ids))]
		toks, ws, longest, err := s.items(split, chunk)
		if err != nil {
			return sdk.Matrix{}, err
		}
		a := &assembler{arch: s.arch, local: map[int32]int32{}, s: max(longest, 1)}
		tb := a.add(toks, ws, len(chunk))
		e, _ := ha.HostForward(a.rows, tb.idx, tb.w, len(chunk), a.s)
		n, _ := l2Rows(e, len(chunk), d)
		copy(out[from*d:], n)
	}
	return sdk.Matrix{Rows: len(ids), Cols: d, Data: out}, nil
}

// l2Rows returns x's rows scaled to unit length (as graph.L2Normalize: a
// zero row stays zero) and the norms used.
func l2Rows(x []float32, n, d int) ([]float32, []float32) {
	out := make([]float32, n*d)
	norms := make([]float32, n)
	for i := range n {
		r := x[i*d : (i+1)*d]
		ss := vecdot.Dot(r, r)
		if ss == 0 {
			ss = 1
		}
		nr := float32(math.Sqrt(float64(ss)))
		norms[i] = nr
		o := out[i*d : (i+1)*d]
		for j, v := range r {
			o[j] = v / nr
		}
	}
	return out, norms
}

// l2Backward turns dy (gradient w.r.t. y = x/‖x‖) into the gradient w.r.t.
// x in place: (dy − y(y·dy))/‖x‖.
func l2Backward(dy, y, norms []float32, n, d int) {
	for i := range n {
		r := dy[i*d : (i+1)*d]
		yr := y[i*d : (i+1)*d]
		p := vecdot.Dot(yr, r)
		inv := 1 / norms[i]
		for j := range r {
			r[j] = (r[j] - yr[j]*p) * inv
		}
	}
}

// axpy is y += a·x.
func axpy(a float32, x, y []float32) { vecdot.Axpy(a, x, y) }

func mulInto(x, m []float32) {
	for i := range x {
		x[i] *= m[i]
	}
}

// TransposeHost returns the [m, n] transpose of x [n, m], in 16x16 blocks so
// both sides stay in cache.
func TransposeHost(x []float32, n, m int) []float32 {
	const blk = 16
	out := make([]float32, n*m)
	for i0 := 0; i0 < n; i0 += blk {
		i1 := min(i0+blk, n)
		for j0 := 0; j0 < m; j0 += blk {
			j1 := min(j0+blk, m)
			for i := i0; i < i1; i++ {
				row := x[i*m : (i+1)*m]
				for j := j0; j < j1; j++ {
					out[j*n+i] = row[j]
				}
			}
		}
	}
	return out
}

// ParallelRows runs f over [0, n) split into contiguous blocks, one per
// available core (blocks of at least 16 rows).
func ParallelRows(n int, f func(from, to int)) { optim.ParallelBlocks(n, 16, f) }

// MatMulABt sets out [n, m] = a [n, d] · b [m, d]ᵀ, over all cores, in
// blocks of b's rows that stay in cache, with 2x4 output tiles per kernel
// call (vecdot.Dot2x4).
func MatMulABt(out, a, b []float32, n, m, d int) {
	const blk = 128
	ParallelRows((n+1)/2, func(from, to int) {
		var q [4]float32
		var t [8]float32
		from, to = 2*from, min(2*to, n)
		for j0 := 0; j0 < m; j0 += blk {
			j1 := min(j0+blk, m)
			i := from
			for ; i+2 <= to; i += 2 {
				o0, o1 := out[i*m:(i+1)*m], out[(i+1)*m:(i+2)*m]
				j := j0
				for ; j+4 <= j1; j += 4 {
					vecdot.Dot2x4(a[i*d:], d, b[j*d:], d, d, &t)
					o0[j], o0[j+1], o0[j+2], o0[j+3] = t[0], t[1], t[2], t[3]
					o1[j], o1[j+1], o1[j+2], o1[j+3] = t[4], t[5], t[6], t[7]
				}
				for ; j < j1; j++ {
					o0[j] = vecdot.Dot(a[i*d:(i+1)*d], b[j*d:(j+1)*d])
					o1[j] = vecdot.Dot(a[(i+1)*d:(i+2)*d], b[j*d:(j+1)*d])
				}
			}
			for ; i < to; i++ {
				ar := a[i*d : (i+1)*d]
				o := out[i*m : (i+1)*m]
				j := j0
				for ; j+4 <= j1; j += 4 {
					vecdot.Dot4(ar, b[j*d:], d, &q)
					o[j], o[j+1], o[j+2], o[j+3] = q[0], q[1], q[2], q[3]
				}
				for ; j < j1; j++ {
					o[j] = vecdot.Dot(ar, b[j*d:(j+1)*d])
				}
			}
		}
	})
}
