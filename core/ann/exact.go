package ann

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// Exact is a brute-force index: every query is scored against every vector.
type Exact struct {
	vecs []float32 // normalised non-zero rows
	ids  []int32   // original id of each stored row
	n    int       // rows given, zero ones included
	dim  int
	// Threads bounds the goroutines of Search (default GOMAXPROCS).
	Threads int
}

// Query and base block sizes: a 64x4096 score tile (1 MiB) stays in L2
// while the base block (4096 x dim) is streamed once per query block.
const (
	exactQBlock = 64
	exactNBlock = 4096
)

// NewExact indexes n row-major vectors of width dim. It panics on a shape
// mismatch, like a slice index would; Build returns an error instead.
func NewExact(vecs []float32, n, dim int) *Exact {
	if err := checkShape(vecs, n, dim, "vectors"); err != nil {
		panic(err)
	}
	v, ids := normalized(vecs, n, dim)
	return &Exact{vecs: v, ids: ids, n: n, dim: dim}
}

// Len is the number of non-zero vectors indexed.
func (e *Exact) Len() int { return len(e.ids) }

// Dim is the vector width.
func (e *Exact) Dim() int { return e.dim }

// Search scores every query against every vector.
func (e *Exact) Search(ctx context.Context, queries []float32, nq, k int) ([]int32, []float32, error) {
	if err := checkShape(queries, nq, e.dim, "queries"); err != nil {
		return nil, nil, err
	}
	if k < 0 {
		return nil, nil, fmt.Errorf("ann: k = %d", k)
	}
	ids := make([]int32, nq*k)
	scores := make([]float32, nq*k)
	if k == 0 || nq == 0 {
		return ids, scores, nil
	}
	threads := e.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	nBlocks := (nq + exactQBlock - 1) / exactQBlock
	threads = min(threads, nBlocks)
	var (
		wg   sync.WaitGroup
		next = make(chan int, nBlocks)
	)
	for b := range nBlocks {
		next <- b
	}
	close(next)
	errs := make([]error, threads)
	for w := range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := make([]float32, exactQBlock*e.dim)
			tile := make([]float32, exactQBlock*exactNBlock)
			heaps := make([]*Heap, exactQBlock)
			for i := range heaps {
				heaps[i] = NewHeap(k)
			}
			for b := range next {
				if err := ctx.Err(); err != nil {
					errs[w] = err
					return
				}
				lo := b * exactQBlock
				hi := min(lo+exactQBlock, nq)
				e.searchBlock(queries[lo*e.dim:hi*e.dim], hi-lo, q, tile, heaps)
				for i := lo; i < hi; i++ {
					heaps[i-lo].Drain(ids[i*k:(i+1)*k], scores[i*k:(i+1)*k])
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, nil, fmt.Errorf("ann: exact search: %w", err)
		}
	}
	return ids, scores, nil
}

// searchBlock pushes the scores of nq (<= exactQBlock) queries against all
// vectors into heaps.
func (e *Exact) searchBlock(queries []float32, nq int, q, tile []float32, heaps []*Heap) {
	d := e.dim
	for i := 0; i < nq; i++ {
		normalizeInto(q[i*d:(i+1)*d], queries[i*d:(i+1)*d])
	}
	impl := blas32.Implementation()
	n := len(e.ids)
	for lo := 0; lo < n; lo += exactNBlock {
		nb := min(exactNBlock, n-lo)
		// tile(nq x nb) = q(nq x d) * V[lo:lo+nb](nb x d)^T
		impl.Sgemm(blas.NoTrans, blas.Trans, nq, nb, d, 1, q, d, e.vecs[lo*d:(lo+nb)*d], d, 0, tile, nb)
		for i := 0; i < nq; i++ {
			h := heaps[i]
			row := tile[i*nb : (i+1)*nb]
			for j, s := range row {
				if s >= h.Min() {
					h.Push(e.ids[lo+j], s)
				}
			}
		}
	}
}
