package data

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// Options are the data-layer settings. The zero value is usable.
type Options struct {
	// Name overrides the dataset name (default: the directory's base name).
	// It drives per-dataset defaults ("title" selects title-only JSON text,
	// "wiki"/"amazon" the propensity parameters).
	Name string `json:"name,omitempty"`
	// MaxLen truncates token sequences (default 32).
	MaxLen int `json:"max_len,omitempty"`
	// Tokenizer is "word" (default), "wordpiece" (needs VocabFile) or "npy"
	// (use {trn_doc,tst_doc,lbl}_input_ids.npy; chosen automatically when
	// those files exist and Tokenizer is empty).
	Tokenizer string `json:"tokenizer,omitempty"`
	// VocabFile is a BERT vocab.txt for the wordpiece tokenizer.
	VocabFile string `json:"vocab_file,omitempty"`
	// MinCount and MaxVocab restrict the word vocabulary (0 = no limit).
	MinCount int `json:"min_count,omitempty"`
	MaxVocab int `json:"max_vocab,omitempty"`
	// Lowercase defaults to true.
	Lowercase *bool `json:"lowercase,omitempty"`
	// PropA, PropB are pyxclib's inverse-propensity parameters; 0 picks the
	// per-dataset default (see DefaultPropensity).
	PropA float64 `json:"prop_a,omitempty"`
	PropB float64 `json:"prop_b,omitempty"`
	// CacheDir overrides where tokenised data is cached; "-" disables the
	// cache.
	CacheDir string `json:"cache_dir,omitempty"`
	// Validation > 0 holds out this fraction of the training documents and
	// scores on them instead of the test split (see HeldOut): the split to
	// tune hyperparameters on.
	Validation float64 `json:"validation,omitempty"`
}

// DecodeOptions parses Options from JSON (sdk.Dataset.Options), rejecting
// unknown keys so that typos in grid files surface.
func DecodeOptions(raw []byte) (Options, error) {
	var o Options
	if len(raw) == 0 || string(raw) == "null" {
		return o, nil
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		return o, fmt.Errorf("data options: %w", err)
	}
	if err := checkValidation(o.Validation); err != nil {
		return o, fmt.Errorf("data options: %w", err)
	}
	return o, nil
}

func (o Options) withDefaults() Options {
	if o.MaxLen <= 0 {
		o.MaxLen = 32
	}
	if o.Lowercase == nil {
		t := true
		o.Lowercase = &t
	}
	return o
}

func (o Options) lower() bool { return o.Lowercase == nil || *o.Lowercase }

// DefaultPropensity returns pyxclib's recommended A, B for a dataset name:
// 0.5/0.4 for Wikipedia, 0.6/2.6 for Amazon, 0.55/1.5 otherwise.
func DefaultPropensity(name string) (a, b float64) {
	n := strings.ToLower(name)
	switch {
	case strings.Contains(n, "wiki"):
		return 0.5, 0.4
	case strings.Contains(n, "amazon"):
		return 0.6, 2.6
	default:
		return 0.55, 1.5
	}
}

// key hashes the settings that change tokenised output.
func (o Options) key() string {
	h := sha256.New()
	fmt.Fprintf(h, "v1|%s|%d|%s|%s|%d|%d|%v", o.Tokenizer, o.MaxLen, o.VocabFile, o.Name, o.MinCount, o.MaxVocab, o.lower())
	if o.Validation > 0 {
		// Featurised after the hold-out: another vocabulary, another cache.
		fmt.Fprintf(h, "|val=%v", o.Validation)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// OpenSpec opens the dataset a component was configured with: spec.Dir,
// spec.Options decoded strictly, spec.Name overriding the options' name.
func OpenSpec(dir, name string, rawOptions []byte) (*Dataset, error) {
	o, err := DecodeOptions(rawOptions)
	if err != nil {
		return nil, err
	}
	if name != "" {
		o.Name = name
	}
	return Open(dir, o)
}
