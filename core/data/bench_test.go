package data

import (
	"path/filepath"
	"testing"

	"github.com/xcbench/xcbench/core/tokenize"
)

// BenchmarkOpenLFText reads cooking's texts and label files (cache off,
// so tokenisation is included); reports points/s.
func BenchmarkOpenLFText(b *testing.B) {
	dir := sharedData(b, "cooking")
	var pts int
	for b.Loop() {
		ds, err := Open(dir, Options{CacheDir: "-"})
		if err != nil {
			b.Fatal(err)
		}
		pts = ds.TrainY.NRows + ds.TestY.NRows
	}
	b.ReportMetric(float64(pts*b.N)/b.Elapsed().Seconds(), "points/s")
}

// BenchmarkReadSparseLabels reads trn_X_Y.txt alone; reports points/s.
func BenchmarkReadSparseLabels(b *testing.B) {
	p := filepath.Join(sharedData(b, "cooking"), "trn_X_Y.txt")
	var n int
	for b.Loop() {
		m, err := ReadSparseFile(p)
		if err != nil {
			b.Fatal(err)
		}
		n = m.NRows
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "points/s")
}

// BenchmarkVocabTokenize builds the word vocabulary and tokenises all
// cooking training texts; reports tokens/s.
func BenchmarkVocabTokenize(b *testing.B) {
	texts, err := ReadLines(filepath.Join(sharedData(b, "cooking"), "trn_X.txt"))
	if err != nil {
		b.Fatal(err)
	}
	var toks int
	for b.Loop() {
		v := tokenize.BuildVocab(texts, tokenize.VocabOptions{Lowercase: true})
		toks = 0
		for _, s := range encodeAll(v, texts, 0) {
			toks += len(s)
		}
	}
	b.ReportMetric(float64(toks*b.N)/b.Elapsed().Seconds(), "tokens/s")
}
