// Package siamese is the shared-weight Siamese encoder service behind every
// GoMLX encoder: it implements sdk.Encoder and sdk.MemoryBanker on top of an
// Arch (the network: bow, transformer) and owns everything that is not the
// network itself. Contract: parameters live on the host (optim.Param) and are
// fed to fixed-shape compiled graphs (batch padded to batch_size, sequence
// length, unique-token count and explicit-negative count rounded up to
// powers of two, padded rows masked), so a ragged batch never recompiles;
// the token-embedding table is gathered to the batch's unique rows and
// updated row-sparsely; documents, positives and explicit negatives go
// through the same weights; an in-batch label is a negative for a document
// only if the dataset's TrainY says it is not one of its positives. Every
// exported method recovers GoMLX panics into errors; same seed and same
// batches give bit-identical losses; Save/Load round-trips weights, Adam
// moments, the step counter and the memory bank. An Arch that also
// implements HostArch and selects it (bow's engine "fused") trains and
// encodes on the host instead, with the same masks, losses (computed by
// the loss package's host versions), optimiser and checkpoints, and equal
// results up to float rounding.
package siamese
