package loss

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/xcbench/xcbench/encoders/gomlxkit"
)

const B, C = 4, 6

func backend(t *testing.T) backends.Backend {
	b, err := gomlxkit.NewBackend("")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// refTriplet is TripletMarginLossOHNM written out on the host (float64).
func refTriplet(pos, cand, allow, valid []float64, k int, margin, tau float64) (float64, float64) {
	var total, hsum, hn, nv float64
	for i := range B {
		if valid[i] == 0 {
			continue
		}
		nv++
		type c struct {
			s    float64
			real bool
		}
		var cs []c
		for j := range C {
			if allow[i*C+j] > 0 {
				cs = append(cs, c{cand[i*C+j], true})
			} else {
				cs = append(cs, c{excludedScore, false})
			}
		}
		sort.SliceStable(cs, func(a, b int) bool { return cs[a].s > cs[b].s })
		cs = cs[:k]
		ls := make([]float64, k)
		logits := make([]float64, k)
		var z float64
		for j, x := range cs {
			ls[j] = math.Max(0, x.s-pos[i]+margin)
			if ls[j] > 0 {
				logits[j] = x.s / tau
			}
			z += math.Exp(logits[j])
			if x.real {
				hsum += x.s
				hn++
			}
		}
		for j := range k {
			total += ls[j] * math.Exp(logits[j]) / z
		}
	}
	return total / (nv * float64(k)), hsum / hn
}

func refInfoNCE(pos, cand, allow, valid []float64, t float64) float64 {
	var total, nv float64
	for i := range B {
		if valid[i] == 0 {
			continue
		}
		nv++
		z := math.Exp(pos[i] / t)
		for j := range C {
			if allow[i*C+j] > 0 {
				z += math.Exp(cand[i*C+j] / t)
			}
		}
		total += math.Log(z) - pos[i]/t
	}
	return total / nv
}

// refDSoftmax is DEXML's decoupled softmax on the host: each positive (the
// row's own and the candidates with posMask 1) against the allowed
// negatives only; mean over a row's positives, then over valid rows.
func refDSoftmax(pos, cand, allow, posMask, valid []float64, t float64) float64 {
	var total, nv float64
	for i := range B {
		if valid[i] == 0 {
			continue
		}
		nv++
		var negZ float64
		for j := range C {
			if allow[i*C+j] > 0 {
				negZ += math.Exp(cand[i*C+j] / t)
			}
		}
		term := func(s float64) float64 { return math.Log(math.Exp(s/t)+negZ) - s/t }
		row, n := term(pos[i]), 1.0
		for j := range C {
			if posMask[i*C+j] > 0 {
				row += term(cand[i*C+j])
				n++
			}
		}
		total += row / n
	}
	return total / nv
}

// posMaskFor marks some disallowed candidates as further positives (a
// positive is never an allowed negative).
func posMaskFor(allow []float64) []float64 {
	m := make([]float64, len(allow))
	for i := range m {
		if allow[i] == 0 && i%2 == 0 {
			m[i] = 1
		}
	}
	return m
}

// posMaskNode is posMaskFor in the graph: with C even, an even flat index
// is an even column.
func posMaskNode(allow *Node) *Node {
	even := make([][]float64, B)
	for i := range even {
		even[i] = make([]float64, C)
		for j := 0; j < C; j += 2 {
			even[i][j] = 1
		}
	}
	return Mul(Sub(OnesLike(allow), allow), Const(allow.Graph(), even))
}

func inputs(seed uint64) (pos, cand, allow, valid []float64) {
	r := rand.New(rand.NewPCG(seed, 7))
	pos = make([]float64, B)
	cand = make([]float64, B*C)
	allow = make([]float64, B*C)
	for i := range pos {
		pos[i] = r.Float64()*2 - 1
	}
	for i := range cand {
		cand[i] = r.Float64()*2 - 1
		if r.IntN(4) > 0 {
			allow[i] = 1
		}
	}
	valid = []float64{1, 1, 1, 0}
	return
}

type lossFn func(pos, cand, allow, valid *Node) Output

func run(t *testing.T, b backends.Backend, f lossFn, pos, cand, allow, valid []float64) (l, h float64, dPos, dCand []float64) {
	t.Helper()
	out := MustExecOnceN(b, func(p, c, a, v *Node) []*Node {
		o := f(p, c, a, v)
		g := Gradient(o.Loss, p, c)
		return []*Node{o.Loss, o.Hardness, g[0], g[1]}
	}, tensors.FromFlatDataAndDimensions(pos, B), tensors.FromFlatDataAndDimensions(cand, B, C),
		tensors.FromFlatDataAndDimensions(allow, B, C), tensors.FromFlatDataAndDimensions(valid, B))
	return tensors.ToScalar[float64](out[0]), tensors.ToScalar[float64](out[1]),
		tensors.MustCopyFlatData[float64](out[2]), tensors.MustCopyFlatData[float64](out[3])
}

func TestLossesMatchReferenceAndFiniteDifference(t *testing.T) {
	b := backend(t)
	const margin, tau, temp = 0.3, 0.1, 0.2
	cases := []struct {
		name string
		f    lossFn
		ref  func(p, c, a, v []float64) float64
	}{
		{"triplet_k3", func(p, c, a, v *Node) Output { return TripletOHNM(p, c, a, v, 3, margin, tau) },
			func(p, c, a, v []float64) float64 { l, _ := refTriplet(p, c, a, v, 3, margin, tau); return l }},
		{"triplet_k_all", func(p, c, a, v *Node) Output { return TripletOHNM(p, c, a, v, 10, margin, tau) },
			func(p, c, a, v []float64) float64 { l, _ := refTriplet(p, c, a, v, C, margin, tau); return l }},
		{"infonce", func(p, c, a, v *Node) Output { return InfoNCE(p, c, a, v, temp) },
			func(p, c, a, v []float64) float64 { return refInfoNCE(p, c, a, v, temp) }},
		{"dsoftmax", func(p, c, a, v *Node) Output {
			return DSoftmax(p, c, a, Mul(a, ScalarZero(a.Graph(), a.DType())), v, temp)
		}, func(p, c, a, v []float64) float64 { return refDSoftmax(p, c, a, make([]float64, len(a)), v, temp) }},
		{"dsoftmax_multi_positive", func(p, c, a, v *Node) Output {
			return DSoftmax(p, c, a, posMaskNode(a), v, temp)
		}, func(p, c, a, v []float64) float64 { return refDSoftmax(p, c, a, posMaskFor(a), v, temp) }},
	}
	for _, tc := range cases {
		for seed := uint64(1); seed <= 3; seed++ {
			pos, cand, allow, valid := inputs(seed)
			l, _, dPos, dCand := run(t, b, tc.f, pos, cand, allow, valid)
			if want := tc.ref(pos, cand, allow, valid); math.Abs(l-want) > 1e-9 {
				t.Fatalf("%s seed %d: loss %g, reference %g", tc.name, seed, l, want)
			}
			const h = 1e-6
			fd := func(xs []float64, i int) float64 {
				save := xs[i]
				xs[i] = save + h
				lp := tc.ref(pos, cand, allow, valid)
				xs[i] = save - h
				lm := tc.ref(pos, cand, allow, valid)
				xs[i] = save
				return (lp - lm) / (2 * h)
			}
			for i := range pos {
				if d := fd(pos, i); math.Abs(d-dPos[i]) > 1e-5 {
					t.Errorf("%s seed %d: dpos[%d] %g, finite difference %g", tc.name, seed, i, dPos[i], d)
				}
			}
			for i := range cand {
				if d := fd(cand, i); math.Abs(d-dCand[i]) > 1e-5 {
					t.Errorf("%s seed %d: dcand[%d] %g, finite difference %g", tc.name, seed, i, dCand[i], d)
				}
				further := tc.name == "dsoftmax_multi_positive" && posMaskFor(allow)[i] > 0
				if allow[i] == 0 && !further && dCand[i] != 0 {
					t.Errorf("%s: disallowed candidate %d has gradient %g", tc.name, i, dCand[i])
				}
			}
		}
	}
}

func TestTripletHardness(t *testing.T) {
	b := backend(t)
	pos, cand, allow, valid := inputs(5)
	_, h, _, _ := run(t, b, func(p, c, a, v *Node) Output { return TripletOHNM(p, c, a, v, 2, 0.3, 0.1) }, pos, cand, allow, valid)
	_, want := refTriplet(pos, cand, allow, valid, 2, 0.3, 0.1)
	if math.Abs(h-want) > 1e-12 {
		t.Fatalf("hardness %g want %g", h, want)
	}
}

func TestScores(t *testing.T) {
	b := backend(t)
	d := []float32{1, 0, 0, 1}
	l := []float32{0.6, 0.8, 1, 0}
	n := []float32{0, 1, 1, 0, 0.5, 0.5, -1, 0} // [2,2,2]
	out := MustExecOnceN(b, func(d, l, n *Node) []*Node {
		p, c := Scores(d, l, n)
		return []*Node{p, c}
	}, tensors.FromFlatDataAndDimensions(d, 2, 2), tensors.FromFlatDataAndDimensions(l, 2, 2), tensors.FromFlatDataAndDimensions(n, 2, 2, 2))
	if got, want := tensors.MustCopyFlatData[float32](out[0]), []float32{0.6, 0}; !slices.Equal(got, want) {
		t.Fatalf("pos %v want %v", got, want)
	}
	if got, want := tensors.MustCopyFlatData[float32](out[1]), []float32{0.6, 1, 0, 1, 0.8, 0, 0.5, 0}; !slices.Equal(got, want) {
		t.Fatalf("cand %v want %v", got, want)
	}
}
