// Package ann answers k-nearest-neighbour queries by cosine similarity over
// dense float32 vectors. An Index stores n row-major vectors of width dim,
// L2-normalised on the way in (zero rows are dropped, yet every other row
// keeps its original id); Search normalises the queries too and returns, for
// each of nq queries, k ids with their cosine scores, best first, row-major
// nq*k, padding missing results with id -1 and score -Inf. Exact scans every
// vector with blocked SGEMM and a partial top-k heap; HNSW is an approximate
// hierarchical navigable small-world graph whose build is deterministic for a
// seed whatever the thread count (nodes are inserted in batches that search
// a frozen graph in parallel, then linked in id order); its distances use
// the AVX2/FMA kernel of package vecdot. The default M 16, efConstruction
// 128 and efSearch 128 reach recall@10 >= 0.95 at 100k x 128 (BenchmarkANN).
// TopK and Heap are the selection helpers the indexes use, exported for
// classifiers.
package ann
