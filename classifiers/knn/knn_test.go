package knn

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/xcbench/xcbench/core/ann"
	"github.com/xcbench/xcbench/core/npy"
	"github.com/xcbench/xcbench/plugins/sdk"
)

func randMatrix(seed uint64, rows, cols int) sdk.Matrix {
	rng := rand.New(rand.NewPCG(seed, 3))
	d := make([]float32, rows*cols)
	for i := range d {
		d[i] = float32(rng.NormFloat64())
	}
	return sdk.Matrix{Rows: rows, Cols: cols, Data: d}
}

// brute ranks labels by cosine, ties by lower id.
func brute(docs, labels sdk.Matrix, k int) sdk.TopK {
	x := ann.Normalized(docs.Data, docs.Rows, docs.Cols)
	z := ann.Normalized(labels.Data, labels.Rows, labels.Cols)
	out := sdk.TopK{Rows: docs.Rows, K: k}
	for i := 0; i < docs.Rows; i++ {
		type ls struct {
			l int32
			s float32
		}
		var all []ls
		for l := 0; l < labels.Rows; l++ {
			var s float32
			for j := 0; j < docs.Cols; j++ {
				s += x[i*docs.Cols+j] * z[l*docs.Cols+j]
			}
			all = append(all, ls{int32(l), s})
		}
		sort.SliceStable(all, func(a, b int) bool { return all[a].s > all[b].s })
		for r := 0; r < k; r++ {
			if r < len(all) {
				out.Labels = append(out.Labels, all[r].l)
				out.Scores = append(out.Scores, all[r].s)
			} else {
				out.Labels = append(out.Labels, -1)
			}
		}
	}
	return out
}

func trained(t *testing.T, params string, labels sdk.Matrix) *Classifier {
	t.Helper()
	c := New()
	if err := c.Configure(context.Background(), sdk.Config{Params: json.RawMessage(params), Seed: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Train(context.Background(), sdk.TrainInput{Labels: labels}); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPredictMatchesBruteForce(t *testing.T) {
	cases := []struct {
		name         string
		labels, docs int
		k            int
	}{
		{"k below labels", 300, 70, 10},
		{"k equals labels", 12, 5, 12},
		{"k above labels pads", 4, 3, 6},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			labels, docs := randMatrix(1, tc.labels, 16), randMatrix(2, tc.docs, 16)
			got, err := trained(t, `{"index": "exact"}`, labels).Predict(context.Background(), sdk.SplitTest, docs, tc.k)
			if err != nil {
				t.Fatal(err)
			}
			want := brute(docs, labels, tc.k)
			if got.Rows != tc.docs || got.K != tc.k || !slices.Equal(got.Labels, want.Labels) {
				t.Fatalf("labels differ from brute force:\n got %v\nwant %v", got.Labels[:min(20, len(got.Labels))], want.Labels[:min(20, len(want.Labels))])
			}
		})
	}
}

func TestTrainFromNpyPathAndHNSWRecall(t *testing.T) {
	labels, docs := randMatrix(3, 2000, 32), randMatrix(4, 100, 32)
	path := filepath.Join(t.TempDir(), "labels.npy")
	if err := npy.Write(path, []int{labels.Rows, labels.Cols}, labels.Data); err != nil {
		t.Fatal(err)
	}
	onDisk := sdk.Matrix{Rows: labels.Rows, Cols: labels.Cols, Path: path}
	exact, err := trained(t, `{}`, onDisk).Predict(context.Background(), sdk.SplitTest, docs, 10)
	if err != nil {
		t.Fatal(err)
	}
	if want := brute(docs, labels, 10); !slices.Equal(exact.Labels, want.Labels) {
		t.Fatal("exact index on a .npy path differs from brute force")
	}
	approx, err := trained(t, `{"index": "hnsw", "m": 16, "ef_search": 64}`, onDisk).Predict(context.Background(), sdk.SplitTest, docs, 10)
	if err != nil {
		t.Fatal(err)
	}
	hits := 0
	for i := 0; i < docs.Rows; i++ {
		a, _ := exact.Row(i)
		b, _ := approx.Row(i)
		for _, l := range b {
			if slices.Contains(a, l) {
				hits++
			}
		}
	}
	if recall := float64(hits) / float64(docs.Rows*10); recall < 0.9 {
		t.Errorf("hnsw recall@10 %.3f < 0.9", recall)
	}
}

func TestConfigAndCallErrors(t *testing.T) {
	cases := []struct{ name, params, want string }{
		{"unknown key", `{"indx": "exact"}`, `"indx"`},
		{"bad index", `{"index": "ivf"}`, "index"},
		{"bad m", `{"m": 0}`, "m"},
		{"not an object", `[1]`, "params"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := New().Configure(context.Background(), sdk.Config{Params: json.RawMessage(tc.params)})
			if !errors.Is(err, sdk.ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want ErrInvalidConfig naming %s", err, tc.want)
			}
		})
	}
	c := New()
	if _, err := c.Train(context.Background(), sdk.TrainInput{Labels: randMatrix(1, 3, 2)}); !errors.Is(err, sdk.ErrNotConfigured) {
		t.Errorf("train before configure: %v", err)
	}
	_ = c.Configure(context.Background(), sdk.Config{})
	if _, err := c.Predict(context.Background(), sdk.SplitTest, randMatrix(1, 3, 2), 2); !errors.Is(err, sdk.ErrNotConfigured) {
		t.Errorf("predict before train: %v", err)
	}
	if _, err := c.Train(context.Background(), sdk.TrainInput{Labels: sdk.Matrix{Rows: 3, Cols: 2, Path: "/nonexistent.npy"}}); err == nil {
		t.Error("missing .npy accepted")
	}
	if _, err := c.Train(context.Background(), sdk.TrainInput{Labels: randMatrix(1, 3, 2)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Predict(context.Background(), sdk.SplitTest, randMatrix(1, 3, 5), 2); err == nil {
		t.Error("doc dim mismatch accepted")
	}
}
