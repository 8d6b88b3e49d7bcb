package vecdot

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestDot(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for _, n := range []int{0, 1, 7, 8, 9, 31, 32, 33, 64, 100, 128, 257, 768} {
		a, b := make([]float32, n), make([]float32, n)
		var want float64
		for i := range a {
			a[i], b[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
			want += float64(a[i]) * float64(b[i])
		}
		if got := Dot(a, b); math.Abs(float64(got)-want) > 1e-4*math.Sqrt(float64(n)+1) {
			t.Errorf("n=%d: dot = %v, want %v", n, got, want)
		}
	}
}

func BenchmarkDot128(b *testing.B) {
	x, y := make([]float32, 128), make([]float32, 128)
	for i := range x {
		x[i], y[i] = float32(i), 1
	}
	var s float32
	b.Run("ours", func(b *testing.B) {
		for b.Loop() {
			s += Dot(x, y)
		}
	})
	b.Run("gonum-Sdot", func(b *testing.B) {
		for b.Loop() {
			s += impl.Sdot(128, x, 1, y, 1)
		}
	})
	sinkF32 = s
}

var sinkF32 float32
