//go:build !amd64

package vecdot

import "gonum.org/v1/gonum/blas/blas32"

var impl = blas32.Implementation()

// Dot is the inner product of a and b[:len(a)].
func Dot(a, b []float32) float32 {
	if len(a) == 0 {
		return 0
	}
	return impl.Sdot(len(a), a, 1, b[:len(a)], 1)
}
