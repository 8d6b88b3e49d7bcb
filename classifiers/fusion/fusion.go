package fusion

// TreeScore is NGAME's score fusion (tools/score_fusion.py): the tree's
// probability that the label is relevant plus the knn score, scaled by
// beta, plus the classifier score.
func TreeScore(prob, clf, knn, beta float32) float32 { return beta*(prob+knn) + clf }

// Sum is the weighted sum w*clf + (1-w)*knn.
func Sum(w, clf, knn float32) float32 { return w*clf + (1-w)*knn }
