package main

// Built-in classifiers register themselves with plugins/registry from init,
// so importing them is what makes `xcbench plugin serve classifier <name>`
// and in-process runs find them.
import (
	_ "github.com/xcbench/xcbench/classifiers/docknn"   // "docknn": label votes of the nearest training documents in embedding space
	_ "github.com/xcbench/xcbench/classifiers/knn"      // "knn": label-embedding cosine (M1)
	_ "github.com/xcbench/xcbench/classifiers/ova"      // "ova": NGAME one-vs-all stage with score fusion
	_ "github.com/xcbench/xcbench/classifiers/tfidfknn" // "tfidf-knn": tf-idf document kNN baseline
)
