package vecdot

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestAxpyAndDot4(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	for _, n := range []int{0, 1, 7, 8, 9, 31, 32, 33, 100, 128, 257} {
		x, y := make([]float32, n), make([]float32, n+3)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		for i := range y {
			y[i] = float32(r.NormFloat64())
		}
		want := append([]float32(nil), y...)
		for i := range x {
			want[i] += 1.5 * x[i]
		}
		Axpy(1.5, x, y)
		for i := range y {
			if math.Abs(float64(y[i]-want[i])) > 1e-5 {
				t.Fatalf("axpy n=%d: y[%d] = %v, want %v", n, i, y[i], want[i])
			}
		}
		stride := n + 5
		b := make([]float32, 3*stride+n)
		for i := range b {
			b[i] = float32(r.NormFloat64())
		}
		a2 := make([]float32, stride+n)
		for i := range a2 {
			a2[i] = float32(r.NormFloat64())
		}
		var tile [8]float32
		Dot2x4(a2, stride, b, stride, n, &tile)
		for rr := range 2 {
			for k := range 4 {
				var w float64
				for i := range n {
					w += float64(a2[rr*stride+i]) * float64(b[k*stride+i])
				}
				if math.Abs(float64(tile[rr*4+k])-w) > 1e-4*math.Sqrt(float64(n)+1) {
					t.Fatalf("dot2x4 n=%d (%d,%d): %v, want %v", n, rr, k, tile[rr*4+k], w)
				}
			}
		}
		var out [4]float32
		Dot4(x, b, stride, &out)
		for k := range 4 {
			var w float64
			for i := range x {
				w += float64(x[i]) * float64(b[k*stride+i])
			}
			if math.Abs(float64(out[k])-w) > 1e-4*math.Sqrt(float64(n)+1) {
				t.Fatalf("dot4 n=%d k=%d: %v, want %v", n, k, out[k], w)
			}
		}
	}
}
