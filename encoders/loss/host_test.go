package loss

import (
	"math"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive
)

// TestHostLossesMatchGraph: each host loss (the fused engine's) gives the
// graph version's loss, hardness and gradients on the valid rows, including
// a row with no allowed candidate and k at least the column count.
func TestHostLossesMatchGraph(t *testing.T) {
	b := backend(t)
	const margin, tau, temp = 0.3, 0.1, 0.2
	f32 := func(x []float64) []float32 {
		out := make([]float32, len(x))
		for i, v := range x {
			out[i] = float32(v)
		}
		return out
	}
	for seed := uint64(1); seed <= 3; seed++ {
		pos, cand, allow, valid := inputs(seed)
		if seed == 3 {
			for j := range C {
				allow[j] = 0 // row 0 has no negative
			}
		}
		n := 0
		for n < len(valid) && valid[n] == 1 {
			n++
		}
		sc := HostScores{N: n, C: C, Columns: C, Pos: f32(pos[:n]), Cand: f32(cand[:n*C]), Allow: f32(allow[:n*C])}
		pm := posMaskFor(allow)
		for _, tc := range []struct {
			name  string
			graph lossFn
			host  func() HostOutput
		}{
			{"triplet_k3", func(p, c, a, v *Node) Output { return TripletOHNM(p, c, a, v, 3, margin, tau) },
				func() HostOutput { return TripletOHNMHost(sc, 3, margin, tau) }},
			{"triplet_k_all", func(p, c, a, v *Node) Output { return TripletOHNM(p, c, a, v, 2*C, margin, tau) },
				func() HostOutput { return TripletOHNMHost(sc, 2*C, margin, tau) }},
			{"infonce", func(p, c, a, v *Node) Output { return InfoNCE(p, c, a, v, temp) },
				func() HostOutput { return InfoNCEHost(sc, temp) }},
			{"dsoftmax_multi_positive", func(p, c, a, v *Node) Output { return DSoftmax(p, c, a, posMaskNode(a), v, temp) },
				func() HostOutput { return DSoftmaxHost(sc, f32(pm[:n*C]), temp) }},
		} {
			l, h, dPos, dCand := run(t, b, tc.graph, pos, cand, allow, valid)
			out := tc.host()
			if math.Abs(l-out.Loss) > 1e-5 || math.Abs(h-out.Hardness) > 1e-5 {
				t.Fatalf("%s seed %d: graph loss %g hardness %g, host %g %g", tc.name, seed, l, h, out.Loss, out.Hardness)
			}
			dense := out.DCand
			if out.Sparse {
				dense = make([]float32, n*C)
				for i := range n {
					for p, j := range out.Picks[i*out.K : (i+1)*out.K] {
						if j >= 0 {
							dense[i*C+int(j)] = out.DCand[i*out.K+p]
						}
					}
				}
			}
			for i := range n {
				if math.Abs(dPos[i]-float64(out.DPos[i])) > 1e-5 {
					t.Errorf("%s seed %d: dpos[%d] graph %g host %g", tc.name, seed, i, dPos[i], out.DPos[i])
				}
			}
			for i := range n * C {
				if math.Abs(dCand[i]-float64(dense[i])) > 1e-5 {
					t.Errorf("%s seed %d: dcand[%d] graph %g host %g", tc.name, seed, i, dCand[i], dense[i])
				}
			}
		}
	}
}
