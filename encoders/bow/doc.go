// Package bow is the bag-of-words Siamese encoder ("bow"): an embedding
// table over the dataset's shared feature vocabulary (TrainX/TestX/LabelX),
// a weighted mean of the rows a document or label uses (weights = the
// feature values, or value × idf with pooling "tfidf"), an optional
// zero-initialised residual linear layer, and L2 normalisation. It works
// for text datasets (token counts) and BoW ones (feature values, labels
// tokenised onto the same vocabulary). Training runs through
// encoders/siamese, so table updates are row-sparse and step time does not
// grow with the vocabulary. The engine param picks GoMLX graphs or the
// hand-written host forward/backward of fused.go (siamese.HostArch).
package bow
