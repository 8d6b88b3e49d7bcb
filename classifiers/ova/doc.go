// Package ova is NGAME's classifier stage (M-IV) on frozen embeddings: one
// cosine classifier per label, initialised to the label's (normalised)
// embedding and trained with the multi-positive triplet loss
// (TripletMarginLossOHNMMulti: the lowest-scoring positives against the
// hardest shortlisted negatives, softmax-weighted, margin 0.2) and sparse
// Adam that moves only the rows of each batch's shortlist. Prediction
// queries two indexes, label embeddings ("knn") and classifier vectors
// ("clf"), re-scores the union of their candidates exactly and fuses the two
// scores (a learned decision tree, a weighted sum, or either one alone).
// With doc_neighbours > 0 a third score joins: the label's doc-kNN vote
// share among the document's nearest training documents (classifiers/
// docknn's Voter over the documents the classifiers train on, so held-out
// ones never vote for themselves; leave-one-out for training-set
// predictions). Its voted labels join the candidates, the tree gets it as
// a fourth feature beside clf, knn and inverse propensity (the
// label-popularity feature), and the sum adds doc_weight times it.
// Everything random flows from sdk.Config.Seed: the same seed and inputs
// give the same weights, tree and predictions whatever GOMAXPROCS is.
//
// A reciprocal train pair (filter_labels_train.txt: a label that is the
// same entity as the document) is never that document's training negative,
// in the in-batch or the ann shortlist.
//
// Departures from the reference: the fusion tree is fitted on held-out
// training documents (param holdout) that the classifiers never train on,
// instead of on optimistic predictions for the training set (holdout 0
// restores the reference behaviour); both scores are computed exactly for
// every candidate instead of treating a label missing from one index's list
// as score 0; the warm-up is capped at a tenth of the scheduled steps so
// small datasets reach the full learning rate; and the reference's
// "diagonal = positive" fallback when the batch size equals the shortlist
// size is not reproduced. Cluster batching uses one fixed cluster size
// (re-clustered every cluster_every epochs) instead of the reference's
// cluster-size curriculum.
package ova
