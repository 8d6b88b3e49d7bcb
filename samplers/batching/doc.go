// Package batching holds what the built-in samplers share: strict decoding
// of component params (unknown keys wrap sdk.ErrInvalidConfig), loading the
// dataset named by sdk.Config, per-(seed, epoch, purpose) random streams so
// an epoch's draws never depend on earlier epochs, uniform positive and
// negative label draws, cutting an ordered document list into sdk.Batch
// values, embedding matrices handed to Refresh, and the in-batch hardness
// measure that lets NGAME clusters and random shuffles be compared on the
// same embeddings. Documents without any training label are never batched.
package batching
