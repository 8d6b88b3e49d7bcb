package ova

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/xcbench/xcbench/classifiers/knn"
	"github.com/xcbench/xcbench/core/ann"
	"github.com/xcbench/xcbench/plugins/sdk"
)

func train(t testing.TB, set noisySet, seed uint64, params string) *Classifier {
	t.Helper()
	ctx := context.Background()
	c := New()
	if err := c.ConfigureDataset(ctx, sdk.Config{Params: json.RawMessage(params), Seed: seed}, set.ds); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Train(ctx, sdk.TrainInput{TrainDocs: set.trainX, Labels: set.labels}); err != nil {
		t.Fatal(err)
	}
	return c
}

func predict(t testing.TB, c sdk.Classifier, set noisySet, k int) sdk.TopK {
	t.Helper()
	tk, err := c.Predict(context.Background(), sdk.SplitTest, set.testX, k)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

const fastParams = `"batch_size": 256, "epochs": 15, "lr": 0.01, "warmup_steps": 10`

func TestInitialisationEqualsLabelEmbeddings(t *testing.T) {
	set := makeNoisySet(t, 1, 50, 16, 300, 100, 0.8, 0.3, 1.5)
	c := train(t, set, 7, `{"epochs": 0, "fusion": "none"}`)
	w, rows, cols := c.Weights()
	if rows != 50 || cols != 16 {
		t.Fatalf("weights %dx%d, want 50x16", rows, cols)
	}
	want := ann.Normalized(set.labels.Data, 50, 16)
	if !slices.Equal(w, want) {
		t.Fatal("untrained classifier vectors differ from the normalised label embeddings")
	}
	// With no training, clf-only prediction is the knn prediction.
	k := knn.New()
	if err := k.Configure(context.Background(), sdk.Config{}); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Train(context.Background(), sdk.TrainInput{Labels: set.labels}); err != nil {
		t.Fatal(err)
	}
	a, b := predict(t, c, set, 5), predict(t, k, set, 5)
	if !slices.Equal(a.Labels, b.Labels) {
		t.Fatal("untrained ova and knn rank differently")
	}
}

// TestTrainingAndFusion checks on the noisy-label-text set that training
// beats the label embeddings and that every fusion is at least as good as
// the better of its two inputs. The label popularity is heavy-tailed (as in
// XC data), so tail classifiers see few documents and the label embeddings
// still carry information the classifiers lack.
func TestTrainingAndFusion(t *testing.T) {
	set := makeNoisySet(t, 2, 400, 32, 2000, 1000, 0.4, 1.2, 4)
	c := train(t, set, 3, `{"batch_size": 256, "epochs": 30, "lr": 0.01, "warmup_steps": 10}`)
	p := map[string][3]float64{}
	for _, mode := range []string{"knn", "none", "sum", "tree"} {
		tk, err := c.predict(context.Background(), ann.Normalized(set.testX.Data, set.testX.Rows, set.testX.Cols), set.testX.Rows, 5, mode, nil)
		if err != nil {
			t.Fatal(err)
		}
		p[mode] = [3]float64{precisionAt(tk, set.ds.TestY, 1), precisionAt(tk, set.ds.TestY, 3), precisionAt(tk, set.ds.TestY, 5)}
		t.Logf("%-4s P@1 %.4f P@3 %.4f P@5 %.4f", mode, p[mode][0], p[mode][1], p[mode][2])
	}
	if p["none"][0] < p["knn"][0]+0.03 {
		t.Errorf("ova P@1 %.4f does not improve on knn %.4f by 3 points", p["none"][0], p["knn"][0])
	}
	for _, mode := range []string{"tree", "sum"} {
		for i, k := range []int{1, 3, 5} {
			best := max(p["none"][i], p["knn"][i])
			if p[mode][i] < best {
				t.Errorf("%s fusion P@%d %.4f below the better input %.4f", mode, k, p[mode][i], best)
			}
		}
	}
}

func TestTrainingVariants(t *testing.T) {
	set := makeNoisySet(t, 4, 200, 32, 2000, 500, 1.0, 0.4, 1.5)
	k := train(t, set, 3, `{"epochs": 0, "fusion": "knn"}`)
	pk := precisionAt(predict(t, k, set, 1), set.ds.TestY, 1)
	cases := []struct{ name, params string }{
		{"ann shortlist", `"shortlist": "ann", "num_nbrs": 20`},
		{"cluster batches", `"batching": "clusters", "cluster_size": 32, "cluster_every": 5`},
		{"no dropout", `"dropout": 0`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			params := `{` + fastParams + `, "fusion": "none", ` + tc.params + `}`
			c := train(t, set, 3, params)
			po := precisionAt(predict(t, c, set, 1), set.ds.TestY, 1)
			t.Logf("P@1 %.4f, knn %.4f", po, pk)
			if po < pk+0.05 {
				t.Errorf("P@1 %.4f does not improve on knn %.4f by 5 points", po, pk)
			}
			again := train(t, set, 3, params)
			w1, _, _ := c.Weights()
			w2, _, _ := again.Weights()
			if !slices.Equal(w1, w2) {
				t.Error("same seed gave different weights")
			}
		})
	}
}

func TestDeterministicForSeed(t *testing.T) {
	set := makeNoisySet(t, 5, 80, 16, 800, 200, 1.0, 0.4, 1.5)
	params := `{"batch_size": 64, "epochs": 3, "lr": 0.01}`
	a, b, other := train(t, set, 11, params), train(t, set, 11, params), train(t, set, 12, params)
	wa, _, _ := a.Weights()
	wb, _, _ := b.Weights()
	wo, _, _ := other.Weights()
	if !slices.Equal(wa, wb) {
		t.Error("same seed gave different weights")
	}
	if slices.Equal(wa, wo) {
		t.Error("different seeds gave identical weights (seed not used?)")
	}
	pa, pb := predict(t, a, set, 10), predict(t, b, set, 10)
	if !slices.Equal(pa.Labels, pb.Labels) || !slices.Equal(pa.Scores, pb.Scores) {
		t.Error("same seed gave different predictions")
	}
}

func TestStrictConfig(t *testing.T) {
	set := makeNoisySet(t, 6, 10, 4, 20, 5, 0.5, 0.5, 1.5)
	cases := []struct {
		name, params, want string
	}{
		{"unknown key", `{"epochz": 3}`, `"epochz"`},
		{"unknown nested", `{"index": "exact", "fusion_beta": 1}`, `"fusion_beta"`},
		{"bad shortlist", `{"shortlist": "hard"}`, "shortlist"},
		{"bad fusion", `{"fusion": "max"}`, "fusion"},
		{"bad batching", `{"batching": "sorted"}`, "batching"},
		{"bad cluster size", `{"batching": "clusters", "cluster_size": 0}`, "cluster_size"},
		{"bad dropout", `{"dropout": 1}`, "dropout"},
		{"bad holdout", `{"holdout": -0.1}`, "holdout"},
		{"bad index", `{"index": "ivf"}`, "index"},
		{"wrong type", `{"epochs": "ten"}`, "epochs"},
		{"zero batch", `{"batch_size": 0}`, "batch_size"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := New().ConfigureDataset(context.Background(), sdk.Config{Params: json.RawMessage(tc.params)}, set.ds)
			if !errors.Is(err, sdk.ErrInvalidConfig) {
				t.Fatalf("err = %v, want ErrInvalidConfig", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %q does not name %s", err, tc.want)
			}
		})
	}
	if err := New().ConfigureDataset(context.Background(), sdk.Config{Params: json.RawMessage(`{"epochs": 2, "fusion": "sum", "m": 8}`)}, set.ds); err != nil {
		t.Errorf("valid params rejected: %v", err)
	}
}

func TestDescribeDocumentsEveryParam(t *testing.T) {
	info, err := New().Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]map[string]any
	if err := json.Unmarshal(info.ConfigSchema, &schema); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(DefaultParams())
	var params map[string]any
	_ = json.Unmarshal(b, &params)
	for k, v := range params {
		s, ok := schema[k]
		if !ok {
			t.Errorf("param %s missing from schema", k)
			continue
		}
		if fmt.Sprint(s["default"]) != fmt.Sprint(v) {
			t.Errorf("param %s: schema default %v, actual %v", k, s["default"], v)
		}
	}
	if len(schema) != len(params) {
		t.Errorf("schema has %d params, struct %d", len(schema), len(params))
	}
}

func TestPredictErrors(t *testing.T) {
	set := makeNoisySet(t, 6, 10, 4, 20, 5, 0.5, 0.5, 1.5)
	c := New()
	if _, err := c.Predict(context.Background(), sdk.SplitTest, set.testX, 3); !errors.Is(err, sdk.ErrNotConfigured) {
		t.Errorf("predict before train: %v", err)
	}
	c = train(t, set, 1, `{"epochs": 1, "batch_size": 4}`)
	bad := sdk.Matrix{Rows: 2, Cols: 5, Data: make([]float32, 10)}
	if _, err := c.Predict(context.Background(), sdk.SplitTest, bad, 3); err == nil {
		t.Error("wrong dim accepted")
	}
	if _, err := c.Train(context.Background(), sdk.TrainInput{TrainDocs: set.testX, Labels: set.labels}); err == nil {
		t.Error("train accepted test-doc embeddings for the training documents")
	}
}
