// Package knn is the encoder-only ("M1") classifier: it scores every label
// of a document by the cosine between the document's embedding and the
// label's embedding and returns the k best, through a core/ann index (exact
// or HNSW) over the label embeddings given to Train. Its Params (the index
// settings) are embedded by classifiers/ova, whose first stage is the same
// kNN. Same inputs and seed give identical predictions; ties rank the lower
// label id first.
package knn
