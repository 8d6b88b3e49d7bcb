package optim

import "golang.org/x/sys/cpu"

var hasAVX2 = cpu.X86.HasAVX2

//go:noescape
func adamwAVX(w, m, v, grad *float32, n int, c *kernelCoeffs)

// kernelCoeffs is the constant block adamwAVX reads (layout fixed by the
// assembly).
type kernelCoeffs struct {
	b1, omb1, b2, omb2, decay, stepSize, sqrtBc2, eps float64
}

// applyVector updates the first n&^3 elements with the AVX2 kernel and
// returns how many it did.
func applyVector(ws, ms, vs, grad []float32, c *kernelCoeffs) int {
	n := len(grad) &^ 3
	if !hasAVX2 || n == 0 {
		return 0
	}
	_, _, _ = ws[n-1], ms[n-1], vs[n-1]
	adamwAVX(&ws[0], &ms[0], &vs[0], &grad[0], n, c)
	return n
}
