package runner

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/xcbench/xcbench/core/grid"
	"github.com/xcbench/xcbench/core/results"
)

// TestCorruptCellStateRecovers damages a cell interrupted after epoch 2 in
// the ways a full disk or a crash does, and requires the rerun to recover
// to the uninterrupted records, or, where nothing can be recovered, to fail
// that cell alone with the way out in its message.
func TestCorruptCellStateRecovers(t *testing.T) {
	g, all := loadGrid(t, strings.Replace(baseGrid, "seeds: [1, 2]", "seeds: [1]", 1))
	cells := all[:1]
	ref := t.TempDir()
	if _, err := newRunner(t, ref, nil).Run(context.Background(), g, cells); err != nil {
		t.Fatal(err)
	}
	want := comparable(t, ref, cells)
	interrupted := func(t *testing.T) (string, *results.CellStore) {
		dir := t.TempDir()
		st, _ := results.Open(dir)
		r := newRunner(t, dir, nil)
		runKilledAt(t, r, g, cells, PointCommitted+":2")
		return dir, st.Cell(cells[0].ID)
	}
	tests := []struct {
		name    string
		damage  func(t *testing.T, cs *results.CellStore)
		wantErr string // "" = recovers exactly
	}{
		{"status.json garbage", func(t *testing.T, cs *results.CellStore) {
			write(t, filepath.Join(cs.Dir, "status.json"), "{\"state\": \"runn")
		}, ""},
		{"newest checkpoint truncated", func(t *testing.T, cs *results.CellStore) {
			write(t, filepath.Join(cs.CheckpointDir(), "fake.json"), "{\"train\": [[0.1,")
		}, ""},
		{"torn last record", func(t *testing.T, cs *results.CellStore) {
			f, _ := os.OpenFile(filepath.Join(cs.Dir, "epochs.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
			f.WriteString(`{"cell":"x","stage":"m1","epo`)
			f.Close()
		}, ""},
		{"every checkpoint truncated", func(t *testing.T, cs *results.CellStore) {
			write(t, filepath.Join(cs.CheckpointDir(), "fake.json"), "{")
			write(t, filepath.Join(cs.CheckpointDir()+".prev", "fake.json"), "{")
		}, "--restart-cell " + cells[0].ID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir, cs := interrupted(t)
			tc.damage(t, cs)
			sum, err := newRunner(t, dir, nil).Run(context.Background(), g, cells)
			if err != nil {
				t.Fatalf("the grid stopped: %v", err)
			}
			if tc.wantErr != "" {
				if sum.Failed != 1 || !strings.Contains(sum.Failures[cells[0].Name], tc.wantErr) {
					t.Fatalf("summary %+v, want a failure naming %q", sum, tc.wantErr)
				}
				// The way out works.
				r := newRunner(t, dir, nil)
				r.o.RestartCells = map[string]bool{cells[0].ID: true}
				if sum, err = r.Run(context.Background(), g, cells); err != nil || sum.Done != 1 {
					t.Fatalf("restart: %+v %v", sum, err)
				}
			} else if sum.Done != 1 {
				t.Fatalf("summary %+v", sum)
			}
			if got := comparable(t, dir, cells); got != want {
				t.Fatalf("records differ from an uninterrupted run:\n got %s\nwant %s", got, want)
			}
		})
	}
}

// runKilledAt runs until the runner reaches point and stops it there with
// runtime.Goexit, which runs no more of the runner than a SIGKILL would
// (nothing after the point is written).
func runKilledAt(t *testing.T, r *Runner, g *grid.Grid, cells []grid.Cell, point string) {
	t.Helper()
	killed := false
	r.o.Fault = func(p string) {
		if p == point {
			killed = true
			runtime.Goexit()
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = r.Run(context.Background(), g, cells) })
	wg.Wait()
	if !killed {
		t.Fatalf("the fault point %s was never reached", point)
	}
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
