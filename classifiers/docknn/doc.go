// Package docknn is a document-kNN classifier in the learned embedding
// space: a test document's labels are voted by its nearest training
// documents, as the classic kNN/tf-idf anchors do on lexical features, but
// with the Siamese encoder's embeddings (SiameseXML and NGAME's successors
// use such neighbour scores beside label-embedding and classifier scores).
//
// Train indexes the L2-normalised embeddings of the training documents
// that have at least one label (TrainInput.TrainDocs, rows aligned with
// TrainY; index exact or hnsw via classifiers/knn) and keeps the label
// embeddings. Predict scores, for each document x with neighbours N(x)
// (the `neighbours` most cosine-similar training documents) and
// candidates the labels of the neighbours with a positive cosine plus,
// when label_weight > 0, the `label_depth` labels nearest to x:
//
//	score(l) = vote(l) + label_weight·cos(x, z_l) + pop_weight·pop(l) + lexical_weight·lex(l)
//	vote(l)  = Σ_{j∈N(x), s_j>0} s_j^power·y_jl / Σ_{j∈N(x), s_j>0} s_j^power
//	pop(l)   = ln(1+n_l) / ln(1+max_l' n_l')
//	lex(l)   = t(l) / max_l' t(l')
//
// t is the tf-idf kNN score of classifiers/tfidfknn on the data set's own
// features (lexical_k neighbours, lexical_power, lexical_idf; its
// lexical_depth best labels, which join the candidates): the lexical
// neighbours vote beside the learned ones, which on small-vocabulary sets
// find different documents (see reports/results/delicious-pipeline).
//
// where s_j is the cosine to neighbour j, y_jl its training labels, z_l the
// label embedding and n_l the number of training documents of label l (a
// label-popularity prior: the per-label bias that lets frequent labels win
// close votes). vote is a share in [0, 1], so the weights compare across
// data sets. Scores tie-break on the lower label id. For split "train",
// row i of the documents is training document i and is never its own
// neighbour (leave-one-out), so training predictions (for fitting a fusion)
// are not optimistic. Registered as classifier "docknn".
package docknn
