package data

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/xcbench/xcbench/core/sparse"
	"github.com/xcbench/xcbench/core/tokenize"
)

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// firstExisting returns the first of names present in dir, or "".
func firstExisting(dir string, names ...string) string {
	for _, n := range names {
		if p := filepath.Join(dir, n); exists(p) {
			return p
		}
	}
	return ""
}

// Detect names the format of dir: "lf-text", "lf-json" or "bow".
func Detect(dir string) (string, error) {
	switch {
	case exists(filepath.Join(dir, "trn_X_Y.txt")) && firstExisting(dir, "trn_X.txt", "trn.raw.txt") != "":
		return "lf-text", nil
	case exists(filepath.Join(dir, "trn.json.gz")):
		return "lf-json", nil
	case exists(filepath.Join(dir, "train.txt")):
		return "bow", nil
	}
	if st, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("data: %w", err)
	} else if !st.IsDir() {
		return "", fmt.Errorf("data: %s is not a directory", dir)
	}
	return "", fmt.Errorf("data: %s: no dataset found (want trn_X.txt + trn_X_Y.txt, trn.json.gz, or train.txt)", dir)
}

// Open loads the dataset in dir; see the package documentation.
func Open(dir string, opts Options) (*Dataset, error) {
	format, err := Detect(dir)
	if err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	name := opts.Name
	if name == "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			abs = dir
		}
		name = filepath.Base(abs)
	}
	opts.Name = name
	if err := checkValidation(opts.Validation); err != nil {
		return nil, fmt.Errorf("data: %s: %w", dir, err)
	}
	if opts.Tokenizer == "" && npyInputsPresent(dir) {
		opts.Tokenizer = "npy"
	}
	if opts.Validation > 0 && opts.Tokenizer == "npy" {
		// The npy token files hold the full training split; splitting them
		// too is possible but nobody has needed it yet.
		return nil, fmt.Errorf("data: %s: validation needs the text (the npy tokenizer's pre-tokenised training split cannot be held out)", dir)
	}
	ds := &Dataset{Name: name, Dir: dir, Format: format}
	var inputs []string
	switch format {
	case "lf-text":
		inputs, err = loadLFText(ds)
	case "lf-json":
		inputs, err = loadLFJSON(ds, strings.Contains(strings.ToLower(name), "title"))
	case "bow":
		err = loadBoW(ds, opts.lower())
	}
	if err != nil {
		return nil, err
	}
	if err := loadFilters(ds); err != nil {
		return nil, err
	}
	if opts.Validation > 0 {
		if err := holdOut(ds, opts.Validation); err != nil {
			return nil, err
		}
	}
	ds.PropA, ds.PropB = DefaultPropensity(name)
	if opts.PropA != 0 {
		ds.PropA = opts.PropA
	}
	if opts.PropB != 0 {
		ds.PropB = opts.PropB
	}
	if format == "bow" {
		return ds, nil
	}
	if opts.Tokenizer == "npy" {
		for _, p := range []string{"trn_doc", "tst_doc", "lbl"} {
			inputs = append(inputs, filepath.Join(dir, p+"_input_ids.npy"), filepath.Join(dir, p+"_attention_mask.npy"))
		}
	}
	if err := featurizeCached(ds, opts, inputs); err != nil {
		return nil, err
	}
	return ds, nil
}

func featurizeCached(ds *Dataset, opts Options, inputs []string) error {
	path, ok := CachePath(ds.Dir, opts, inputs)
	if ok {
		if c, err := loadCache(path); err == nil && c.TrainX.NRows == len(ds.TrainText) &&
			c.TestX.NRows == len(ds.TestText) && c.LabelX.NRows == len(ds.LabelText) {
			ds.Vocab, ds.TrainX, ds.TestX, ds.LabelX = c.Vocab, c.TrainX, c.TestX, c.LabelX
			ds.TrainTok, ds.TestTok, ds.LabelTok, ds.TokVocab = c.TrainTok, c.TestTok, c.LabelTok, c.TokVocab
			return nil
		}
	}
	if err := Featurize(ds, opts); err != nil {
		return err
	}
	if ok {
		// A failed cache write only costs time next run; the data is fine.
		_ = saveCache(path, &cached{Vocab: ds.Vocab, TrainX: ds.TrainX, TestX: ds.TestX, LabelX: ds.LabelX,
			TrainTok: ds.TrainTok, TestTok: ds.TestTok, LabelTok: ds.LabelTok, TokVocab: ds.TokVocab})
	}
	return nil
}

func loadLFText(ds *Dataset) (inputs []string, err error) {
	dir := ds.Dir
	trnX := firstExisting(dir, "trn_X.txt", "trn.raw.txt")
	tstX := firstExisting(dir, "tst_X.txt", "tst.raw.txt")
	lblX := firstExisting(dir, "lbl_X.txt", "lbl.raw.txt", "Y.txt")
	trnY := filepath.Join(dir, "trn_X_Y.txt")
	tstY := filepath.Join(dir, "tst_X_Y.txt")
	if tstX == "" || !exists(tstY) {
		return nil, fmt.Errorf("data: %s: LF text dataset needs tst_X.txt and tst_X_Y.txt", dir)
	}
	if lblX == "" {
		return nil, fmt.Errorf("data: %s: LF text dataset needs lbl_X.txt (label texts)", dir)
	}
	if ds.TrainText, err = ReadLines(trnX); err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	if ds.TestText, err = ReadLines(tstX); err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	if ds.LabelText, err = ReadLines(lblX); err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	if ds.TrainY, err = ReadSparseFile(trnY); err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	if ds.TestY, err = ReadSparseFile(tstY); err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	if err := checkShapes(ds, trnX, tstX, lblX, trnY, tstY); err != nil {
		return nil, err
	}
	return []string{trnX, tstX, lblX}, nil
}

func checkShapes(ds *Dataset, trnX, tstX, lblX, trnY, tstY string) error {
	ds.NumLabels = ds.TrainY.NCols
	switch {
	case ds.TrainY.NRows != len(ds.TrainText):
		return fmt.Errorf("data: %s has %d rows but %s has %d texts", trnY, ds.TrainY.NRows, trnX, len(ds.TrainText))
	case ds.TestY.NRows != len(ds.TestText):
		return fmt.Errorf("data: %s has %d rows but %s has %d texts", tstY, ds.TestY.NRows, tstX, len(ds.TestText))
	case ds.TestY.NCols != ds.NumLabels:
		return fmt.Errorf("data: %s has %d labels but %s has %d", tstY, ds.TestY.NCols, trnY, ds.NumLabels)
	case len(ds.LabelText) != ds.NumLabels:
		return fmt.Errorf("data: %s has %d label texts but %s has %d labels", lblX, len(ds.LabelText), trnY, ds.NumLabels)
	}
	return nil
}

func loadLFJSON(ds *Dataset, titleOnly bool) (inputs []string, err error) {
	dir := ds.Dir
	paths := []string{filepath.Join(dir, "trn.json.gz"), filepath.Join(dir, "tst.json.gz"), filepath.Join(dir, "lbl.json.gz")}
	var trnL, tstL [][]int32
	if ds.TrainText, trnL, err = ReadJSONGz(paths[0], titleOnly); err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	if ds.TestText, tstL, err = ReadJSONGz(paths[1], titleOnly); err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	if ds.LabelText, _, err = ReadJSONGz(paths[2], titleOnly); err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	ds.NumLabels = len(ds.LabelText)
	if ds.TrainY, err = labelRows(trnL, ds.NumLabels, paths[0]); err != nil {
		return nil, err
	}
	if ds.TestY, err = labelRows(tstL, ds.NumLabels, paths[1]); err != nil {
		return nil, err
	}
	return paths, nil
}

// labelRows builds a label matrix from target_ind lists; the reference
// scripts tolerate unsorted lists, so they are sorted, but duplicates and
// out-of-range ids are errors.
func labelRows(rows [][]int32, nlabels int, name string) (*sparse.CSR, error) {
	m, err := sparse.FromRows(nlabels, rows)
	if err != nil {
		return nil, fmt.Errorf("data: %s: target_ind (line = row + 1): %w", name, err)
	}
	return m, nil
}

func loadBoW(ds *Dataset, lower bool) error {
	dir := ds.Dir
	trn, tst := filepath.Join(dir, "train.txt"), filepath.Join(dir, "test.txt")
	if !exists(tst) {
		return fmt.Errorf("data: %s: BoW dataset needs test.txt", dir)
	}
	var err error
	if ds.TrainX, ds.TrainY, err = ReadBoWFile(trn); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if ds.TestX, ds.TestY, err = ReadBoWFile(tst); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if ds.TrainX.NCols != ds.TestX.NCols || ds.TrainY.NCols != ds.TestY.NCols {
		return fmt.Errorf("data: %s is %d features x %d labels but %s is %d x %d", trn,
			ds.TrainX.NCols, ds.TrainY.NCols, tst, ds.TestX.NCols, ds.TestY.NCols)
	}
	ds.NumLabels = ds.TrainY.NCols
	nf := ds.TrainX.NCols
	if p := filepath.Join(dir, "feature_names.txt"); exists(p) {
		if ds.Vocab, err = ReadLines(p); err != nil {
			return fmt.Errorf("data: %w", err)
		}
		if len(ds.Vocab) != nf {
			return fmt.Errorf("data: %s has %d names for %d features", p, len(ds.Vocab), nf)
		}
	} else {
		ds.Vocab = make([]string, nf)
		for i := range ds.Vocab {
			ds.Vocab[i] = fmt.Sprintf("f%d", i)
		}
	}
	if p := filepath.Join(dir, "label_names.txt"); exists(p) {
		if ds.LabelText, err = ReadLines(p); err != nil {
			return fmt.Errorf("data: %w", err)
		}
		if len(ds.LabelText) != ds.NumLabels {
			return fmt.Errorf("data: %s has %d names for %d labels", p, len(ds.LabelText), ds.NumLabels)
		}
	} else {
		ds.LabelText = make([]string, ds.NumLabels)
		for i := range ds.LabelText {
			ds.LabelText[i] = fmt.Sprintf("label %d", i)
		}
	}
	ds.LabelX = bowLabelFeatures(ds, lower)
	ds.TrainX.NCols, ds.TestX.NCols = len(ds.Vocab), len(ds.Vocab)
	return nil
}

// bowLabelFeatures tokenises label names onto the feature vocabulary,
// appending unknown words to ds.Vocab. A prefix shared by every label name
// (Mulan's "TAG_") carries no information and is dropped first.
func bowLabelFeatures(ds *Dataset, lower bool) *sparse.CSR {
	idx := make(map[string]int32, len(ds.Vocab))
	for i, w := range ds.Vocab {
		k := w
		if lower {
			k = strings.ToLower(w)
		}
		if _, dup := idx[k]; !dup {
			idx[k] = int32(i)
		}
	}
	prefix := commonTagPrefix(ds.LabelText)
	rows := make([][]sparse.Entry, len(ds.LabelText))
	for i, t := range ds.LabelText {
		counts := map[int32]float32{}
		for _, w := range tokenize.Words(strings.TrimPrefix(t, prefix), lower) {
			id, ok := idx[w]
			if !ok {
				id = int32(len(ds.Vocab))
				ds.Vocab = append(ds.Vocab, w)
				idx[w] = id
			}
			counts[id]++
		}
		for id, c := range counts {
			rows[i] = append(rows[i], sparse.Entry{Col: id, Val: c})
		}
	}
	b := sparse.NewBuilder(len(ds.Vocab))
	for _, r := range rows {
		_ = b.AddRow(r) // ids are in range and unique by construction
	}
	return b.Build()
}

func commonTagPrefix(names []string) string {
	for _, p := range []string{"TAG_", "tag_"} {
		all := len(names) > 0
		for _, n := range names {
			if !strings.HasPrefix(n, p) {
				all = false
				break
			}
		}
		if all {
			return p
		}
	}
	return ""
}

func loadFilters(ds *Dataset) error {
	var err error
	if p := filepath.Join(ds.Dir, "filter_labels_test.txt"); exists(p) {
		if ds.FilterTest, err = ReadFilter(p, ds.TestY.NRows, ds.NumLabels); err != nil {
			return fmt.Errorf("data: %w", err)
		}
	}
	if p := filepath.Join(ds.Dir, "filter_labels_train.txt"); exists(p) {
		if ds.FilterTrain, err = ReadFilter(p, ds.TrainY.NRows, ds.NumLabels); err != nil {
			return fmt.Errorf("data: %w", err)
		}
	}
	return nil
}

var errNoData = errors.New("data folder not found")

// SharedDataDir finds the shared real-data folder for tests: $XCBENCH_DATA,
// else ../shared/data next to the directory holding go.mod (searched
// upwards from the working directory).
func SharedDataDir() (string, error) {
	if d := os.Getenv("XCBENCH_DATA"); d != "" {
		if exists(d) {
			return d, nil
		}
		return "", fmt.Errorf("XCBENCH_DATA=%s: %w", d, errNoData)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if exists(filepath.Join(d, "go.mod")) {
			p := filepath.Join(filepath.Dir(d), "shared", "data")
			if exists(p) {
				return p, nil
			}
			return "", fmt.Errorf("%s: %w", p, errNoData)
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s: %w", wd, errNoData)
		}
	}
}
