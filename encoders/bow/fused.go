package bow

import (
	"github.com/xcbench/xcbench/core/ann/vecdot"
	"github.com/xcbench/xcbench/encoders/siamese"
)

var _ siamese.HostArch = (*Arch)(nil)

// HostEngine implements siamese.HostArch: engine "fused".
func (a *Arch) HostEngine() bool { return a.fused }

// HostForward implements siamese.HostArch: Build's weighted mean of the
// rows (weights over their sum, at least 1e-12) and the residual x + xW,
// read straight from the table, with the matching backward pass that
// scatters into the rows' gradient.
func (a *Arch) HostForward(rows []int32, idx []int32, w []float32, n, s int) ([]float32, func([]float32, [][]float32, []float32)) {
	d := a.cfg.Dim
	table := a.table.Data
	nw := make([]float32, n*s)
	pooled := make([]float32, n*d)
	siamese.ParallelRows(n, func(from, to int) {
		for i := from; i < to; i++ {
			var tot float32
			for _, v := range w[i*s : (i+1)*s] {
				tot += v
			}
			tot = max(tot, 1e-12)
			p := pooled[i*d : (i+1)*d]
			for j := i * s; j < (i+1)*s; j++ {
				if w[j] == 0 {
					continue
				}
				nw[j] = w[j] / tot
				r := int(rows[idx[j]]) * d
				axpy(nw[j], table[r:r+d], p)
			}
		}
	})
	out := pooled
	var wt []float32
	if a.resid != nil {
		// out = p + p·W: out[i,e] = p[i,e] + Σ_d p[i,d]·W[d,e] = p[i,e] + p_i·Wᵀ_e.
		W := a.resid.Data
		wt = make([]float32, d*d)
		for r := range d {
			for c := range d {
				wt[c*d+r] = W[r*d+c]
			}
		}
		out = make([]float32, n*d)
		siamese.MatMulABt(out, pooled, wt, n, d, d)
		for i, v := range pooled {
			out[i] += v
		}
	}
	backward := func(dOut []float32, dParams [][]float32, dRows []float32) {
		dp := dOut
		if a.resid != nil {
			W := a.resid.Data
			// dW[r,c] += Σ_i p[i,r]·dOut[i,c]; dp = dOut + dOut·Wᵀ.
			pt := siamese.TransposeHost(pooled, n, d)
			gt := siamese.TransposeHost(dOut, n, d)
			dw := make([]float32, d*d)
			siamese.MatMulABt(dw, pt, gt, d, d, n)
			for i, v := range dw {
				dParams[0][i] += v
			}
			dp = make([]float32, n*d)
			siamese.MatMulABt(dp, dOut, W, n, d, d)
			for i, v := range dOut {
				dp[i] += v
			}
		}
		// Rows repeat across items, so the cores split the scatter by
		// destination row (each scans all entries, cheap next to the axpy)
		// and the sums keep the serial order.
		siamese.ParallelRows(len(rows), func(lo, hi int) {
			for i := range n {
				g := dp[i*d : (i+1)*d]
				for j := i * s; j < (i+1)*s; j++ {
					if l := int(idx[j]); nw[j] != 0 && l >= lo && l < hi {
						axpy(nw[j], g, dRows[l*d:(l+1)*d])
					}
				}
			}
		})
	}
	return out, backward
}

func axpy(a float32, x, y []float32) { vecdot.Axpy(a, x, y) }
