package batching

import (
	"math"
	"slices"
	"strconv"
	"testing"

	"github.com/xcbench/xcbench/core/sparse"
	"github.com/xcbench/xcbench/samplers/batching/batchingtest"
	"gonum.org/v1/gonum/blas/blas32"
)

// serialHardness is InBatchHardness as it was first written: one document
// after another, norms recomputed per pair, a full sort per document. The
// parallel version must return the same bits.
func serialHardness(docs, labels []float32, dim int, y *sparse.CSR, order, positives []int32, batchSize, topK, maxDocs int) float64 {
	impl := blas32.Implementation()
	norm := func(v []float32) float32 { return impl.Snrm2(dim, v, 1) }
	var total float64
	var count int
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
			var sims []float32
			for _, o := range batch {
				if o == d {
					continue
				}
				p := positives[o]
				if p < 0 || y.Has(int(d), p) {
					continue
				}
				ov := docs[int(o)*dim : (int(o)+1)*dim]
				if labels != nil {
					ov = labels[int(p)*dim : (int(p)+1)*dim]
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
		return 0
	}
	return total / float64(count)
}

func TestInBatchHardnessMatchesSerial(t *testing.T) {
	p := batchingtest.NewPlanted(3, 500, 60, 8, 16)
	pos := Positives(RNG(3, 0, "p"), p.DS.TrainY)
	order := Shuffled(RNG(3, 0, "o"), LabeledDocs(p.DS.TrainY))
	// Ties: a duplicated label vector and a zero one (never scored).
	lbls := slices.Clone(p.Lbls)
	copy(lbls[1*p.Dim:2*p.Dim], lbls[0:p.Dim])
	clear(lbls[2*p.Dim : 3*p.Dim])
	for _, c := range []struct {
		labels              []float32
		batch, topK, maxDoc int
	}{
		{nil, 32, 10, 1000}, {lbls, 32, 10, 1000}, {lbls, 64, 3, 250}, {lbls, 7, 10, 100},
		{nil, 500, 1, 10000}, {lbls, 1, 10, 50}, {lbls, 16, 10, 0},
	} {
		got := InBatchHardness(p.Docs, c.labels, p.Dim, p.DS.TrainY, order, pos, c.batch, c.topK, c.maxDoc)
		want := serialHardness(p.Docs, c.labels, p.Dim, p.DS.TrainY, order, pos, c.batch, c.topK, c.maxDoc)
		if math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("labels=%v batch %d top %d max %d: %v, serial %v", c.labels != nil, c.batch, c.topK, c.maxDoc, got, want)
		}
	}
}

func TestInsertTop(t *testing.T) {
	var top []float32
	for _, x := range []float32{0.1, 0.5, 0.5, -1, 0.9, 0.2, 0.5} {
		top = insertTop(top, 3, x)
	}
	if !slices.Equal(top, []float32{0.9, 0.5, 0.5}) {
		t.Fatalf("top %v", top)
	}
}

// BenchmarkInBatchHardness is the refresh diagnostic at debdeps' scale
// (16,384 scored documents, dim 128) for the batch sizes the debdeps runs
// use; -bench compares it with the serial version it replaced.
func BenchmarkInBatchHardness(b *testing.B) {
	p := batchingtest.NewPlanted(1, 20000, 2000, 8, 128)
	pos := Positives(RNG(1, 0, "p"), p.DS.TrainY)
	order := Shuffled(RNG(1, 0, "o"), LabeledDocs(p.DS.TrainY))
	for _, bs := range []int{512, 2048} {
		for _, impl := range []struct {
			name string
			f    func([]float32, []float32, int, *sparse.CSR, []int32, []int32, int, int, int) float64
		}{{"parallel", InBatchHardness}, {"serial", serialHardness}} {
			b.Run(impl.name+"-"+strconv.Itoa(bs), func(b *testing.B) {
				for b.Loop() {
					impl.f(p.Docs, p.Lbls, p.Dim, p.DS.TrainY, order, pos, bs, 10, 16384)
				}
			})
		}
	}
}
