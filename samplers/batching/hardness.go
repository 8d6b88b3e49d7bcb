package batching

import (
	"runtime"
	"sync"

	"github.com/xcbench/xcbench/core/sparse"
	"gonum.org/v1/gonum/blas/blas32"
)

// InBatchHardness measures how hard a batch order's in-batch negatives are:
// for each document, the mean cosine to the top-k (k = topK) other in-batch
// items that are not positives of it, averaged over documents. The items
// are the other documents' sampled positive labels when labels is non-nil
// (the negatives a DPR/NGAME loss sees), else the other documents
// themselves (a proxy when only document embeddings are at hand). It is 0
// when no pair can be scored. Only the
// first maxDocs documents of order are scored, to bound the B x B cost.
//
// It is a diagnostic inside NGAME's and TAS-B's refresh, so its time counts
// as theirs: documents are scored in parallel with each vector's norm
// computed once and the top k kept by insertion rather than a sort of the
// whole batch. Each document's top k are summed in descending order and
// the documents in order, so the result is bit-identical to scoring them
// one by one with a full sort (TestInBatchHardnessMatchesSerial).
func InBatchHardness(docs, labels []float32, dim int, y *sparse.CSR, order, positives []int32, batchSize, topK, maxDocs int) float64 {
	impl := blas32.Implementation()
	n := min(len(order), maxDocs)
	if n <= 0 || batchSize <= 0 || topK <= 0 {
		return 0
	}
	// Norms of every vector the scored batches touch, once each.
	unset := func(rows int) []float32 {
		out := make([]float32, rows)
		for i := range out {
			out[i] = -1 // norms are never negative
		}
		return out
	}
	docNorm := unset(len(docs) / dim)
	itemNorm := docNorm
	if labels != nil {
		itemNorm = unset(len(labels) / dim)
	}
	last := min(len(order), (n+batchSize-1)/batchSize*batchSize)
	for _, d := range order[:last] {
		if docNorm[d] < 0 {
			docNorm[d] = impl.Snrm2(dim, docs[int(d)*dim:(int(d)+1)*dim], 1)
		}
		if p := positives[d]; labels != nil && p >= 0 && itemNorm[p] < 0 {
			itemNorm[p] = impl.Snrm2(dim, labels[int(p)*dim:(int(p)+1)*dim], 1)
		}
	}
	vals := make([]float64, n)
	scored := make([]bool, n)
	workers := min(runtime.GOMAXPROCS(0), n)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			top := make([]float32, 0, topK)
			for i := lo; i < hi; i++ {
				b0 := i / batchSize * batchSize
				batch := order[b0:min(b0+batchSize, len(order))]
				d := order[i]
				dn := docNorm[d]
				if dn == 0 {
					continue
				}
				dv := docs[int(d)*dim : (int(d)+1)*dim]
				top = top[:0]
				for _, o := range batch {
					if o == d {
						continue
					}
					p := positives[o]
					if p < 0 || y.Has(int(d), p) {
						continue // a positive of d is not a negative
					}
					key, vecs := o, docs
					if labels != nil {
						key, vecs = p, labels
					}
					on := itemNorm[key]
					if on == 0 {
						continue
					}
					top = insertTop(top, topK, impl.Sdot(dim, dv, 1, vecs[int(key)*dim:(int(key)+1)*dim], 1)/(dn*on))
				}
				if len(top) == 0 {
					continue
				}
				var s float64
				for _, x := range top {
					s += float64(x)
				}
				vals[i], scored[i] = s/float64(len(top)), true
			}
		}(w*n/workers, (w+1)*n/workers)
	}
	wg.Wait()
	var total float64
	var count int
	for i, v := range vals {
		if scored[i] {
			total += v
			count++
		}
	}
	if count == 0 {
		return 0 // no scorable pair; NaN would not survive JSON
	}
	return total / float64(count)
}

// insertTop keeps top as the k largest values seen, in descending order.
func insertTop(top []float32, k int, x float32) []float32 {
	if len(top) == k && x <= top[k-1] {
		return top
	}
	if len(top) < k {
		top = append(top, x)
	} else {
		top[k-1] = x
	}
	for j := len(top) - 1; j > 0 && top[j] > top[j-1]; j-- {
		top[j], top[j-1] = top[j-1], top[j]
	}
	return top
}
