package knn

import (
	"context"
	"fmt"

	"github.com/xcbench/xcbench/core/ann"
)

// Index is core/ann's cosine index: Search returns nq*k ids and scores
// row-major, best first (ties: lower id), missing entries -1 / -Inf.
type Index = ann.Index

// IndexConfig selects and tunes an index.
type IndexConfig struct {
	// Kind is "exact" (blocked GEMM over every vector) or "hnsw".
	Kind           string
	M              int
	EfConstruction int
	EfSearch       int
	Threads        int
	Seed           uint64
}

// BuildIndex indexes n row-major vectors of dim; zero rows are never
// returned (the reference drops them before indexing).
func BuildIndex(ctx context.Context, cfg IndexConfig, vecs []float32, n, dim int) (Index, error) {
	if cfg.Kind != "exact" && cfg.Kind != "hnsw" {
		return nil, fmt.Errorf("index: unknown kind %q (want exact or hnsw)", cfg.Kind)
	}
	idx, err := ann.Build(ctx, ann.Config{Kind: cfg.Kind, M: cfg.M, EfConstruction: cfg.EfConstruction,
		EfSearch: cfg.EfSearch, Threads: cfg.Threads, Seed: cfg.Seed}, vecs, n, dim)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	return idx, nil
}
