// Package metrics scores top-k predictions exactly as pyxclib's
// xc_metrics does (P@k, nDCG@k, PSP@k, PSnDCG@k, recall@k and the inverse
// propensities). Every average is over ALL rows, rows with no true labels
// included (they score 0), as pyxclib's default remove_invalid=False.
// Reciprocal-pair filtering follows the NGAME evaluation code: filtered
// (row, label) predictions are removed before the top-k is taken and, as
// scipy's eliminate_zeros() does there, predictions whose score is exactly
// 0 are removed too whenever a filter is given. Ties in score are ranked by
// label id ascending (numpy's argsort is stable on the short rows where
// ties matter in practice; pyxclib leaves the order unspecified).
package metrics
