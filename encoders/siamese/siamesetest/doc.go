// Package siamesetest has what encoder tests share: a tiny planted dataset
// whose documents use synonym tokens of their labels' name tokens (so an
// untrained encoder is at chance and a trained one must learn the synonym
// map), random in-batch batches drawn from a seed, and encoder-only P@1 by
// exact cosine nearest label.
package siamesetest
