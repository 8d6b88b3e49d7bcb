package siamese

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/xcbench/xcbench/core/ann/vecdot"
)

// TestMatMulABt covers the tile edges: odd row counts, column counts not a
// multiple of 4 or of the block, and short or odd inner dimensions.
func TestMatMulABt(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, n := range []int{1, 2, 3, 5, 33, 70} {
		for _, m := range []int{1, 3, 4, 7, 130, 261} {
			for _, d := range []int{1, 8, 13, 128} {
				a, b := make([]float32, n*d), make([]float32, m*d)
				for i := range a {
					a[i] = float32(r.NormFloat64())
				}
				for i := range b {
					b[i] = float32(r.NormFloat64())
				}
				out := make([]float32, n*m)
				MatMulABt(out, a, b, n, m, d)
				for i := range n {
					for j := range m {
						var w float64
						for k := range d {
							w += float64(a[i*d+k]) * float64(b[j*d+k])
						}
						if math.Abs(float64(out[i*m+j])-w) > 1e-4*math.Sqrt(float64(d)) {
							t.Fatalf("n=%d m=%d d=%d: out[%d,%d] = %v, want %v", n, m, d, i, j, out[i*m+j], w)
						}
					}
				}
			}
		}
	}
}

// BenchmarkMatMulABt times the 1024x1024x128 score matrix of a batch-1024
// step, against one Dot4 call per four outputs (the previous kernel).
//
//	go test -run '^$' -bench MatMulABt ./encoders/siamese
func BenchmarkMatMulABt(b *testing.B) {
	const n, d = 1024, 128
	x, y, out := make([]float32, n*d), make([]float32, n*d), make([]float32, n*n)
	for i := range x {
		x[i], y[i] = float32(i%7), float32(i%5)
	}
	b.Run("tile2x4", func(b *testing.B) {
		for b.Loop() {
			MatMulABt(out, x, y, n, n, d)
		}
	})
	b.Run("dot4", func(b *testing.B) {
		for b.Loop() {
			ParallelRows(n, func(from, to int) {
				var q [4]float32
				for i := from; i < to; i++ {
					for j := 0; j < n; j += 4 {
						vecdot.Dot4(x[i*d:(i+1)*d], y[j*d:], d, &q)
						copy(out[i*n+j:], q[:])
					}
				}
			})
		}
	})
}

func TestTransposeHost(t *testing.T) {
	for _, sh := range [][2]int{{1, 1}, {3, 17}, {33, 16}, {40, 129}} {
		n, m := sh[0], sh[1]
		x := make([]float32, n*m)
		for i := range x {
			x[i] = float32(i)
		}
		y := TransposeHost(x, n, m)
		for i := range n {
			for j := range m {
				if y[j*n+i] != x[i*m+j] {
					t.Fatalf("%dx%d: (%d,%d)", n, m, i, j)
				}
			}
		}
	}
}
