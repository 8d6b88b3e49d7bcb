// Package fusion combines a document's two label scores, the one-vs-all
// classifier's ("clf") and the label-embedding cosine ("knn"), into one
// ranking score. Tree is a deterministic CART decision tree (gini impurity,
// exact thresholds at midpoints between sorted distinct values, as sklearn's
// DecisionTreeClassifier) fitted on (clf, knn, inverse propensity) features;
// TreeScore applies the reference's rule final = beta*(P(relevant)+knn)+clf.
// Sum is the plain weighted sum w*clf+(1-w)*knn. Fitting the same samples
// gives the same tree bit for bit.
package fusion
