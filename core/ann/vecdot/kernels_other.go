//go:build !amd64

package vecdot

// Axpy sets y[i] += a·x[i] for i < len(x) (y must be at least as long).
func Axpy(a float32, x, y []float32) {
	if len(x) == 0 {
		return
	}
	impl.Saxpy(len(x), a, x, 1, y[:len(x)], 1)
}

// Dot4 sets out[k] = a·b[k*stride : k*stride+len(a)] for k < 4.
func Dot4(a, b []float32, stride int, out *[4]float32) {
	for k := range 4 {
		out[k] = Dot(a, b[k*stride:k*stride+len(a)])
	}
}

// Dot2x4 sets out[r*4+k] = a[r*astride:][:n]·b[k*bstride:][:n] for r < 2
// and k < 4.
func Dot2x4(a []float32, astride int, b []float32, bstride, n int, out *[8]float32) {
	for r := range 2 {
		for k := range 4 {
			out[r*4+k] = Dot(a[r*astride:r*astride+n], b[k*bstride:k*bstride+n])
		}
	}
}
