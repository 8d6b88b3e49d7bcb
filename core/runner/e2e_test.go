package runner

import (
	"context"
	"testing"

	"github.com/xcbench/xcbench/core/results"

	_ "github.com/xcbench/xcbench/classifiers/knn"
	_ "github.com/xcbench/xcbench/encoders/bow"
	_ "github.com/xcbench/xcbench/samplers/ance"
	_ "github.com/xcbench/xcbench/samplers/ngame"
	_ "github.com/xcbench/xcbench/samplers/random"
)

// TestRealComponentsInProcess runs a tiny synthetic grid through the real
// bow encoder, the three samplers and kNN, in process, with the default
// data, scoring and synth hooks.
func TestRealComponentsInProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("trains real components")
	}
	g, cells := loadGrid(t, `
name: e2e
datasets: [{name: synth, synth: {labels: 40, train_docs: 300, test_docs: 60, seed: 5}}]
epochs: 2
batch_size: 32
eval: {every: 1, k: [1, 5]}
encoder: {name: bow, params: {dim: 16, lr: 0.01, warmup_steps: 2}}
sampler: {name: random}
classifier: {name: knn}
matrix:
  sampler.name: [random, ngame, ance]
include:
  - {sampler.name: ngame, sampler.params: {refresh_start: 1, refresh_interval: 1, curriculum_epochs: [1]}}
  - {sampler.name: ance, sampler.params: {refresh_start: 1, refresh_interval: 1}}
`)
	dir := t.TempDir()
	st, _ := results.Open(dir)
	r, err := New(Options{Launcher: RegistryLauncher{}, Store: st, Data: OpenData, Score: Score, Synth: Synth})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := r.Run(context.Background(), g, cells)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Done != 3 {
		t.Fatalf("summary %+v", sum)
	}
	for _, c := range cells {
		recs, _ := st.Cell(c.ID).Records()
		if len(recs) != 2 {
			t.Fatalf("%s: %d records", c.Name, len(recs))
		}
		last := recs[1]
		if last.Metrics["P@1"] <= 0 || last.Metrics["PSP@5"] <= 0 || last.Steps == 0 {
			t.Errorf("%s: implausible record %+v", c.Name, last)
		}
		if c.Spec.Sampler.Name != "random" && last.RefreshHardness == nil {
			t.Errorf("%s: epoch 1 should have refreshed", c.Name)
		}
	}
}
