// Package random is the DPR-style baseline sampler: every epoch it shuffles
// the training documents that have at least one label (the others are
// skipped) uniformly, cuts the order into batches, and gives each document
// one positive drawn uniformly from its labels, so the loss uses in-batch
// negatives. With the param negatives = k > 0 each document also carries k
// distinct labels drawn uniformly from the labels that are neither its
// positives nor its filtered train pairs (fewer when fewer exist). Every
// draw comes from a stream keyed by (seed, epoch, purpose), so a cell and
// seed give the same batches for an epoch whatever ran before. It never
// asks for a refresh. Capabilities: "covers-epoch" (each labelled document
// exactly once per epoch) and, when negatives > 0, "explicit-negatives".
// Registered as sampler "random".
package random
