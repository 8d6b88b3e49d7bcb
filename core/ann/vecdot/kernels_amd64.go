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
