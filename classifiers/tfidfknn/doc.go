// Package tfidfknn is the tf-idf document kNN baseline: documents are
// tf-idf vectors (sublinear or raw tf, smoothed idf, L2-normalised), a query
// finds its K most cosine-similar training documents through an inverted
// index, and label l scores Σ_{neighbours n with l} sim(q, n)^Power. The
// top labels by score (ties by label id) are returned. Work is parallel
// over query rows and deterministic. Predicting the training split leaves
// each document out of its own neighbour list.
package tfidfknn
