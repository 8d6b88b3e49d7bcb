// Package data loads extreme-classification datasets into a Dataset. Open
// auto-detects the format of a directory (LF text trn_X.txt/trn_X_Y.txt/
// lbl_X.txt, LF raw JSON trn.json.gz/tst.json.gz/lbl.json.gz, or legacy BoW
// train.txt/test.txt), validates every file strictly (errors name the file
// and line), builds the shared feature space and token sequences with the
// configured tokenizer, and caches the tokenised result keyed by the
// settings and the input files' sizes and modification times. It also reads
// and writes the pyxclib sparse text format (matrices, predictions) and
// reciprocal-pair filter files.
package data
