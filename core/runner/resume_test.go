package runner

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/xcbench/xcbench/core/grid"
	"github.com/xcbench/xcbench/core/results"
)

// resumeGrid trains the real bow encoder with each built-in sampler on a
// tiny synthetic set: NGAME with its default one-epoch lag and a refresh
// every epoch (the schedule whose resume used to train on a plain shuffle),
// ANCE refreshing every epoch, random never; kNN evaluates every epoch and
// a stage-2 kNN runs at the end.
const resumeGrid = `
name: resume
datasets: [{name: synth, synth: {labels: 40, train_docs: 240, test_docs: 50, seed: 5}}]
epochs: 3
batch_size: 32
eval: {every: 1, k: [1, 5]}
encoder: {name: bow, params: {dim: 16, lr: 0.01, warmup_steps: 2}}
sampler: {name: random}
classifier: {name: knn}
stage2: {name: knn}
matrix:
  sampler.name: [random, ngame, ance]
include:
  - {sampler.name: ngame, sampler.params: {refresh_start: 1, refresh_interval: 1, curriculum_epochs: [1, 2]}}
  - {sampler.name: ance, sampler.params: {refresh_start: 1, refresh_interval: 1}}
`

func realRunner(t *testing.T, dir string) *Runner {
	t.Helper()
	st, err := results.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(Options{Launcher: RegistryLauncher{}, Store: st, Data: OpenData, Score: Score, Synth: Synth})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestResumeEveryPointEverySampler interrupts each sampler's cell at every
// phase boundary of every epoch (and the first step of each), resumes it in
// a fresh runner, and requires every per-epoch record to equal the
// uninterrupted run's bit for bit (timings and memory aside).
func TestResumeEveryPointEverySampler(t *testing.T) {
	if testing.Short() {
		t.Skip("trains real components many times")
	}
	g, all := loadGrid(t, resumeGrid)
	for _, cell := range all {
		cells := []grid.Cell{cell}
		t.Run(cell.Spec.Sampler.Name, func(t *testing.T) {
			t.Parallel()
			ref := t.TempDir()
			var points []string
			r := realRunner(t, ref)
			r.o.Fault = func(p string) {
				// Every boundary, and the first step of each epoch.
				if !strings.HasPrefix(p, PointStep+":") || strings.HasSuffix(p, ":1") {
					points = append(points, p)
				}
			}
			if sum, err := r.Run(context.Background(), g, cells); err != nil || sum.Done != 1 {
				t.Fatalf("reference run: %+v, %v", sum, err)
			}
			want := comparable(t, ref, cells)
			if cell.Spec.Sampler.Name != "random" && !strings.Contains(want, "refresh_hardness") {
				t.Fatalf("reference run never refreshed:\n%s", want)
			}
			if len(points) < 20 {
				t.Fatalf("only %d fault points: %v", len(points), points)
			}
			for _, p := range points {
				dir := t.TempDir()
				runKilledAt(t, realRunner(t, dir), g, cells, p)
				if sum, err := realRunner(t, dir).Run(context.Background(), g, cells); err != nil || sum.Done != 1 {
					t.Fatalf("killed at %s, resume: %+v %v", p, sum, err)
				}
				if got := comparable(t, dir, cells); got != want {
					t.Fatalf("killed at %s, resumed records differ:\n got %s\nwant %s", p, got, want)
				}
				s, _ := results.Open(dir)
				if cst, _ := s.Cell(cell.ID).Status(); cst.State != results.StateDone {
					t.Fatalf("killed at %s: status after resume %+v", p, cst)
				}
			}
			t.Logf("%s: %d interruption points resumed exactly: %s", cell.Spec.Sampler.Name, len(points), fmt.Sprint(points))
		})
	}
}
