package runner

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/xcbench/xcbench/core/results"
	"github.com/xcbench/xcbench/plugins/registry"
	"github.com/xcbench/xcbench/plugins/sdk"
)

func init() {
	registry.Register(sdk.KindClassifier, "fake-knn2", func() sdk.Plugin { return &fakeKNN{} })
}

// TestStage2OnFinishedEncoder adds a stage-2 variant to a finished grid:
// the new cell must take the finished cell's encoder (records copied as
// they are, times included, so nothing was retrained) and run stage 2 only.
func TestStage2OnFinishedEncoder(t *testing.T) {
	one := strings.Replace(strings.Replace(baseGrid, "seeds: [1, 2]", "seeds: [1]", 1), "  batch_size: [8, 16]", "  batch_size: [8]", 1)
	g1, c1 := loadGrid(t, one)
	dir := t.TempDir()
	if sum, err := newRunner(t, dir, nil).Run(context.Background(), g1, c1); err != nil || sum.Done != 1 {
		t.Fatalf("first grid: %+v %v", sum, err)
	}
	g2, c2 := loadGrid(t, strings.Replace(one, "stage2: {name: fake-knn}", "stage2: {name: fake-knn2}", 1))
	if c2[0].ID == c1[0].ID {
		t.Fatal("the stage-2 variant has the same cell id")
	}
	if sum, err := newRunner(t, dir, nil).Run(context.Background(), g2, c2); err != nil || sum.Done != 1 {
		t.Fatalf("second grid: %+v %v", sum, err)
	}
	st, _ := results.Open(dir)
	// A finished cell keeps its last checkpoint (this test borrows it) but
	// not the resume state: no previous checkpoint, no saved refreshes.
	for _, id := range []string{c1[0].ID, c2[0].ID} {
		cs := st.Cell(id)
		if _, err := os.Stat(cs.CheckpointDir()); err != nil {
			t.Errorf("cell %s: last checkpoint gone: %v", id, err)
		}
		if _, err := os.Stat(cs.CheckpointDir() + ".prev"); !os.IsNotExist(err) {
			t.Errorf("cell %s: ckpt.prev kept after the cell finished (%v)", id, err)
		}
		if eps, _ := cs.Refreshes(); len(eps) != 0 {
			t.Errorf("cell %s: refreshes %v kept after the cell finished", id, eps)
		}
	}
	s2, _ := st.Cell(c2[0].ID).Status()
	if s2.EncoderFrom != c1[0].ID {
		t.Fatalf("status %+v: encoder not taken from %s", s2, c1[0].ID)
	}
	r1, _ := st.Cell(c1[0].ID).Records()
	r2, _ := st.Cell(c2[0].ID).Records()
	if len(r2) != len(r1) || r2[len(r2)-1].Stage != results.StageStage2 {
		t.Fatalf("records: %d vs %d", len(r2), len(r1))
	}
	for i := range r1[:len(r1)-1] {
		a, b := r1[i], r2[i]
		b.Cell = a.Cell
		if !a.Time.Equal(b.Time) || a.Elapsed != b.Elapsed || a.Loss != b.Loss || a.Metrics["P@1"] != b.Metrics["P@1"] {
			t.Fatalf("epoch %d retrained or changed:\n%+v\n%+v", i, a, b)
		}
	}
	// Same classifier code under another name: stage 2 must score alike.
	if a, b := r1[len(r1)-1].Metrics["P@1"], r2[len(r2)-1].Metrics["P@1"]; a != b {
		t.Fatalf("stage-2 P@1 %v vs %v", a, b)
	}
}
