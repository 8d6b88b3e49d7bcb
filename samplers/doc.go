// Package samplers groups the built-in negative samplers (random, ngame,
// ance, tasb) and the helpers they share (batching); this package itself holds
// only the cross-sampler conformance test. Every sampler implements
// sdk.Sampler and draws all randomness from (seed, epoch, purpose), so the
// same grid cell with the same seed yields the same batches.
package samplers
