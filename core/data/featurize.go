package data

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/xcbench/xcbench/core/sparse"
	"github.com/xcbench/xcbench/core/tokenize"
)

// Featurize fills the feature matrices and token sequences of a dataset
// that has texts (TrainText, TestText, LabelText) from the options:
//   - Vocab is a word vocabulary built from the training documents and the
//     label texts (never the test documents), with MinCount/MaxVocab/
//     Lowercase; TrainX/TestX/LabelX are word counts over it, the reserved
//     pad and OOV ids never counted.
//   - TrainTok/TestTok/LabelTok come from opts.Tokenizer: "word" reuses
//     Vocab; "wordpiece" loads VocabFile and adds [CLS]/[SEP]; "npy" loads
//     the reference {trn_doc,tst_doc,lbl}_input_ids.npy from ds.Dir.
//
// Open calls it (through the cache); synth datasets call it directly.
func Featurize(ds *Dataset, opts Options) error {
	opts = opts.withDefaults()
	lower := opts.lower()
	all := make([]string, 0, len(ds.TrainText)+len(ds.LabelText))
	all = append(append(all, ds.TrainText...), ds.LabelText...)
	v := tokenize.BuildVocab(all, tokenize.VocabOptions{MinCount: opts.MinCount, MaxSize: opts.MaxVocab, Lowercase: lower})
	ds.Vocab = v.Words
	var err error
	if ds.TrainX, err = countMatrix(v, ds.TrainText); err != nil {
		return err
	}
	if ds.TestX, err = countMatrix(v, ds.TestText); err != nil {
		return err
	}
	if ds.LabelX, err = countMatrix(v, ds.LabelText); err != nil {
		return err
	}
	switch opts.Tokenizer {
	case "", "word":
		ds.TokVocab = v.Words
		ds.TrainTok = encodeAll(v, ds.TrainText, opts.MaxLen)
		ds.TestTok = encodeAll(v, ds.TestText, opts.MaxLen)
		ds.LabelTok = encodeAll(v, ds.LabelText, opts.MaxLen)
	case "wordpiece":
		if opts.VocabFile == "" {
			return fmt.Errorf("data: tokenizer wordpiece needs vocab_file")
		}
		wp, err := tokenize.LoadWordPiece(opts.VocabFile, lower)
		if err != nil {
			return fmt.Errorf("data: %w", err)
		}
		wp.AddSpecial = true
		ds.TokVocab = wp.Vocabulary()
		ds.TrainTok = encodeAll(wp, ds.TrainText, opts.MaxLen)
		ds.TestTok = encodeAll(wp, ds.TestText, opts.MaxLen)
		ds.LabelTok = encodeAll(wp, ds.LabelText, opts.MaxLen)
	case "npy":
		if ds.TrainTok, err = readNpyTokens(ds.Dir, "trn_doc", opts.MaxLen); err != nil {
			return err
		}
		if ds.TestTok, err = readNpyTokens(ds.Dir, "tst_doc", opts.MaxLen); err != nil {
			return err
		}
		if ds.LabelTok, err = readNpyTokens(ds.Dir, "lbl", opts.MaxLen); err != nil {
			return err
		}
		if len(ds.TrainTok) != len(ds.TrainText) || len(ds.TestTok) != len(ds.TestText) || len(ds.LabelTok) != len(ds.LabelText) {
			return fmt.Errorf("data: %s: npy token arrays have %d/%d/%d rows, texts %d/%d/%d", ds.Dir,
				len(ds.TrainTok), len(ds.TestTok), len(ds.LabelTok), len(ds.TrainText), len(ds.TestText), len(ds.LabelText))
		}
		if opts.VocabFile != "" {
			wp, err := tokenize.LoadWordPiece(opts.VocabFile, lower)
			if err != nil {
				return fmt.Errorf("data: %w", err)
			}
			ds.TokVocab = wp.Vocabulary()
		}
	default:
		return fmt.Errorf("data: unknown tokenizer %q (want word, wordpiece or npy)", opts.Tokenizer)
	}
	return nil
}

// encodeAll tokenises in parallel; order is preserved so results do not
// depend on the worker count.
func encodeAll(t tokenize.Tokenizer, texts []string, maxLen int) [][]int32 {
	out := make([][]int32, len(texts))
	parallelFor(len(texts), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			out[i] = t.Encode(texts[i], maxLen)
		}
	})
	return out
}

func countMatrix(v *tokenize.Vocab, texts []string) (*sparse.CSR, error) {
	rows := make([][]sparse.Entry, len(texts))
	parallelFor(len(texts), func(lo, hi int) {
		counts := map[int32]float32{}
		var words []string
		for i := lo; i < hi; i++ {
			clear(counts)
			words = tokenize.AppendWords(words[:0], texts[i], v.Lowercase)
			for _, w := range words {
				if id := v.ID(w); id > tokenize.OOVID {
					counts[id]++
				}
			}
			es := make([]sparse.Entry, 0, len(counts))
			for id, c := range counts {
				es = append(es, sparse.Entry{Col: id, Val: c})
			}
			rows[i] = es
		}
	})
	b := sparse.NewBuilder(v.Len())
	for i, es := range rows {
		if err := b.AddRow(es); err != nil {
			return nil, fmt.Errorf("data: text %d: %w", i, err)
		}
	}
	return b.Build(), nil
}

func parallelFor(n int, f func(lo, hi int)) {
	w := min(runtime.GOMAXPROCS(0), max(1, n/256))
	if w <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + w - 1) / w
	for lo := 0; lo < n; lo += chunk {
		wg.Go(func() { f(lo, min(n, lo+chunk)) })
	}
	wg.Wait()
}
