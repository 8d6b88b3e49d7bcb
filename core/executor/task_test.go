package executor

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xcbench/xcbench/core/grid"
	"github.com/xcbench/xcbench/core/results"
)

func testCells() []grid.Cell {
	var out []grid.Cell
	for _, id := range []string{"aaa111", "bbb222", "ccc333", "ddd444", "eee555"} {
		out = append(out, grid.Cell{ID: id, Name: "cell " + id[:3], Spec: grid.Spec{Epochs: 4}})
	}
	return out
}

// fixture: cell 0 never started, 1 done, 2 failed, 3 running with a live
// lease, 4 running whose task is gone (no lease).
func fixture(t *testing.T) (*results.Store, []grid.Cell, func()) {
	t.Helper()
	s, err := results.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cells := testCells()
	set := func(i int, st results.Status) {
		if err := s.Cell(cells[i].ID).SetStatus(st); err != nil {
			t.Fatal(err)
		}
	}
	set(1, results.Status{State: results.StateDone, Epoch: 3, Attempts: 1})
	set(2, results.Status{State: results.StateFailed, Epoch: 1, Attempts: 2, Error: "boom\nstack"})
	set(3, results.Status{State: results.StateRunning, Epoch: 0, Attempts: 1})
	set(4, results.Status{State: results.StateRunning, Epoch: 2, Attempts: 1})
	h, err := Locker{}.TryLock(lockPath(s, cells[3].ID))
	if err != nil {
		t.Fatal(err)
	}
	return s, cells, func() { h.Release() }
}

func TestSurveyAndToSubmit(t *testing.T) {
	s, cells, release := fixture(t)
	defer release()
	states := Survey(s, cells, time.Now())
	var got []string
	for _, c := range states {
		got = append(got, c.State)
	}
	want := []string{StatePending, StateDone, StateFailed, StateRunning, StateInterrupted}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("states %v, want %v", got, want)
	}
	if states[2].Attempts != 2 || states[4].Epoch != 2 || states[3].Host == "" {
		t.Errorf("details lost: %+v", states)
	}
	if idx := ToSubmit(states); !reflect.DeepEqual(idx, []int{0, 2, 4}) {
		t.Errorf("ToSubmit = %v, want [0 2 4] (never done, running or queued)", idx)
	}
	states[4].Queue = "PENDING"
	if idx := ToSubmit(states); !reflect.DeepEqual(idx, []int{0, 2}) {
		t.Errorf("ToSubmit with cell 4 queued = %v, want [0 2]", idx)
	}
	if c := Counts(states); c != "1 pending, 1 running, 1 interrupted, 1 done, 1 failed" {
		t.Errorf("Counts = %q", c)
	}
	// A lease past its expiry is a dead task's: the cell is interrupted.
	if st := Survey(s, cells, time.Now().Add(DefaultTTL+time.Second)); st[3].State != StateInterrupted {
		t.Errorf("expired lease: %s, want interrupted", st[3].State)
	}
}

func TestSurveyDamagedStatusFailsOnlyItsCell(t *testing.T) {
	s, cells, release := fixture(t)
	defer release()
	p := filepath.Join(s.Cell(cells[0].ID).Dir, "status.json")
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	states := Survey(s, cells, time.Now())
	if states[0].State != StateFailed || !strings.Contains(states[0].Error, "status.json") {
		t.Errorf("damaged cell: %+v", states[0])
	}
	if states[1].State != StateDone {
		t.Errorf("other cells must read normally: %+v", states[1])
	}
}

func TestSelectCell(t *testing.T) {
	cells := testCells()
	if c, err := SelectCell(cells, 2, "ccc333"); err != nil || c.ID != "ccc333" {
		t.Fatalf("SelectCell = %v, %v", c.ID, err)
	}
	if _, err := SelectCell(cells, 5, ""); err == nil || !strings.Contains(err.Error(), "5 cells") {
		t.Errorf("out of range: %v", err)
	}
	if _, err := SelectCell(cells, 1, "ccc333"); err == nil || !strings.Contains(err.Error(), "grid file changed") {
		t.Errorf("id mismatch: %v", err)
	}
}

func TestBeginCell(t *testing.T) {
	s, cells, release := fixture(t)
	defer release()
	ctx, end, err := BeginCell(context.Background(), s, cells[4], 3, Locker{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (Locker{}).TryLock(lockPath(s, cells[4].ID)); !errors.Is(err, ErrHeld) {
		t.Errorf("cell lock not held during the task: %v", err)
	}
	if st := Survey(s, cells, time.Now()); st[4].State != StateRunning || st[4].Host == "" {
		t.Errorf("survey during the task: %+v", st[4])
	}
	end()
	if ctx.Err() == nil {
		t.Error("end did not cancel the task context")
	}
	if h, err := (Locker{}).TryLock(lockPath(s, cells[4].ID)); err != nil {
		t.Errorf("lock not released: %v", err)
	} else {
		h.Release()
	}

	// Cell 2 failed twice: a third start is allowed, a fourth is not.
	if _, end, err := BeginCell(context.Background(), s, cells[2], 3, Locker{}); err != nil {
		t.Fatalf("attempt 3 of 3: %v", err)
	} else {
		end()
	}
	_, _, err = BeginCell(context.Background(), s, cells[2], 2, Locker{})
	if err == nil || !strings.Contains(err.Error(), "gave up after 2 attempts: boom") {
		t.Fatalf("over the limit: %v", err)
	}
	// A cell whose attempts all died mid-run is marked failed, so its
	// requeues end.
	_, _, err = BeginCell(context.Background(), s, cells[4], 1, Locker{})
	if err == nil || !strings.Contains(err.Error(), "never finished") {
		t.Fatalf("lost attempts: %v", err)
	}
	if st, _ := s.Cell(cells[4].ID).Status(); st.State != results.StateFailed {
		t.Errorf("given-up cell state %q, want failed", st.State)
	}
	// A done cell is never refused: the runner just skips it.
	if _, end, err := BeginCell(context.Background(), s, cells[1], 1, Locker{}); err != nil {
		t.Errorf("done cell: %v", err)
	} else {
		end()
	}
}

func TestRanges(t *testing.T) {
	for in, want := range map[string]string{
		"0":             "0",
		"0,1,2":         "0-2",
		"5,0,1,2,7,8,3": "0-3,5,7-8",
	} {
		var idx []int
		for _, f := range strings.Split(in, ",") {
			var n int
			for _, r := range f {
				n = n*10 + int(r-'0')
			}
			idx = append(idx, n)
		}
		if got := ranges(idx); got != want {
			t.Errorf("ranges(%s) = %s, want %s", in, got, want)
		}
	}
}
