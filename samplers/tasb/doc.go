// Package tasb is topic-aware batching after TAS-B (Hofstätter et al.,
// SIGIR 2021): the training documents (those with at least one label; the
// others are skipped) are clustered once, before training, and never
// re-clustered, so batches hold topically close documents whose in-batch
// negatives are harder than random ones. It is the cheap control for
// NGAME's refreshed clusters: the same batching from the same balanced
// 2-means (core/cluster), without the memory bank, the refresh schedule or
// the curriculum.
//
// What is clustered (features). TAS-B clusters its queries once with the
// embeddings of a pretrained model. The workbench's encoders start from
// scratch, so the untrained encoder's embeddings carry no topic signal;
// the default, features = "tfidf", clusters a fixed, encoder-independent
// representation instead: each document's tf-idf vector over the dataset's
// TrainX features (smooth idf ln((1+N)/(1+df))+1, as scikit-learn and the
// tfidf-knn baseline, L2-normalised), projected to `dim` dimensions by a
// random ±1/√dim matrix whose signs are a hash of (seed, feature, column)
// (a Johnson-Lindenstrauss projection: cosines are preserved up to about
// 1/√dim). This is computed in Configure from the dataset and the seed
// alone, so Plan never asks for anything and a resumed run rebuilds the
// same clusters. features = "encoder" is TAS-B literally when the encoder
// starts from a pretrained checkpoint (transformer checkpoint_dir): Plan
// asks at epoch 0 only for freshly encoded training documents; the runner
// saves that refresh and replays it on resume, and the clusters are again a
// function of (vectors, seed). Refresh stores the vectors and reports as
// hardness the mean cosine of each document to its top-10 in-batch
// neighbours under the resulting clusters (cluster_size, or the last batch
// size, 256 before any Batches call); Detail: clusters, avg_cluster_size,
// cluster_seconds.
//
// Clusters and batches. On the first Batches call for a cluster size the
// documents are clustered into max(1, n_docs / cluster_size) clusters by
// balanced hierarchical 2-means (no power-of-two rounding unless
// round_pow2), seeded from the seed; cluster_size = 0 means the batch size,
// one topic per batch as in TAS-B. Each epoch shuffles the list of
// clusters and the documents inside each cluster (TAS-B draws a batch's
// queries at random from its cluster), concatenates them and cuts
// consecutive batches, so every labelled document appears exactly once per
// epoch and clusters of unequal size straddle batch boundaries as in
// NGAME's batching; each document gets one positive drawn uniformly from
// its labels. All draws come from streams keyed by (seed, epoch, purpose).
// No explicit negatives. Capability: "covers-epoch". Registered as sampler
// "tasb".
package tasb
