package transformer

import (
	"context"
	"fmt"
	"testing"

	"github.com/xcbench/xcbench/encoders/siamese/siamesetest"
)

// BenchmarkStep times one training step of a small transformer (D=64,
// 4 heads, FFN 128, S=32, InfoNCE) after compilation.
//
//	go test -run '^$' -bench BenchmarkStep -benchtime 5x ./encoders/transformer
func BenchmarkStep(b *testing.B) {
	for _, bc := range []struct{ batch, layers int }{{64, 1}, {256, 1}, {64, 2}} {
		b.Run(fmt.Sprintf("B=%d/L=%d", bc.batch, bc.layers), func(b *testing.B) {
			ds := siamesetest.BenchData(30000, 2000, 4*bc.batch, 32, 1)
			enc := configured(b, ds, 1, fmt.Sprintf(`{"dim": 64, "layers": %d, "heads": 4, "ffn": 128, "max_len": 32, "batch_size": %d}`, bc.layers, bc.batch))
			bs := siamesetest.Batches(ds.TrainY, bc.batch, 1, 0)
			ctx := context.Background()
			if _, err := enc.TrainStep(ctx, bs[0]); err != nil {
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
