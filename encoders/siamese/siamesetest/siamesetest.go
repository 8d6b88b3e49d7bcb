package siamesetest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/core/sparse"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// PlantedConfig sizes the planted dataset.
type PlantedConfig struct {
	Vocab, Labels, Train, Test int
	Seed                       uint64
}

// Planted builds the dataset in memory. Vocabulary [0, V/2) holds label
// name tokens (label l is tokens 2l, 2l+1), [V/2, V) their synonyms
// (t + V/2), which only documents use. Each document has one or two labels
// and contains most of their synonyms plus two uniform noise tokens.
func Planted(c PlantedConfig) *data.Dataset {
	if c.Vocab < 4*c.Labels {
		panic(fmt.Sprintf("siamesetest: vocab %d too small for %d labels", c.Vocab, c.Labels))
	}
	r := rand.New(rand.NewPCG(c.Seed, 99))
	half := int32(c.Vocab / 2)
	vocab := make([]string, c.Vocab)
	tokVocab := []string{"[PAD]", "[UNK]"}
	for i := range vocab {
		vocab[i] = fmt.Sprintf("w%d", i)
		tokVocab = append(tokVocab, vocab[i])
	}
	labelRows := make([][]int32, c.Labels)
	labelText := make([]string, c.Labels)
	for l := range c.Labels {
		labelRows[l] = []int32{int32(2 * l), int32(2*l + 1)}
		labelText[l] = vocab[2*l] + " " + vocab[2*l+1]
	}
	docs := func(n int) (x, y *sparse.CSR, tok [][]int32) {
		xr := make([][]int32, n)
		yr := make([][]int32, n)
		tok = make([][]int32, n)
		for i := range n {
			l1 := int32(r.IntN(c.Labels))
			labs := []int32{l1}
			if r.Float64() < 0.3 {
				if l2 := int32(r.IntN(c.Labels)); l2 != l1 {
					labs = append(labs, l2)
				}
			}
			seen := map[int32]bool{}
			var row []int32
			add := func(t int32) {
				if !seen[t] {
					seen[t] = true
					row = append(row, t)
				}
			}
			for _, l := range labs {
				for j, t := range labelRows[l] {
					if j == 0 || r.Float64() < 0.8 {
						add(t + half)
					}
				}
			}
			add(int32(r.IntN(c.Vocab)))
			add(int32(r.IntN(c.Vocab)))
			tok[i] = make([]int32, len(row))
			for j, t := range row {
				tok[i][j] = t + 2
			}
			xr[i] = sortedCopy(row)
			yr[i] = sortedCopy(labs)
		}
		return mustRows(c.Vocab, xr), mustRows(c.Labels, yr), tok
	}
	ds := &data.Dataset{Name: "planted", Format: "synthetic", NumLabels: c.Labels, Vocab: vocab, TokVocab: tokVocab}
	ds.TrainX, ds.TrainY, ds.TrainTok = docs(c.Train)
	ds.TestX, ds.TestY, ds.TestTok = docs(c.Test)
	ds.LabelX = mustRows(c.Vocab, labelRows)
	ds.LabelText = labelText
	ds.LabelTok = make([][]int32, c.Labels)
	for l, row := range labelRows {
		ds.LabelTok[l] = []int32{row[0] + 2, row[1] + 2}
	}
	ds.PropA, ds.PropB = 0.55, 1.5
	return ds
}

func sortedCopy(a []int32) []int32 {
	out := append([]int32(nil), a...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func mustRows(ncols int, rows [][]int32) *sparse.CSR {
	m, err := sparse.FromRows(ncols, rows)
	if err != nil {
		panic(err)
	}
	return m
}

// Batches returns one epoch of random in-batch batches: the training
// documents with at least one label, shuffled, each with a uniformly drawn
// positive, cut into chunks of size b (the last one ragged).
func Batches(trainY *sparse.CSR, b int, seed uint64, epoch int) []sdk.Batch {
	r := rand.New(rand.NewPCG(seed, uint64(epoch)+1))
	var docs []int32
	for i := range trainY.NRows {
		if trainY.RowLen(i) > 0 {
			docs = append(docs, int32(i))
		}
	}
	r.Shuffle(len(docs), func(i, j int) { docs[i], docs[j] = docs[j], docs[i] })
	var out []sdk.Batch
	for from := 0; from < len(docs); from += b {
		chunk := docs[from:min(from+b, len(docs))]
		bt := sdk.Batch{Docs: chunk, Positives: make([]int32, len(chunk))}
		for i, d := range chunk {
			labs, _ := trainY.Row(int(d))
			bt.Positives[i] = labs[r.IntN(len(labs))]
		}
		out = append(out, bt)
	}
	return out
}

// PrecisionAt1 encodes the test documents and all labels and returns the
// fraction of test documents (with at least one label) whose nearest label
// by cosine is relevant.
func PrecisionAt1(ctx context.Context, enc sdk.Encoder, testY *sparse.CSR) (float64, error) {
	docs, err := enc.Encode(ctx, sdk.SplitTest, nil)
	if err != nil {
		return 0, err
	}
	labs, err := enc.Encode(ctx, sdk.SplitLabels, nil)
	if err != nil {
		return 0, err
	}
	hits, n := 0, 0
	for i := range docs.Rows {
		if testY.RowLen(i) == 0 {
			continue
		}
		n++
		best, bestS := -1, float32(math.Inf(-1))
		q := docs.Row(i)
		for l := range labs.Rows {
			var s float32
			for k, v := range labs.Row(l) {
				s += v * q[k]
			}
			if s > bestS {
				best, bestS = l, s
			}
		}
		if testY.Has(i, int32(best)) {
			hits++
		}
	}
	return float64(hits) / float64(max(n, 1)), nil
}

// DataDir returns the shared real-data folder ($XCBENCH_DATA, else
// ../shared/data next to the module root) and whether it exists.
func DataDir() (string, bool) {
	if d := os.Getenv("XCBENCH_DATA"); d != "" {
		_, err := os.Stat(d)
		return d, err == nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			d := filepath.Join(dir, "..", "shared", "data")
			_, err := os.Stat(d)
			return d, err == nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}
