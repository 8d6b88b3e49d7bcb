package cluster

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/xcbench/xcbench/core/ann/vecdot"
	"gonum.org/v1/gonum/blas/blas32"
)

// Options configure Balanced. Zero values take the defaults noted.
type Options struct {
	// NumClusters is the number of clusters wanted (<= 1: one cluster).
	NumClusters int
	// NoRound keeps NumClusters as given instead of rounding it up to the
	// next power of two as pyxclib does.
	NoRound bool
	// Tol stops a split when the objective improves by less (default 1e-4).
	Tol float64
	// MaxIter caps the rounds of one split (default 50; pyxclib has none).
	MaxIter int
	// Threads bounds the goroutines (default GOMAXPROCS).
	Threads int
	// Seed drives the centroid seeding.
	Seed uint64
}

// Target is the number of clusters Balanced aims for given n points.
func (o Options) Target(n int) int {
	t := max(o.NumClusters, 1)
	if !o.NoRound && t > 1 {
		t = 1 << bits.Len(uint(t-1))
	}
	return min(t, max(n, 1))
}

// chunk is the fixed row block of every parallel pass; fixing it (rather
// than deriving it from the thread count) keeps float sums reproducible.
const chunk = 8192

var impl = blas32.Implementation()

// pointRounds counts points scored over all 2-means rounds and rowsSummed
// the rows added into centroid sums, so the benchmark can turn time into
// streamed bytes.
var pointRounds, rowsSummed atomic.Int64

// node is one cluster: a range of the shared permutation plus its place in
// the tree (depth and left/right path bits), which seeds its split.
type node struct {
	idx   []int32
	depth int
	path  uint64
	// sum is the float64 sum of the normalised rows idx, known from the
	// parent's last round, so a split needs no extra pass to find it
	// (nil: compute it).
	sum []float64
}

// Balanced clusters the n row-major vectors of width dim and returns the
// clusters as lists of row ids in tree order (left subtree first). Zero
// rows are allowed: they score 0 against every centroid.
func Balanced(ctx context.Context, vecs []float32, n, dim int, opt Options) ([][]int32, error) {
	return BalancedSubset(ctx, vecs, n, dim, nil, opt)
}

// BalancedSubset clusters only the rows listed in ids (nil: all rows), so
// callers can skip rows (such as documents without labels) without copying
// the matrix. ids must be distinct and in range.
func BalancedSubset(ctx context.Context, vecs []float32, n, dim int, ids []int32, opt Options) ([][]int32, error) {
	if dim <= 0 || n < 0 || len(vecs) != n*dim {
		return nil, fmt.Errorf("cluster: %d values do not form %d rows of width %d", len(vecs), n, dim)
	}
	if opt.Tol <= 0 {
		opt.Tol = 1e-4
	}
	if opt.MaxIter <= 0 {
		opt.MaxIter = 50
	}
	if opt.Threads <= 0 {
		opt.Threads = runtime.GOMAXPROCS(0)
	}
	var perm []int32
	if ids == nil {
		perm = make([]int32, n)
		for i := range perm {
			perm[i] = int32(i)
		}
	} else {
		perm = slices.Clone(ids)
		for _, id := range perm {
			if id < 0 || int(id) >= n {
				return nil, fmt.Errorf("cluster: row id %d out of range [0,%d)", id, n)
			}
		}
		slices.Sort(perm) // every pass then reads rows in memory order
	}
	if len(perm) == 0 {
		return nil, nil
	}
	s := &splitter{vecs: vecs, dim: dim, opt: opt, inv: make([]float32, n), side: make([]uint8, n)}
	s.invNorms(n)
	target := opt.Target(len(perm))
	level := []node{{idx: perm}}
	for len(level) < target {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("cluster: %w", err)
		}
		split := s.chooseSplits(level, target)
		if len(split) == 0 {
			break // every cluster is a singleton
		}
		sums, err := s.splitAll(ctx, level, split)
		if err != nil {
			return nil, err
		}
		next := make([]node, 0, len(level)+len(split))
		for i, nd := range level {
			k, ok := slices.BinarySearch(split, i)
			if !ok {
				next = append(next, nd)
				continue
			}
			h := (len(nd.idx) + 1) / 2
			next = append(next,
				node{idx: nd.idx[:h], depth: nd.depth + 1, path: nd.path << 1, sum: sums[k][0]},
				node{idx: nd.idx[h:], depth: nd.depth + 1, path: nd.path<<1 | 1, sum: sums[k][1]})
		}
		level = next
	}
	out := make([][]int32, len(level))
	for i, nd := range level {
		out[i] = nd.idx
	}
	return out, nil
}

// chooseSplits picks which clusters of a level split: all of them while
// that does not overshoot target, else the largest ones (ties: tree order).
func (s *splitter) chooseSplits(level []node, target int) []int {
	var cand []int
	for i, nd := range level {
		if len(nd.idx) >= 2 {
			cand = append(cand, i)
		}
	}
	need := target - len(level)
	if len(cand) > need {
		slices.SortStableFunc(cand, func(a, b int) int { return len(level[b].idx) - len(level[a].idx) })
		cand = cand[:need]
		slices.Sort(cand)
	}
	return cand
}

type splitter struct {
	vecs []float32
	inv  []float32 // 1/||row|| (0 for zero rows)
	side []uint8   // each row's half in its split's previous round
	dim  int
	opt  Options
}

func (s *splitter) invNorms(n int) {
	parallelChunks(n, s.opt.Threads, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := s.vecs[i*s.dim : (i+1)*s.dim]
			if nrm := impl.Snrm2(s.dim, row, 1); nrm > 0 {
				s.inv[i] = 1 / nrm
			}
		}
	})
}

// splitAll splits level[i] for each i in which (sorted), with the threads
// shared out: many small splits run one per goroutine, few big ones get
// inner workers. It returns the row sums of both halves of each split.
func (s *splitter) splitAll(ctx context.Context, level []node, which []int) ([][2][]float64, error) {
	threads := s.opt.Threads
	inner := max(1, threads/len(which))
	outer := min(threads, len(which))
	work := make(chan int, len(which))
	for k := range which {
		work <- k
	}
	close(work)
	sums := make([][2][]float64, len(which))
	var wg sync.WaitGroup
	errs := make([]error, outer)
	for w := range outer {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := &scratch{}
			for k := range work {
				if err := ctx.Err(); err != nil {
					errs[w] = fmt.Errorf("cluster: %w", err)
					return
				}
				sums[k][0], sums[k][1] = s.split(level[which[k]], inner, sc)
			}
		}()
	}
	wg.Wait()
	return sums, errorsJoin(errs)
}

func errorsJoin(errs []error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

type scored struct {
	s  float32
	id int32
}

type scratch struct {
	pairs    []scored
	partials []float32 // per chunk sums, dim each
	moved    []bool    // per chunk: any row changed sides
	ones     []int32   // half-1 rows while partitioning
}

// split reorders nd.idx (ascending on entry) so its first ceil(m/2)
// entries are cluster 0, both halves ascending, and returns the sums of
// the normalised rows of both halves.
//
// Each round is one pass that scores every point against c1-c0 (the
// ranking key sim(x,c1)-sim(x,c0) of pyxclib), a linear-time selection of
// the lower half, and an update of the half-0 sum that touches only the
// points that changed sides since the previous round (after the first
// rounds, few do); the half-1 sum is the node total minus it.
func (s *splitter) split(nd node, workers int, sc *scratch) (sum0, sum1 []float64) {
	m := len(nd.idx)
	d := s.dim
	seed := s.opt.Seed ^ 0x9e3779b97f4a7c15*uint64(nd.depth+1)
	rng := rand.New(rand.NewPCG(seed, nd.path))
	a := rng.IntN(m)
	b := rng.IntN(m - 1)
	if b >= a {
		b++ // two distinct positions, as pyxclib's re-draw loop guarantees
	}
	c0 := make([]float32, d)
	c1 := make([]float32, d)
	diff := make([]float32, d)
	s.unit(c0, nd.idx[a])
	s.unit(c1, nd.idx[b])
	total := nd.sum
	if total == nil {
		total = s.sum(nd.idx, workers, sc)
	}
	for _, id := range nd.idx {
		s.side[id] = 1 // everything starts in half 1: sum0 = 0
	}
	sum0 = make([]float64, d)
	sum1 = make([]float64, d)
	if cap(sc.pairs) < m {
		sc.pairs = make([]scored, m)
	}
	pairs := sc.pairs[:m]
	h := (m + 1) / 2
	oldObj, newObj := -1e6, -2.0
	for it := 0; it < s.opt.MaxIter && newObj-oldObj >= s.opt.Tol; it++ {
		for j := range d {
			diff[j] = c1[j] - c0[j]
		}
		parallelChunks(m, workers, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				id := nd.idx[i]
				row := s.vecs[int(id)*d : (int(id)+1)*d]
				pairs[i] = scored{vecdot.Dot(row, diff) * s.inv[id], id}
			}
		})
		pointRounds.Add(int64(m))
		selectLow(pairs, h)
		s.moveSums(pairs, h, sum0, workers, sc)
		var n0, n1 float64
		for j := range d {
			sum1[j] = total[j] - sum0[j]
			n0 += sum0[j] * sum0[j]
			n1 += sum1[j] * sum1[j]
		}
		n0, n1 = math.Sqrt(n0), math.Sqrt(n1)
		for j := range d {
			c0[j], c1[j] = float32(safeDiv(sum0[j], n0)), float32(safeDiv(sum1[j], n1))
		}
		oldObj, newObj = newObj, (n0+n1)/float64(m)
	}
	s.partition(nd.idx, sc)
	return sum0, sum1
}

// partition stably moves the rows of half 0 before those of half 1, so
// both halves keep ascending row order and the next level's passes read
// memory forwards instead of in selection order.
func (s *splitter) partition(idx []int32, sc *scratch) {
	if cap(sc.ones) < len(idx) {
		sc.ones = make([]int32, len(idx))
	}
	ones := sc.ones[:0]
	k := 0
	for _, id := range idx {
		if s.side[id] == 0 {
			idx[k] = id
			k++
		} else {
			ones = append(ones, id)
		}
	}
	copy(idx[k:], ones)
}

// moveSums brings sum0 from the previous round's half 0 to the rows of
// pairs[:h] (the selected lower half), recording each row's side: rows
// that entered half 0 are added, rows that left it subtracted, in float32
// partials per fixed chunk of positions added in chunk order (so the
// result does not depend on the thread count).
func (s *splitter) moveSums(pairs []scored, h int, sum0 []float64, workers int, sc *scratch) {
	d := s.dim
	nch := (len(pairs) + chunk - 1) / chunk
	if cap(sc.partials) < nch*d {
		sc.partials = make([]float32, nch*d)
	}
	parts := sc.partials[:nch*d]
	if cap(sc.moved) < nch {
		sc.moved = make([]bool, nch)
	}
	moved := sc.moved[:nch]
	parallelChunks(len(pairs), workers, func(lo, hi int) {
		c := lo / chunk
		acc := parts[c*d : (c+1)*d]
		clear(acc)
		n := 0
		for i := lo; i < hi; i++ {
			id := pairs[i].id
			want := uint8(0)
			if i >= h {
				want = 1
			}
			if s.side[id] == want {
				continue
			}
			s.side[id] = want
			w := s.inv[id]
			if want == 1 {
				w = -w
			}
			impl.Saxpy(d, w, s.vecs[int(id)*d:(int(id)+1)*d], 1, acc, 1)
			n++
		}
		moved[c] = n > 0
		rowsSummed.Add(int64(n))
	})
	for c := range nch {
		if !moved[c] {
			continue
		}
		for j, x := range parts[c*d : (c+1)*d] {
			sum0[j] += float64(x)
		}
	}
}

func safeDiv(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// unit writes row id, normalised, into dst.
func (s *splitter) unit(dst []float32, id int32) {
	row := s.vecs[int(id)*s.dim : (int(id)+1)*s.dim]
	for j, x := range row {
		dst[j] = x * s.inv[id]
	}
}

// sum returns the float64 sum of the normalised rows idx: float32 partials
// per fixed chunk (SIMD axpy), added in chunk order.
func (s *splitter) sum(idx []int32, workers int, sc *scratch) []float64 {
	d := s.dim
	nch := (len(idx) + chunk - 1) / chunk
	if cap(sc.partials) < nch*d {
		sc.partials = make([]float32, nch*d)
	}
	parts := sc.partials[:nch*d]
	clear(parts)
	parallelChunks(len(idx), workers, func(lo, hi int) {
		acc := parts[(lo/chunk)*d : (lo/chunk+1)*d]
		for _, id := range idx[lo:hi] {
			impl.Saxpy(d, s.inv[id], s.vecs[int(id)*d:(int(id)+1)*d], 1, acc, 1)
		}
	})
	rowsSummed.Add(int64(len(idx)))
	out := make([]float64, d)
	for c := range nch {
		for j, x := range parts[c*d : (c+1)*d] {
			out[j] += float64(x)
		}
	}
	return out
}

// parallelChunks calls f on the fixed chunks of [0,n) with up to workers
// goroutines (inline when one suffices).
func parallelChunks(n, workers int, f func(lo, hi int)) {
	nch := (n + chunk - 1) / chunk
	if workers <= 1 || nch <= 1 {
		for lo := 0; lo < n; lo += chunk {
			f(lo, min(lo+chunk, n))
		}
		return
	}
	var wg sync.WaitGroup
	next := make(chan int, nch)
	for c := range nch {
		next <- c
	}
	close(next)
	for range min(workers, nch) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range next {
				f(c*chunk, min((c+1)*chunk, n))
			}
		}()
	}
	wg.Wait()
}

// less orders by score, then id, so ties split the same way every run.
func less(a, b scored) bool {
	if a.s != b.s {
		return a.s < b.s
	}
	return a.id < b.id
}

// selectLow partially sorts p so its first k entries are the k lowest
// (quickselect, median-of-three pivots; O(len) expected).
func selectLow(p []scored, k int) {
	lo, hi := 0, len(p)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		if less(p[mid], p[lo]) {
			p[mid], p[lo] = p[lo], p[mid]
		}
		if less(p[hi], p[lo]) {
			p[hi], p[lo] = p[lo], p[hi]
		}
		if less(p[hi], p[mid]) {
			p[hi], p[mid] = p[mid], p[hi]
		}
		pivot := p[mid]
		i, j := lo, hi
		for i <= j {
			for less(p[i], pivot) {
				i++
			}
			for less(pivot, p[j]) {
				j--
			}
			if i <= j {
				p[i], p[j] = p[j], p[i]
				i++
				j--
			}
		}
		// Now p[lo..j] <= pivot <= p[i..hi].
		switch {
		case k-1 <= j:
			hi = j
		case k-1 >= i:
			lo = i
		default:
			return
		}
	}
}
