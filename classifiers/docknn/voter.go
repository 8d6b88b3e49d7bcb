package docknn

import (
	"context"
	"fmt"
	"math"

	"github.com/xcbench/xcbench/core/ann"
	"github.com/xcbench/xcbench/core/sparse"
)

// Voter is the neighbour vote shared by the docknn classifier and the
// one-vs-all stage's fusion: an index over some training documents'
// normalised embeddings and their labels.
type Voter struct {
	idx        ann.Index
	rows       []int32 // index id -> training row
	y          *sparse.CSR
	neighbours int
	power      float64
}

// NewVoter indexes the training rows of x (normalised, row-major, width
// dim, one row per row of y) for which keep returns true and that have a
// label.
func NewVoter(ctx context.Context, cfg ann.Config, x []float32, dim int, y *sparse.CSR, keep func(row int32) bool, neighbours int, power float64) (*Voter, error) {
	if neighbours <= 0 || !(power >= 0) {
		return nil, fmt.Errorf("docknn: voter: neighbours %d, power %g", neighbours, power)
	}
	var rows []int32
	var vecs []float32
	for i := range y.NRows {
		if y.RowLen(i) > 0 && (keep == nil || keep(int32(i))) {
			rows = append(rows, int32(i))
			vecs = append(vecs, x[i*dim:(i+1)*dim]...)
		}
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("docknn: voter: no training document with a label to index")
	}
	idx, err := ann.Build(ctx, cfg, vecs, len(rows), dim)
	if err != nil {
		return nil, fmt.Errorf("docknn: voter: %w", err)
	}
	return &Voter{idx: idx, rows: rows, y: y, neighbours: neighbours, power: power}, nil
}

// Indexed is the number of training documents that can vote.
func (v *Voter) Indexed() int { return len(v.rows) }

// Votes returns, for each of the nq normalised queries in q, the vote
// share of every label of its neighbours with a positive cosine:
// Σ s_j^power·y_jl / Σ s_j^power over its `neighbours` nearest indexed
// documents. self(i), when self is non-nil, is query i's own training row
// (or -1): that document is skipped (leave-one-out).
func (v *Voter) Votes(ctx context.Context, q []float32, nq int, self func(i int) int32) ([]map[int32]float64, error) {
	nn := v.neighbours
	if self != nil {
		nn++
	}
	nn = min(nn, len(v.rows))
	ids, sc, err := v.idx.Search(ctx, q, nq, nn)
	if err != nil {
		return nil, fmt.Errorf("docknn: votes: %w", err)
	}
	out := make([]map[int32]float64, nq)
	for i := range nq {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		own := int32(-1)
		if self != nil {
			own = self(i)
		}
		votes := map[int32]float64{}
		var total float64
		used := 0
		for j := range nn {
			id := ids[i*nn+j]
			if id < 0 || used == v.neighbours {
				break
			}
			row := v.rows[id]
			if row == own {
				continue
			}
			used++
			s := float64(sc[i*nn+j])
			if s <= 0 {
				continue
			}
			w := math.Pow(s, v.power)
			total += w
			labs, _ := v.y.Row(int(row))
			for _, l := range labs {
				votes[l] += w
			}
		}
		for l := range votes {
			votes[l] /= total
		}
		out[i] = votes
	}
	return out, nil
}
