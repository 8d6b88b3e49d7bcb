// Package ngame is NGAME's negative-mining-aware batching (Dahiya et al.,
// WSDM 2023) as the reference code runs it: training documents (those with
// at least one label; the others are skipped) are batched cluster by
// cluster so that each batch's in-batch negatives are hard. Until the first
// refresh the epoch is a uniform shuffle. Plan asks for document embeddings
// at the start of every epoch e with e >= refresh_start and
// e % refresh_interval == 0 (reference: 10, 15, 20, ...), from the encoder's
// memory bank or freshly encoded (doc_source). Refresh clusters them with
// core/cluster's balanced hierarchical 2-means into
// n_docs / nominal_size clusters (rounded up to a power of two when
// round_pow2), where the nominal size starts at cluster_size_init and
// doubles once for every entry of curriculum_epochs that is <= e. With lag
// (the reference's one-epoch lag) the clusters from the refresh at epoch e
// are first used by epoch e+1, otherwise by epoch e. Batches shuffles the
// list of clusters, concatenates them (keeping each cluster's order) and
// cuts the result into consecutive batches, so clusters straddle batch
// boundaries; each document gets one positive drawn uniformly from its
// labels. All draws come from streams keyed by (seed, epoch, purpose).
// RefreshStats.Hardness is the mean cosine between each document and the
// top-10 other in-batch items that are not its positives, over the first
// hardness_docs documents of the epoch that will use the new clusters, cut
// with the batch size of the last Batches call (256 before any): the items
// are the other documents' positive labels when label embeddings were
// given, else the other documents. Detail: clusters, avg_cluster_size,
// nominal_size, cluster_seconds, first_epoch. Capability: "covers-epoch".
// Registered as sampler "ngame".
package ngame
