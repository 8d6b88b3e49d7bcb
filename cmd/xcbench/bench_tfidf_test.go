package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xcbench/xcbench/core/synth"
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
	old := Commit
	Commit = "0123abcd-dirty"
	defer func() { Commit = old }()
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
