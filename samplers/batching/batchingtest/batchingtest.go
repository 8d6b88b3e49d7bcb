// Package batchingtest builds datasets with planted topic structure and
// matching embeddings for sampler tests, plus helpers to collect an epoch.
package batchingtest

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/core/sparse"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// Planted is a synthetic dataset with embeddings: labels fall into topics,
// each document takes 1-3 labels of one topic, label vectors are their
// topic centre plus noise and a document vector is the mean of its labels'
// vectors plus noise. Every 10th document also gets a filtered train pair
// with a label of its own topic (so it would rank high as a negative).
type Planted struct {
	DS         *data.Dataset
	Docs, Lbls []float32 // L2-normalised, row-major, width Dim
	Dim        int
	Topic      []int // topic of each label
}

// NewPlanted generates the dataset; nodoc lists rows left without labels.
func NewPlanted(seed uint64, docs, labels, topics, dim int, nodoc ...int) *Planted {
	r := rand.New(rand.NewPCG(seed, 11))
	centre := make([]float64, topics*dim)
	for i := range centre {
		centre[i] = r.NormFloat64()
	}
	p := &Planted{Dim: dim, Topic: make([]int, labels), Lbls: make([]float32, labels*dim), Docs: make([]float32, docs*dim)}
	byTopic := make([][]int32, topics)
	for l := range labels {
		t := l % topics
		p.Topic[l] = t
		byTopic[t] = append(byTopic[t], int32(l))
		for j := range dim {
			p.Lbls[l*dim+j] = float32(centre[t*dim+j] + 0.5*r.NormFloat64())
		}
		normalize(p.Lbls[l*dim : (l+1)*dim])
	}
	skip := map[int]bool{}
	for _, d := range nodoc {
		skip[d] = true
	}
	rows := make([][]int32, docs)
	var filter []data.Pair
	for d := range docs {
		t := r.IntN(topics)
		pool := byTopic[t]
		if !skip[d] {
			n := min(1+r.IntN(3), len(pool))
			perm := r.Perm(len(pool))
			for _, i := range perm[:n] {
				rows[d] = append(rows[d], pool[i])
			}
			if d%10 == 0 && len(pool) > n {
				filter = append(filter, data.Pair{Row: int32(d), Label: pool[perm[n]]})
			}
		}
		v := p.Docs[d*dim : (d+1)*dim]
		for j := range dim {
			v[j] = float32(centre[t*dim+j] + 0.7*r.NormFloat64())
		}
		for _, l := range rows[d] {
			for j := range dim {
				v[j] += p.Lbls[int(l)*dim+j]
			}
		}
		normalize(v)
	}
	y, err := sparse.FromRows(labels, rows)
	if err != nil {
		panic(err)
	}
	p.DS = &data.Dataset{Name: "planted", Format: "synthetic", NumLabels: labels, TrainY: y, FilterTrain: filter}
	return p
}

func normalize(v []float32) {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	inv := float32(1 / math.Sqrt(s))
	for i := range v {
		v[i] *= inv
	}
}

// Open returns a dataset opener that ignores the config (for injection).
func (p *Planted) Open(sdk.Config) (*data.Dataset, error) { return p.DS, nil }

// DocMatrix and LabelMatrix wrap the embeddings as inline sdk matrices.
func (p *Planted) DocMatrix() sdk.Matrix {
	return sdk.Matrix{Rows: p.DS.TrainY.NRows, Cols: p.Dim, Data: p.Docs}
}

// LabelMatrix wraps the label embeddings.
func (p *Planted) LabelMatrix() sdk.Matrix {
	return sdk.Matrix{Rows: p.DS.NumLabels, Cols: p.Dim, Data: p.Lbls}
}

// Epoch collects all batches of one epoch, failing the test on error.
func Epoch(t testing.TB, s sdk.Sampler, epoch, batchSize int) []sdk.Batch {
	t.Helper()
	var out []sdk.Batch
	for b, err := range s.Batches(context.Background(), epoch, batchSize) {
		if err != nil {
			t.Fatalf("epoch %d: %v", epoch, err)
		}
		out = append(out, b)
	}
	return out
}

// Flatten concatenates the batches' docs and positives.
func Flatten(bs []sdk.Batch) (docs, pos []int32) {
	for _, b := range bs {
		docs = append(docs, b.Docs...)
		pos = append(pos, b.Positives...)
	}
	return docs, pos
}

// TinyDir is the LF-text fixture in samplers/batching/testdata/tiny: 30
// train docs (rows 4 and 17 without labels), 8 labels, filter pairs for
// rows 0, 1, 2, 3 and 5.
func TinyDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", "tiny")
}

// TinyConfig is a Configure input for the fixture (cache disabled so tests
// never write into testdata).
func TinyConfig(params string, seed uint64) sdk.Config {
	c := sdk.Config{Seed: seed, Dataset: sdk.Dataset{Dir: TinyDir(), Options: []byte(`{"cache_dir":"-"}`)}}
	if params != "" {
		c.Params = []byte(params)
	}
	return c
}
