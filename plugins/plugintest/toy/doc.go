// Package toy holds small, complete reference components (an encoder, a
// sampler and a classifier) that need no dataset: their items are synthetic
// and derived from params and the seed. They exist to test the plugin
// machinery (wire adapters, host, conformance kit) and to show plugin authors
// a minimal correct component: strict params, a documented config schema,
// seed-determinism, ctx checks and L2-normalised embeddings.
package toy
