package data

import "github.com/xcbench/xcbench/core/sparse"

// Pair is one (row, label) entry of a reciprocal-pair filter file.
type Pair struct{ Row, Label int32 }

// Dataset is an XC dataset loaded into memory. Every component loads the
// same dataset from the same directory, so ids agree across processes.
//
// Features: TrainX, TestX and LabelX are always set and share one column
// space of size len(Vocab). For text datasets they are token counts from the
// word vocabulary; for BoW datasets (bibtex, delicious) TrainX/TestX are the
// given feature values and LabelX is the label names tokenised onto the
// feature vocabulary (words missing from it are appended to Vocab).
type Dataset struct {
	Name string
	Dir  string
	// Format is "lf-text", "lf-json", "bow" or "synthetic".
	Format    string
	NumLabels int

	TrainY, TestY         *sparse.CSR // documents x labels, values 1
	TrainX, TestX, LabelX *sparse.CSR // rows x len(Vocab)
	Vocab                 []string

	// Raw texts where the dataset has them (nil for BoW documents).
	TrainText, TestText, LabelText []string

	// Token id sequences (truncated to Options.MaxLen, no padding) from the
	// configured tokenizer; nil for BoW documents. Id 0 is reserved for
	// padding and 1 for out-of-vocabulary tokens. TokVocab is the tokenizer
	// vocabulary (index = id). Exception: the wordpiece and npy tokenizers
	// keep the BERT vocabulary's own ids ([PAD] 0, [UNK] 100, with [CLS] and
	// [SEP] around each sequence).
	TrainTok, TestTok, LabelTok [][]int32
	TokVocab                    []string

	// Reciprocal-pair filters; nil means no filter.
	FilterTest, FilterTrain []Pair

	// Inverse-propensity parameters for this dataset (pyxclib A/B).
	PropA, PropB float64

	// Validation is the fraction of the training documents held out as the
	// test split (Options.Validation); 0 when the test split is the real one.
	Validation float64
}
