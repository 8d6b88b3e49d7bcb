package batching

import (
	"slices"

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
func InBatchHardness(docs, labels []float32, dim int, y *sparse.CSR, order, positives []int32, batchSize, topK, maxDocs int) float64 {
	impl := blas32.Implementation()
	norm := func(v []float32) float32 { return impl.Snrm2(dim, v, 1) }
	var total float64
	var count int
	sims := make([]float32, 0, batchSize)
	for lo := 0; lo < len(order) && lo < maxDocs; lo += batchSize {
		batch := order[lo:min(lo+batchSize, len(order))]
		for i, d := range batch {
			if lo+i >= maxDocs {
				break
			}
			dv := docs[int(d)*dim : (int(d)+1)*dim]
			dn := norm(dv)
			if dn == 0 {
				continue
			}
			sims = sims[:0]
			for _, o := range batch {
				if o == d {
					continue
				}
				p := positives[o]
				if p < 0 || y.Has(int(d), p) {
					continue // a positive of d is not a negative
				}
				var ov []float32
				if labels != nil {
					ov = labels[int(p)*dim : (int(p)+1)*dim]
				} else {
					ov = docs[int(o)*dim : (int(o)+1)*dim]
				}
				on := norm(ov)
				if on == 0 {
					continue
				}
				sims = append(sims, impl.Sdot(dim, dv, 1, ov, 1)/(dn*on))
			}
			if len(sims) == 0 {
				continue
			}
			slices.SortFunc(sims, func(a, b float32) int {
				switch {
				case a > b:
					return -1
				case a < b:
					return 1
				}
				return 0
			})
			var s float64
			k := min(topK, len(sims))
			for _, x := range sims[:k] {
				s += float64(x)
			}
			total += s / float64(k)
			count++
		}
	}
	if count == 0 {
		return 0 // no scorable pair; NaN would not survive JSON
	}
	return total / float64(count)
}
