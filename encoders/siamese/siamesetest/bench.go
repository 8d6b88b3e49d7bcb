package siamesetest

import (
	"fmt"
	"math/rand/v2"

	"github.com/xcbench/xcbench/core/data"
)

// BenchData builds a random dataset shaped like a short-text XC set for
// timing: docs of docLen distinct tokens and labels of 4 tokens drawn from
// a vocabulary of size vocab, one to three labels per doc. Token sequences
// are filled too, so both encoders can use it.
func BenchData(vocab, labels, docs, docLen int, seed uint64) *data.Dataset {
	r := rand.New(rand.NewPCG(seed, 5))
	row := func(n int) []int32 {
		seen := map[int32]bool{}
		var out []int32
		for len(out) < n {
			t := int32(r.IntN(vocab))
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
		return sortedCopy(out)
	}
	tok := func(rows [][]int32) [][]int32 {
		out := make([][]int32, len(rows))
		for i, rw := range rows {
			out[i] = make([]int32, len(rw))
			for j, t := range rw {
				out[i][j] = t + 2
			}
		}
		return out
	}
	xr := make([][]int32, docs)
	yr := make([][]int32, docs)
	for i := range docs {
		xr[i] = row(docLen)
		seen := map[int32]bool{}
		for range 1 + r.IntN(3) {
			seen[int32(r.IntN(labels))] = true
		}
		for l := range seen {
			yr[i] = append(yr[i], l)
		}
		yr[i] = sortedCopy(yr[i])
	}
	lr := make([][]int32, labels)
	for l := range lr {
		lr[l] = row(4)
	}
	v := make([]string, vocab)
	tv := []string{"[PAD]", "[UNK]"}
	for i := range v {
		v[i] = fmt.Sprintf("w%d", i)
		tv = append(tv, v[i])
	}
	ds := &data.Dataset{Name: "bench", Format: "synthetic", NumLabels: labels, Vocab: v, TokVocab: tv}
	ds.TrainX, ds.TrainY, ds.LabelX = mustRows(vocab, xr), mustRows(labels, yr), mustRows(vocab, lr)
	ds.TestX, ds.TestY = ds.TrainX, ds.TrainY
	ds.TrainTok, ds.LabelTok = tok(xr), tok(lr)
	ds.TestTok = ds.TrainTok
	return ds
}
