package vecdot

import (
	"golang.org/x/sys/cpu"
	"gonum.org/v1/gonum/blas/blas32"
)

var (
	hasFMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	impl   = blas32.Implementation()
)

//go:noescape
func dotFMA(a, b *float32, n int) float32

// Dot is the inner product of a and b[:len(a)].
func Dot(a, b []float32) float32 {
	if len(a) == 0 {
		return 0
	}
	_ = b[len(a)-1]
	if hasFMA {
		return dotFMA(&a[0], &b[0], len(a))
	}
	return impl.Sdot(len(a), a, 1, b, 1)
}
