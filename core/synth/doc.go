// Package synth generates extreme-classification datasets with planted
// structure, deterministic from a seed. Labels have power-law frequencies
// and belong to one of T latent topics; each label has a short text of its
// own words. A document picks 1..m labels (mostly within one topic) and its
// text mixes the labels' words, synonyms of them (a fixed one-to-one map,
// so a model must learn from co-occurrence that a synonym means the label
// word), topic words and noise. Generate builds a Dataset in memory (texts,
// labels, features via data.Featurize); Write writes it as LF text files
// that data.Open reads back; Stream writes a dataset straight to disk
// without holding the documents, for 1M-point scales.
package synth
