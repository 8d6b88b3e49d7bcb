package vecdot

//go:noescape
func axpyFMA(a float32, x, y *float32, n int)

//go:noescape
func dot4FMA(a, b *float32, stride, n int, out *float32)

// Axpy sets y[i] += a·x[i] for i < len(x) (y must be at least as long).
func Axpy(a float32, x, y []float32) {
	if len(x) == 0 {
		return
	}
	_ = y[len(x)-1]
	if hasFMA {
		axpyFMA(a, &x[0], &y[0], len(x))
		return
	}
	impl.Saxpy(len(x), a, x, 1, y[:len(x)], 1)
}

// Dot4 sets out[k] = a·b[k*stride : k*stride+len(a)] for k < 4: four dot
// products sharing the loads of a (a GEMM micro-kernel).
func Dot4(a, b []float32, stride int, out *[4]float32) {
	if len(a) == 0 {
		*out = [4]float32{}
		return
	}
	_ = b[3*stride+len(a)-1]
	if hasFMA {
		dot4FMA(&a[0], &b[0], stride, len(a), &out[0])
		return
	}
	for k := range 4 {
		out[k] = impl.Sdot(len(a), a, 1, b[k*stride:k*stride+len(a)], 1)
	}
}

//go:noescape
func dot2x4FMA(a *float32, astride int, b *float32, bstride, n int, out *float32)

// Dot2x4 sets out[r*4+k] = a[r*astride:][:n]·b[k*bstride:][:n] for r < 2
// and k < 4: a 2x4 tile of a GEMM, each load shared by several FMAs.
func Dot2x4(a []float32, astride int, b []float32, bstride, n int, out *[8]float32) {
	if n == 0 {
		*out = [8]float32{}
		return
	}
	_, _ = a[astride+n-1], b[3*bstride+n-1]
	if hasFMA {
		dot2x4FMA(&a[0], astride, &b[0], bstride, n, &out[0])
		return
	}
	for r := range 2 {
		for k := range 4 {
			out[r*4+k] = impl.Sdot(n, a[r*astride:r*astride+n], 1, b[k*bstride:k*bstride+n], 1)
		}
	}
}
