package optim

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
)

// Param is one trainable tensor, row-major.
type Param struct {
	Name string
	Dims []int
	Data []float32
	// NoDecay exempts the tensor from weight decay (biases, norms).
	NoDecay bool
	// M and V are the Adam moments (allocated on first use).
	M, V []float32
}

// NewParam allocates a zero tensor.
func NewParam(name string, noDecay bool, dims ...int) *Param {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return &Param{Name: name, Dims: dims, Data: make([]float32, n), NoDecay: noDecay}
}

// Size is the number of elements.
func (p *Param) Size() int { return len(p.Data) }

// RowSize is the length of one row (the last dimension) of a rank-2 table.
func (p *Param) RowSize() int { return p.Dims[len(p.Dims)-1] }

func (p *Param) moments() {
	if p.M == nil {
		p.M = make([]float32, len(p.Data))
		p.V = make([]float32, len(p.Data))
	}
}

// Schedule is the learning-rate schedule: linear warm-up over Warmup steps,
// then linear decay reaching 0 at Total (Total 0 = constant after warm-up).
type Schedule struct {
	LR     float64
	Warmup int
	Total  int
}

// At returns the learning rate of update number t (1-based). Unlike the
// Hugging Face schedule that starts at lr·0/warmup (so PyTorch's first step
// is a no-op), update 1 already gets lr/warmup.
func (s Schedule) At(t int) float64 {
	f := 1.0
	if s.Warmup > 0 && t < s.Warmup {
		f = float64(t) / float64(s.Warmup)
	}
	if s.Total > 0 && t > s.Warmup {
		f = math.Max(0, float64(s.Total-t)/float64(max(1, s.Total-s.Warmup)))
	}
	return s.LR * f
}

// AdamW is decoupled-weight-decay Adam (Loshchilov & Hutter), as
// torch.optim.AdamW: p ← p − lr·wd·p, then the Adam step.
type AdamW struct {
	Beta1, Beta2, Eps, WeightDecay float64
	Schedule                       Schedule
	// Step counts the updates done so far.
	Step int
}

// New returns AdamW with betas (0.9, 0.999) and eps 1e-6 (NGAME's setting).
func New(s Schedule, weightDecay float64) *AdamW {
	return &AdamW{Beta1: 0.9, Beta2: 0.999, Eps: 1e-6, WeightDecay: weightDecay, Schedule: s}
}

// Begin starts an update: it advances Step and returns the learning rate
// to pass to Dense/Rows for every parameter of this step.
func (o *AdamW) Begin() float64 {
	o.Step++
	return o.Schedule.At(o.Step)
}

// stepCoeffs are one update's constants, shared by all its elements.
type stepCoeffs struct {
	b1, b2, stepSize, sqrtBc2, eps, decay float64
}

func (o *AdamW) coeffs(lr float64) stepCoeffs {
	bc1 := 1 - math.Pow(o.Beta1, float64(o.Step))
	bc2 := 1 - math.Pow(o.Beta2, float64(o.Step))
	return stepCoeffs{b1: o.Beta1, b2: o.Beta2, stepSize: lr / bc1, sqrtBc2: math.Sqrt(bc2), eps: o.Eps, decay: 1 - lr*o.WeightDecay}
}

// Dense updates every element of p with grad.
func (o *AdamW) Dense(p *Param, grad []float32, lr float64) error {
	if len(grad) != len(p.Data) {
		return fmt.Errorf("optim: %s: gradient has %d values, parameter %d", p.Name, len(grad), len(p.Data))
	}
	p.moments()
	o.update(p, 0, len(p.Data), grad, lr)
	return nil
}

// Rows updates only the listed rows of the rank-2 table p; grad holds one
// row of gradient per entry of rows. Rows must be distinct. Untouched rows
// keep their moments (lazy Adam, like torch SparseAdam) and get no decay.
func (o *AdamW) Rows(p *Param, rows []int32, grad []float32, lr float64) error {
	d := p.RowSize()
	if len(grad) != len(rows)*d {
		return fmt.Errorf("optim: %s: %d gradient values for %d rows of %d", p.Name, len(grad), len(rows), d)
	}
	n := int32(len(p.Data) / d)
	for _, r := range rows {
		if r < 0 || r >= n {
			return fmt.Errorf("optim: %s: row %d out of range [0,%d)", p.Name, r, n)
		}
	}
	p.moments()
	c := o.coeffs(lr)
	// Visit the rows in table order: the memory prefetcher then streams
	// the table and both moments instead of missing on every row (rows
	// arrive in first-seen order). Rows are distinct, so the cores update
	// disjoint memory.
	order := make([]uint64, len(rows))
	for i, r := range rows {
		order[i] = uint64(r)<<32 | uint64(i)
	}
	slices.Sort(order)
	parallel(len(rows), func(from, to int) {
		for _, o := range order[from:to] {
			r, i := int(o>>32), int(uint32(o))
			c.apply(p, r*d, grad[i*d:(i+1)*d])
		}
	})
	return nil
}

// parallel runs f over [0, n) in one contiguous block per core (blocks
// large enough to be worth a goroutine).
func parallel(n int, f func(from, to int)) { ParallelBlocks(n, 256, f) }

// ParallelBlocks runs f over [0, n) in contiguous blocks, one per core,
// each at least minBlock long (fewer goroutines when n is small), and
// returns when all are done. The split depends only on n and the core
// count, and callers write disjoint ranges, so results do not depend on
// scheduling.
func ParallelBlocks(n, minBlock int, f func(from, to int)) {
	w := min(runtime.GOMAXPROCS(0), max(1, n/minBlock))
	if w <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	step := (n + w - 1) / w
	for from := 0; from < n; from += step {
		wg.Add(1)
		go func(from, to int) {
			defer wg.Done()
			f(from, to)
		}(from, min(from+step, n))
	}
	wg.Wait()
}

func (o *AdamW) update(p *Param, from, to int, grad []float32, lr float64) {
	o.coeffs(lr).apply(p, from, grad[from:to])
}

// apply updates p[off:off+len(grad)] (four elements at a time with AVX2
// where available, bitwise the same as the scalar loop).
func (c stepCoeffs) apply(p *Param, off int, grad []float32) {
	decay := c.decay
	if p.NoDecay {
		decay = 1
	}
	n := len(grad)
	ms, vs, ws := p.M[off:off+n], p.V[off:off+n], p.Data[off:off+n]
	kc := kernelCoeffs{b1: c.b1, omb1: 1 - c.b1, b2: c.b2, omb2: 1 - c.b2, decay: decay, stepSize: c.stepSize, sqrtBc2: c.sqrtBc2, eps: c.eps}
	done := applyVector(ws, ms, vs, grad, &kc)
	scalarApply(ws[done:], ms[done:], vs[done:], grad[done:], &kc)
}

// scalarApply is torch.optim.AdamW's element update in float64.
func scalarApply(ws, ms, vs, grad []float32, c *kernelCoeffs) {
	b1, omb1, b2, omb2, decay, stepSize, sqrtBc2, eps := c.b1, c.omb1, c.b2, c.omb2, c.decay, c.stepSize, c.sqrtBc2, c.eps
	for j, g := range grad {
		gf := float64(g)
		m := b1*float64(ms[j]) + omb1*gf
		v := b2*float64(vs[j]) + omb2*gf*gf
		ms[j], vs[j] = float32(m), float32(v)
		w := float64(ws[j]) * decay
		w -= stepSize * m / (math.Sqrt(v)/sqrtBc2 + eps)
		ws[j] = float32(w)
	}
}
