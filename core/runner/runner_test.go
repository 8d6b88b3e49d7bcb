package runner

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/core/grid"
	"github.com/xcbench/xcbench/core/results"
)

const baseGrid = `
name: fake
datasets: [{name: fake, dir: .}]
seeds: [1, 2]
epochs: 4
batch_size: 8
eval: {every: 1, k: [1, 3]}
encoder: {name: fake-enc, params: {lr: 0.3}}
sampler: {name: fake-smp}
classifier: {name: fake-knn}
stage2: {name: fake-knn}
matrix:
  batch_size: [8, 16]
`

func loadGrid(t *testing.T, text string) (*grid.Grid, []grid.Cell) {
	t.Helper()
	g, err := grid.Parse(filepath.Join(t.TempDir(), "g.yaml"), []byte(text), grid.LoadOptions{Environ: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	cells, err := grid.Expand(g)
	if err != nil {
		t.Fatal(err)
	}
	return g, cells
}

func newRunner(t *testing.T, dir string, p Progress) *Runner {
	t.Helper()
	st, err := results.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(Options{Launcher: RegistryLauncher{}, Store: st, Data: fakeData, Score: fakeScore, Progress: p})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// comparable strips what legitimately differs between runs: timings and
// memory.
func comparable(t *testing.T, dir string, cells []grid.Cell) string {
	t.Helper()
	st, _ := results.Open(dir)
	var sb strings.Builder
	for _, c := range cells {
		recs, err := st.Cell(c.ID).Records()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			r.Wall, r.CPU, r.PeakRSS, r.Elapsed, r.Time = nil, nil, nil, 0, time.Time{}
			b, _ := json.Marshal(r)
			sb.Write(b)
			sb.WriteByte('\n')
		}
	}
	return sb.String()
}

func TestRunGrid(t *testing.T) {
	g, cells := loadGrid(t, baseGrid)
	dir := t.TempDir()
	sum, err := newRunner(t, dir, nil).Run(context.Background(), g, cells)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Done != 4 || sum.Failed != 0 {
		t.Fatalf("summary %+v", sum)
	}
	st, _ := results.Open(dir)
	for _, c := range cells {
		recs, err := st.Cell(c.ID).Records()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 5 || recs[4].Stage != results.StageStage2 {
			t.Fatalf("cell %s: %d records, want 4 epochs + stage2", c.Name, len(recs))
		}
		first, last := recs[0], recs[3]
		if first.Metrics["P@1"] > last.Metrics["P@1"] || last.Metrics["P@1"] < 0.5 {
			t.Errorf("cell %s: P@1 %.2f -> %.2f: toy training did not help", c.Name, first.Metrics["P@1"], last.Metrics["P@1"])
		}
		if first.RefreshHardness == nil || recs[1].RefreshHardness != nil {
			t.Errorf("refresh hardness should be set on refresh epochs only")
		}
		if first.Steps != (48+c.Spec.BatchSize-1)/c.Spec.BatchSize || first.Wall[PhaseTrain] <= 0 || first.Elapsed <= 0 {
			t.Errorf("record bookkeeping: %+v", first)
		}
		if _, ok := first.PeakRSS["encoder"][PhaseTrain]; !ok {
			t.Errorf("no encoder peak RSS for train: %v", first.PeakRSS)
		}
	}
	man, err := st.ReadManifest()
	if err != nil || len(man.Cells) != 4 || len(man.Plugins) != 3 || man.GridText == "" {
		t.Fatalf("manifest: %d cells, plugins %v, err %v", len(man.Cells), man.Plugins, err)
	}

	// Same seeds, same results; a second Run skips everything.
	dir2 := t.TempDir()
	if _, err := newRunner(t, dir2, nil).Run(context.Background(), g, cells); err != nil {
		t.Fatal(err)
	}
	if a, b := comparable(t, dir, cells), comparable(t, dir2, cells); a != b {
		t.Fatalf("two runs with the same seeds differ:\n%s\n%s", a, b)
	}
	sum, err = newRunner(t, dir, nil).Run(context.Background(), g, cells)
	if err != nil || sum.Skipped != 4 || sum.Done != 0 {
		t.Fatalf("rerun of a finished grid: %+v %v", sum, err)
	}
}

// cancelAfter cancels the run after n training steps in total.
type cancelAfter struct {
	nopProgress
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Step() {
	c.n--
	if c.n == 0 {
		c.cancel()
	}
}

func TestResumeAfterCancel(t *testing.T) {
	g, cells := loadGrid(t, baseGrid)
	ref := t.TempDir()
	if _, err := newRunner(t, ref, nil).Run(context.Background(), g, cells); err != nil {
		t.Fatal(err)
	}
	want := comparable(t, ref, cells)

	// cell 0 has 6 steps/epoch x 4 epochs; stop in epoch 1 of cell 1
	// (epoch 1 runs without a refresh, so resume must replay epoch 0's).
	tests := []struct {
		name        string
		steps       int
		wantSkipped int
	}{{"mid first epoch", 2, 0}, {"after first cell, epoch 1 of second", 24 + 3 + 1, 1}, {"mid third cell", 24 + 12 + 13, 2}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			_, err := newRunner(t, dir, &cancelAfter{n: tc.steps, cancel: cancel}).Run(ctx, g, cells)
			if err == nil {
				t.Fatal("interrupted run returned no error")
			}
			st, _ := results.Open(dir)
			s0, _ := st.Cell(cells[0].ID).Status()
			if tc.steps > 24 && s0.State != results.StateDone {
				t.Fatalf("first cell %+v", s0)
			}
			sum, err := newRunner(t, dir, nil).Run(context.Background(), g, cells)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Skipped != tc.wantSkipped {
				t.Errorf("finished cell not skipped: %+v", sum)
			}
			if got := comparable(t, dir, cells); got != want {
				t.Fatalf("resumed results differ from an uninterrupted run:\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestFailingComponentFailsOneCell(t *testing.T) {
	g, cells := loadGrid(t, strings.Replace(strings.Replace(baseGrid, "seeds: [1, 2]", "seeds: [1]", 1), "  batch_size: [8, 16]", "  encoder.params.panic_at: [0, 3]\n  encoder.params.fail_at: [0, 5]\nexclude: [{encoder.params.panic_at: 3, encoder.params.fail_at: 5}]", 1))
	if len(cells) != 3 {
		t.Fatalf("%d cells", len(cells))
	}
	dir := t.TempDir()
	sum, err := newRunner(t, dir, nil).Run(context.Background(), g, cells)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Done != 1 || sum.Failed != 2 {
		t.Fatalf("summary %+v", sum)
	}
	st, _ := results.Open(dir)
	var errs []string
	for _, c := range cells {
		s, _ := st.Cell(c.ID).Status()
		if s.State == results.StateFailed {
			errs = append(errs, s.Error)
		}
	}
	joined := strings.Join(errs, "\n")
	if !strings.Contains(joined, "panic: fake encoder exploded") || !strings.Contains(joined, "plugin process exited") {
		t.Fatalf("failure messages: %s", joined)
	}
}

// TestKilledProcessResumes SIGKILLs a child process running the grid at
// an exact point, the first epoch of the second cell committed (the child
// kills itself there: no timing involved), then finishes the run and
// compares with an uninterrupted one.
func TestKilledProcessResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	g, cells := loadGrid(t, baseGrid)
	ref := t.TempDir()
	if _, err := newRunner(t, ref, nil).Run(context.Background(), g, cells); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	gfile := filepath.Join(dir, "grid.yaml")
	if err := os.WriteFile(gfile, []byte(baseGrid), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "run")
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildRun$")
	cmd.Env = append(os.Environ(), "XCBENCH_RUNNER_CHILD="+gfile+"|"+out+"|"+PointCommitted+":0|2")
	err := cmd.Run()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child was not killed: %v", err)
	}
	st, _ := results.Open(out)
	if s0, _ := st.Cell(cells[0].ID).Status(); s0.State != results.StateDone {
		t.Fatalf("first cell after SIGKILL: %+v", s0)
	}
	if s1, _ := st.Cell(cells[1].ID).Status(); s1.State != results.StateRunning || s1.Epoch != 0 {
		t.Fatalf("second cell after SIGKILL: %+v", s1)
	}
	g2, err := grid.Load(gfile, grid.LoadOptions{Environ: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	cells2, _ := grid.Expand(g2)
	sum, err := newRunner(t, out, nil).Run(context.Background(), g2, cells2)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Skipped != 1 || sum.Done != 3 {
		t.Errorf("resume summary %+v", sum)
	}
	if got, want := comparable(t, out, cells), comparable(t, ref, cells); got != want {
		t.Fatalf("results after SIGKILL + resume differ:\n got %s\nwant %s", got, want)
	}
}

// TestChildRun is the child half of TestKilledProcessResumes: it runs the
// grid and SIGKILLs itself at the n-th time the runner reaches point.
func TestChildRun(t *testing.T) {
	spec := os.Getenv("XCBENCH_RUNNER_CHILD")
	if spec == "" {
		t.Skip("child mode only")
	}
	parts := strings.Split(spec, "|")
	gfile, out, point := parts[0], parts[1], parts[2]
	n, _ := strconv.Atoi(parts[3])
	g, err := grid.Load(gfile, grid.LoadOptions{Environ: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	cells, err := grid.Expand(g)
	if err != nil {
		t.Fatal(err)
	}
	r := newRunner(t, out, nil)
	r.o.Fault = func(p string) {
		if p == point {
			if n--; n == 0 {
				_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
				select {}
			}
		}
	}
	if _, err := r.Run(context.Background(), g, cells); err != nil {
		t.Fatal(err)
	}
}

func TestUnionCells(t *testing.T) {
	mk := func(ids string) []grid.Cell {
		var out []grid.Cell
		for _, r := range ids {
			out = append(out, grid.Cell{ID: string(r), Name: "old"})
		}
		return out
	}
	b := mk("cad")
	for i := range b {
		b[i].Name = "new"
	}
	got := unionCells(mk("abc"), b)
	ids, names := "", ""
	for _, c := range got {
		ids += c.ID
		names += c.Name[:1]
	}
	if ids != "cadb" || names != "nnno" {
		t.Fatalf("union = %q (%q), want cadb (nnno)", ids, names)
	}
	// One task's cell joining a full manifest keeps the manifest's order.
	got = unionCells(mk("abcd"), b[2:3])
	ids, names = "", ""
	for _, c := range got {
		ids += c.ID
		names += c.Name[:1]
	}
	if ids != "abcd" || names != "ooon" {
		t.Fatalf("subset union = %q (%q), want abcd (ooon)", ids, names)
	}
}

// TestSynthSharedByProcesses: two runners sharing a run folder (two
// cluster tasks) generate the same synthetic set at the same moment; both
// must end with the one complete set.
func TestSynthSharedByProcesses(t *testing.T) {
	_, cells := loadGrid(t, `
name: s
datasets: [{name: synth, synth: {labels: 10}}]
epochs: 1
batch_size: 4
encoder: {name: e}
sampler: {name: s}
classifier: {name: c}
`)
	dir := t.TempDir()
	st, _ := results.Open(dir)
	var inside sync.WaitGroup
	inside.Add(2)
	synth := func(ctx context.Context, params map[string]any, out string) error {
		inside.Done()
		inside.Wait() // both runners are generating now
		return os.WriteFile(filepath.Join(out, "data.txt"), []byte("x"), 0o644)
	}
	open := func(ctx context.Context, d string, _ json.RawMessage) (*data.Dataset, error) {
		if _, err := os.Stat(filepath.Join(d, "data.txt")); err != nil {
			return nil, err
		}
		return &data.Dataset{}, nil
	}
	errs := make(chan error, 2)
	for range 2 {
		r, err := New(Options{Launcher: RegistryLauncher{}, Store: st, Data: open, Score: Score, Synth: synth})
		if err != nil {
			t.Fatal(err)
		}
		go func() { _, _, err := r.dataset(context.Background(), cells[0].Spec); errs <- err }()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	ents, _ := os.ReadDir(filepath.Join(dir, "datasets"))
	if len(ents) != 1 {
		t.Fatalf("datasets/ holds %d entries, want the one set (temporary folders left?)", len(ents))
	}
}
