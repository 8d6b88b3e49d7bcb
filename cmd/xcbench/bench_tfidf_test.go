package main

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/xcbench/xcbench/core/buildinfo"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xcbench/xcbench/classifiers/tfidfknn"
	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/core/synth"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// The subcommand runs end to end on a small synthetic set: one JSON line
// with the keys the scikit-learn reference prints, timings and precision
// in range, and the commit stamped with -ldflags taking precedence.
func TestBenchTfidfCommand(t *testing.T) {
	dir := t.TempDir()
	ds, err := synth.Generate(synth.Config{Labels: 50, TrainDocs: 300, TestDocs: 60, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := synth.Write(dir, ds); err != nil {
		t.Fatal(err)
	}
	old := buildInfo
	dirty := true
	buildInfo = func() buildinfo.Info { return buildinfo.Info{Commit: "0123abcd", Dirty: &dirty, Source: "ldflags"} }
	defer func() { buildInfo = old }()
	outFile := filepath.Join(t.TempDir(), "b.json")
	root := newRootCmd()
	root.SetArgs([]string{"bench", "tfidf-knn", "--data", dir, "--k", "5", "--cache-dir", "-", "--out", outFile})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(b, []byte("\n")) != 1 {
		t.Errorf("want one JSON line, got %q", b)
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"load_s", "fit_s", "predict_s", "P@1", "P@5", "n_train", "n_test", "commit", "dirty"} {
		if _, ok := raw[key]; !ok {
			t.Errorf("key %q missing from %s", key, b)
		}
	}
	var r TfidfBenchResult
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if r.NTrain != 300 || r.NTest != 60 || r.K != 5 {
		t.Errorf("shape %d/%d k %d, want 300/60 k 5", r.NTrain, r.NTest, r.K)
	}
	if !(r.PredictS > 0) || r.LoadS < 0 || r.FitS < 0 {
		t.Errorf("timings load %g fit %g predict %g", r.LoadS, r.FitS, r.PredictS)
	}
	if !(r.P1 > 0.2 && r.P1 <= 1) || !(r.P5 > 0 && r.P5 <= 1) {
		t.Errorf("P@1 %g P@5 %g out of range", r.P1, r.P5)
	}
	if r.Commit != "0123abcd" || !r.Dirty || r.CommitSource != "ldflags" {
		t.Errorf("commit %q dirty %v source %q, want the ldflags stamp", r.Commit, r.Dirty, r.CommitSource)
	}

	if r.P1Filtered != nil {
		t.Errorf("no filter file, yet P@1_filtered = %v", *r.P1Filtered)
	}

	// With a filter that drops every test row's top 3 predicted labels,
	// the filtered P@1 and P@5 are those of ranks 4 and 4-8.
	m, err := tfidfknn.Fit(ds, 5)
	if err != nil {
		t.Fatal(err)
	}
	pred, err := m.PredictSplit(context.Background(), sdk.SplitTest, 8)
	if err != nil {
		t.Fatal(err)
	}
	var filter []data.Pair
	var hits1, hits5 float64
	for i := 0; i < pred.Rows; i++ {
		rl, _ := pred.Row(i)
		for j, l := range rl {
			switch {
			case l < 0:
			case j < 3:
				filter = append(filter, data.Pair{Row: int32(i), Label: l})
			case ds.TestY.Has(i, l):
				hits5++
				if j == 3 {
					hits1++
				}
			}
		}
	}
	if err := data.WriteFilter(filepath.Join(dir, "filter_labels_test.txt"), filter); err != nil {
		t.Fatal(err)
	}
	root = newRootCmd()
	root.SetArgs([]string{"bench", "tfidf-knn", "--data", dir, "--k", "5", "--cache-dir", "-", "--out", outFile})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if b, err = os.ReadFile(outFile); err != nil {
		t.Fatal(err)
	}
	var rf TfidfBenchResult
	if err := json.Unmarshal(b, &rf); err != nil {
		t.Fatal(err)
	}
	n := float64(pred.Rows)
	if rf.P1Filtered == nil || rf.P5Filtered == nil {
		t.Fatalf("filter present, no filtered precision: %s", b)
	}
	if math.Abs(*rf.P1Filtered-hits1/n) > 1e-12 || math.Abs(*rf.P5Filtered-hits5/5/n) > 1e-12 {
		t.Errorf("filtered P@1 %v P@5 %v, want %v %v", *rf.P1Filtered, *rf.P5Filtered, hits1/n, hits5/5/n)
	}
	if rf.P1 != r.P1 || rf.P5 != r.P5 || rf.P1 == *rf.P1Filtered {
		t.Errorf("unfiltered P@1/P@5 %v/%v changed or equal to the filtered ones (%v/%v)", rf.P1, rf.P5, r.P1, r.P5)
	}

	root = newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs([]string{"bench", "tfidf-knn", "--cache-dir", "-"})
	if err := root.Execute(); err == nil || !strings.Contains(err.Error(), "--data") {
		t.Errorf("missing --data: err %v", err)
	}
	root = newRootCmd()
	root.SetArgs([]string{"bench", "tfidf-knn", "--data", dir, "--k", "0", "--cache-dir", "-"})
	if err := root.Execute(); err == nil || !strings.Contains(err.Error(), "--k") {
		t.Errorf("k 0: err %v", err)
	}
}
