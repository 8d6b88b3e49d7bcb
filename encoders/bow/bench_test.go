package bow

import (
	"context"
	"fmt"
	"testing"

	"github.com/xcbench/xcbench/encoders/siamese/siamesetest"
)

// BenchmarkStep times one bow training step (S=32 tokens per doc, D=128,
// triplet top-10) after compilation, at two batch sizes and vocabularies,
// with each engine: thanks to row-sparse updates the vocabulary should not
// matter.
//
//	go test -run '^$' -bench BenchmarkStep -benchtime 20x ./encoders/bow
func BenchmarkStep(b *testing.B) {
	for _, bc := range []struct {
		batch, vocab int
		engine       string
	}{{256, 1000, "graph"}, {256, 50000, "graph"}, {1024, 50000, "graph"}, {256, 1000, "fused"}, {256, 50000, "fused"}, {1024, 50000, "fused"}} {
		b.Run(fmt.Sprintf("%s/B=%d/V=%d", bc.engine, bc.batch, bc.vocab), func(b *testing.B) {
			ds := siamesetest.BenchData(bc.vocab, 2000, 4*bc.batch, 32, 1)
			enc := configured(b, ds, 1, fmt.Sprintf(`{"dim": 128, "batch_size": %d, "max_tokens": 32, "engine": %q}`, bc.batch, bc.engine))
			bs := siamesetest.Batches(ds.TrainY, bc.batch, 1, 0)
			ctx := context.Background()
			if _, err := enc.TrainStep(ctx, bs[0]); err != nil { // compile
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := range b.N {
				if _, err := enc.TrainStep(ctx, bs[i%len(bs)]); err != nil {
					b.Fatal(err)
				}
			}
			sec := b.Elapsed().Seconds()
			b.ReportMetric(float64(b.N)/sec, "steps/s")
			b.ReportMetric(float64(b.N*bc.batch)/sec, "pairs/s")
		})
	}
}

// BenchmarkEncode times encoding 4096 documents (S=32, D=128).
func BenchmarkEncode(b *testing.B) {
	ds := siamesetest.BenchData(50000, 2000, 4096, 32, 1)
	enc := configured(b, ds, 1, `{"dim": 128, "encode_batch": 1024, "max_tokens": 32}`)
	ctx := context.Background()
	if _, err := enc.Encode(ctx, "train", nil); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := enc.Encode(ctx, "train", nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*4096)/b.Elapsed().Seconds(), "items/s")
}
