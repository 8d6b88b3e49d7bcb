// Package loss builds the Siamese training losses as GoMLX graph functions
// over a score layout shared by all of them: pos [B] holds each document's cosine to
// its sampled positive label, cand [B,C] its cosines to candidate negatives
// (the in-batch labels, then its own explicit negatives), allow [B,C] is 1
// where a candidate is a genuine negative (not padding and not a positive of
// that document) and valid [B] is 1 for real rows of a padded batch.
// DSoftmax also takes posMask [B,C], 1 where a candidate is a further
// positive of the document (it counts as a positive, not a negative). All
// losses return the mean loss over valid rows and the "hardness" (mean
// cosine of the negatives the loss used), and never read a disallowed
// candidate's score into the gradient. host.go holds the same losses on
// the host with hand-written gradients (the bow fused engine), for the n
// valid rows only; TestHostLossesMatchGraph pins them to the graph ones.
package loss
