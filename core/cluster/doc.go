// Package cluster partitions dense vectors into balanced clusters by
// hierarchical spherical 2-means, as pyxclib's cluster_balance with the
// b_kmeans_dense splitter does for NGAME: each split L2-normalises its
// points, seeds two centroids from two distinct random points, then
// repeatedly ranks points by sim(x,c1)-sim(x,c0), cuts the ranking into
// halves whose sizes differ by at most one (the first, larger half goes
// with c0), and recomputes both centroids as normalised means, until the
// mean similarity of points to their own centroid improves by less than
// Tol (or MaxIter rounds). Splitting recurses level by level until
// NumClusters clusters exist (rounded up to a power of two unless NoRound;
// without rounding the last level splits only the largest clusters).
// Clusters of one level split in parallel; every split draws from an RNG
// derived from the seed and its position in the tree and all parallel sums
// run over fixed chunks combined in order, so the result for a seed is the
// same whatever the thread count or scheduling.
package cluster
