// Package realdata holds the opt-in real-data report for the embedding
// classifiers: on the shared bibtex, delicious and cooking sets it trains
// the bow encoder briefly (or uses fixed random projections of tf-idf
// rows), then scores knn, ova and both fusions with pyxclib's metrics. It
// lives apart from package ova so ova's own tests do not compile GoMLX.
// Run with XCBENCH_REAL_DATA=1 go test ./classifiers/ova/realdata -v.
package realdata
