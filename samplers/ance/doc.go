// Package ance is an ANCE-style hard-negative sampler (Xiong et al., ICLR
// 2021) adapted to XC as ngame-reference.md §3 suggests: batches are
// uniform shuffles of the training documents that have a label (others are
// skipped), each document with one positive drawn uniformly from its
// labels, and each document also carries `negatives` explicit label
// negatives (default 10, the reference loss's loss_num_negatives, so a
// top-10 OHNM loss can see them all). Plan asks for fresh document and
// label embeddings at the start of every epoch e >= refresh_start with
// (e - refresh_start) % refresh_interval == 0; with stale = false it asks
// every epoch from refresh_start (re-mined each epoch) instead of leaving
// the index epochs old as ANCE does. Refresh builds an ANN index (index:
// hnsw or exact, core/ann) over the label embeddings, queries every
// labelled training document at depth `depth` (default 100), and keeps as
// its pool the retrieved labels that are neither positives nor filtered
// train pairs (data.Dataset.FilterTrain), best first, less its first
// `skip_top` entries (default 0; the top ranks are the likeliest unlabelled
// positives, so skipping them guards against false negatives as RocketQA
// and sentence-transformers' range_min do). Each epoch then takes per
// document m = negatives - round(uniform_fraction * negatives) mined
// negatives (uniform_fraction default 0): the first m of its pool (pick =
// top) or a uniform sample of m from the pool (pick = sample), and fills
// the remaining slots (the uniform share, and any shortfall of a short
// pool) with distinct uniform random labels that are neither positives nor
// filtered nor already picked. Before the first refresh all negatives are uniform random
// labels of that kind. Draws come from streams keyed by (seed, epoch,
// purpose). RefreshStats.Hardness is the expected mean cosine between a
// document and its mined negatives under the new pools (top: the mean of
// the first m pool scores; sample: the pool mean). Detail: index_build_seconds,
// query_seconds, ann_recall (recall@depth of the index against exact
// search on up to 256 documents, 1 for exact), positive_recall (share of
// positives retrieved within depth), mean_pool. Capability:
// "explicit-negatives". Registered as sampler "ance".
package ance
