package optim

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestScheduleAt(t *testing.T) {
	cases := []struct {
		name string
		s    Schedule
		t    int
		want float64
	}{
		{"constant", Schedule{LR: 1}, 5, 1},
		{"warmup_first", Schedule{LR: 1, Warmup: 4}, 1, 0.25},
		{"warmup_end", Schedule{LR: 1, Warmup: 4}, 4, 1},
		{"decay_mid", Schedule{LR: 1, Warmup: 4, Total: 14}, 9, 0.5},
		{"decay_end", Schedule{LR: 1, Warmup: 4, Total: 14}, 14, 0},
		{"past_end", Schedule{LR: 1, Warmup: 4, Total: 14}, 20, 0},
		{"no_warmup_decay", Schedule{LR: 2, Total: 10}, 5, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.s.At(tc.t); math.Abs(got-tc.want) > 1e-12 {
				t.Fatalf("At(%d)=%g want %g", tc.t, got, tc.want)
			}
		})
	}
}

// TestAdamWMatchesReference checks two steps against values worked out by
// hand from the torch.optim.AdamW update rule.
func TestAdamWMatchesReference(t *testing.T) {
	o := New(Schedule{LR: 0.1}, 0.01)
	p := &Param{Name: "w", Dims: []int{2}, Data: []float32{1, -2}}
	g := []float32{0.5, -1}
	w := []float64{1, -2}
	m := []float64{0, 0}
	v := []float64{0, 0}
	for step := 1; step <= 2; step++ {
		lr := o.Begin()
		if err := o.Dense(p, g, lr); err != nil {
			t.Fatal(err)
		}
		for i := range w {
			w[i] *= 1 - 0.1*0.01
			m[i] = 0.9*m[i] + 0.1*float64(g[i])
			v[i] = 0.999*v[i] + 0.001*float64(g[i])*float64(g[i])
			mh := m[i] / (1 - math.Pow(0.9, float64(step)))
			vh := v[i] / (1 - math.Pow(0.999, float64(step)))
			w[i] -= 0.1 * mh / (math.Sqrt(vh) + 1e-6)
		}
	}
	for i := range w {
		if math.Abs(float64(p.Data[i])-w[i]) > 1e-6 {
			t.Fatalf("w[%d]=%g want %g", i, p.Data[i], w[i])
		}
	}
}

// TestRowsEqualsDenseOnTouchedRows: a row-sparse update must equal the dense
// update on the rows it touches and leave the others alone.
func TestRowsEqualsDenseOnTouchedRows(t *testing.T) {
	mk := func() *Param {
		p := NewParam("emb", false, 4, 3)
		for i := range p.Data {
			p.Data[i] = float32(i) * 0.1
		}
		return p
	}
	dense, sparse := mk(), mk()
	od, os := New(Schedule{LR: 0.05}, 0.1), New(Schedule{LR: 0.05}, 0.1)
	full := make([]float32, 12)
	rows := []int32{2, 0}
	rowGrad := []float32{1, 2, 3, -1, -2, -3}
	copy(full[6:9], rowGrad[:3])
	copy(full[0:3], rowGrad[3:])
	lr := od.Begin()
	if err := od.Dense(dense, full, lr); err != nil {
		t.Fatal(err)
	}
	lr = os.Begin()
	if err := os.Rows(sparse, rows, rowGrad, lr); err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		touched := i < 3 || (i >= 6 && i < 9)
		if touched && dense.Data[i] != sparse.Data[i] {
			t.Fatalf("touched elem %d: dense %g sparse %g", i, dense.Data[i], sparse.Data[i])
		}
		if !touched && sparse.Data[i] != float32(i)*0.1 {
			t.Fatalf("untouched elem %d changed to %g", i, sparse.Data[i])
		}
	}
	if err := os.Rows(sparse, []int32{9}, []float32{1, 1, 1}, lr); err == nil {
		t.Fatal("out-of-range row accepted")
	}
}

// TestVectorKernelBitwise: the AVX2 update equals the scalar loop bit for
// bit, over several steps with decay, odd lengths and tiny gradients.
func TestVectorKernelBitwise(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for _, n := range []int{1, 3, 4, 5, 128, 131} {
		mk := func() *Param {
			p := NewParam("p", false, n)
			p.moments()
			return p
		}
		a, b := mk(), mk()
		for i := range n {
			a.Data[i] = float32(r.NormFloat64())
			b.Data[i] = a.Data[i]
		}
		o := New(Schedule{LR: 0.01, Warmup: 2}, 0.01)
		for range 4 {
			g := make([]float32, n)
			for i := range g {
				g[i] = float32(r.NormFloat64() * math.Pow(10, -float64(r.IntN(8))))
			}
			lr := o.Begin()
			c := o.coeffs(lr)
			c.apply(a, 0, g)
			kc := kernelCoeffs{b1: c.b1, omb1: 1 - c.b1, b2: c.b2, omb2: 1 - c.b2, decay: c.decay, stepSize: c.stepSize, sqrtBc2: c.sqrtBc2, eps: c.eps}
			scalarApply(b.Data, b.M, b.V, g, &kc)
			for i := range n {
				if a.Data[i] != b.Data[i] || a.M[i] != b.M[i] || a.V[i] != b.V[i] {
					t.Fatalf("n=%d element %d: vector (%v %v %v), scalar (%v %v %v)", n, i, a.Data[i], a.M[i], a.V[i], b.Data[i], b.M[i], b.V[i])
				}
			}
		}
	}
}
