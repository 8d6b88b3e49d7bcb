package synth

import (
	"context"
	"testing"
)

// BenchmarkGenerate10k builds a 10k-point dataset in memory, featurised.
func BenchmarkGenerate10k(b *testing.B) {
	for b.Loop() {
		if _, err := Generate(Config{Labels: 2000, TrainDocs: 10000, TestDocs: 2000, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(12000*b.N)/b.Elapsed().Seconds(), "points/s")
}

// BenchmarkStream1M writes 1M training points over 100k labels to disk
// (slow: run with -benchtime=1x).
func BenchmarkStream1M(b *testing.B) {
	for b.Loop() {
		if err := Stream(context.Background(), b.TempDir(), Config{Labels: 100_000, TrainDocs: 1_000_000, TestDocs: 1000, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(1_001_000*b.N)/b.Elapsed().Seconds(), "points/s")
}
