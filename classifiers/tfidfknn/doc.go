// Package tfidfknn is the tf-idf document kNN baseline: documents are
// tf-idf vectors (sublinear or raw tf, smoothed idf, L2-normalised), a query
// finds its K most cosine-similar training documents through an inverted
// index, and label l scores Σ_{neighbours n with l} sim(q, n)^Power. The
// top labels by score (ties by label id) are returned. Predicting the
// training split leaves each document out of its own neighbour list.
//
// Speed contract: a query costs the postings of its features plus
// O(t log K) for the t training documents it touches and O(s log topK) for
// the s labels its neighbours carry, never the training set or label count
// (bounded-heap selection over dense accumulators that each worker reuses
// and resets entry by entry). Queries run on GOMAXPROCS goroutines; each
// query's sums run in a fixed order, so results are identical at any thread
// count, and bit-identical to the former full-sort path (fast_test.go).
package tfidfknn
