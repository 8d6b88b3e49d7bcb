package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/xcbench/xcbench/core/executor"
	"github.com/xcbench/xcbench/core/grid"
	"github.com/xcbench/xcbench/core/results"
)

const executorGrid = `
name: tiny
datasets: [{name: synth, synth: {labels: 40, train_docs: 300, test_docs: 60, seed: 5}}]
epochs: 2
batch_size: 32
eval: {every: 1, k: [1, 5]}
encoder: {name: bow, params: {dim: 16, lr: 0.01, warmup_steps: 2}}
sampler: {name: random}
classifier: {name: knn}
matrix:
  sampler.name: [random, ngame, ance]
`

func writeGrid(t *testing.T, dir, text string) (string, []grid.Cell) {
	t.Helper()
	p := filepath.Join(dir, "grid.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	g, err := grid.Load(p, grid.LoadOptions{Environ: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	cells, err := grid.Expand(g)
	if err != nil {
		t.Fatal(err)
	}
	return p, cells
}

// TestRunExecutorSlurmFakeSbatch drives `xcbench run --executor slurm` and
// `xcbench status` against a fake sbatch/squeue on PATH (no Slurm needed):
// the manifest lists the whole grid in order before any task runs, the
// batch script carries the overrides, a done cell is not resubmitted.
func TestRunExecutorSlurmFakeSbatch(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	gridFile, _ := writeGrid(t, dir, executorGrid)
	bin := filepath.Join(dir, "fakebin")
	os.MkdirAll(bin, 0o755)
	os.WriteFile(filepath.Join(bin, "sbatch"), []byte("#!/bin/sh\necho \"$@\" >> "+bin+"/sbatch.log\necho 31337\n"), 0o755)
	os.WriteFile(filepath.Join(bin, "squeue"), []byte("#!/bin/sh\nexit 0\n"), 0o755)
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))

	run := filepath.Join(dir, "run")
	out, err := runRoot(t, "run", gridFile, "--executor", "slurm", "--out", run, "--epochs", "3", "--array-parallelism", "2", "--partition", "cpu")
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(out) != "31337" {
		t.Fatalf("stdout %q, want the job id", out)
	}
	_, cells := writeGrid(t, t.TempDir(), strings.Replace(executorGrid, "epochs: 2", "epochs: 3", 1))
	store, _ := results.Open(run)
	man, err := store.ReadManifest()
	if err != nil {
		t.Fatal(err)
	}
	var ids, want []string
	for i := range cells {
		ids, want = append(ids, man.Cells[i].ID), append(want, cells[i].ID)
	}
	if len(man.Cells) != 3 || !reflect.DeepEqual(ids, want) {
		t.Fatalf("manifest cells %v, want the --epochs 3 grid's %v in order", ids, want)
	}
	subs, _ := executor.Submissions(run)
	if len(subs) != 1 || !reflect.DeepEqual(subs[0].Cells, []int{0, 1, 2}) {
		t.Fatalf("submissions %+v", subs)
	}
	script, _ := os.ReadFile(subs[0].Script)
	for _, w := range []string{"#SBATCH --array=0-2%2", "#SBATCH --partition=cpu", "--epochs 3", "--cell \"$i\""} {
		if !strings.Contains(string(script), w) {
			t.Errorf("batch script lacks %q:\n%s", w, script)
		}
	}
	if !strings.Contains(subs[0].Command, "--epochs=3") || !strings.Contains(subs[0].Command, "--executor=slurm") {
		t.Errorf("logged resubmit command %q", subs[0].Command)
	}

	// Cell 1 finished: the next submission leaves it out.
	if err := store.Cell(cells[1].ID).SetStatus(results.Status{State: results.StateDone, Epoch: 2, Attempts: 1}); err != nil {
		t.Fatal(err)
	}
	out, err = runRoot(t, "status", run)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"1 done", "2 pending", subs[0].Command} {
		if !strings.Contains(out, w) {
			t.Errorf("status lacks %q:\n%s", w, out)
		}
	}
	if _, err := runRoot(t, "run", gridFile, "--executor", "slurm", "--out", run, "--epochs", "3"); err != nil {
		t.Fatal(err)
	}
	subs, _ = executor.Submissions(run)
	if len(subs) != 2 || !reflect.DeepEqual(subs[1].Cells, []int{0, 2}) {
		t.Fatalf("resubmission %+v, want cells 0 and 2", subs)
	}

	// k8s writes a manifest instead.
	out, err = runRoot(t, "run", gridFile, "--executor", "k8s", "--out", filepath.Join(dir, "k8srun"), "--k8s-image", "img", "--k8s-pvc", "pvc")
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(strings.TrimSpace(out)); err != nil || !strings.Contains(string(b), "completionMode: Indexed") {
		t.Errorf("k8s manifest %s: %v", out, err)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--executor", "pbs"}, `--executor "pbs"`},
		{[]string{"--executor", "slurm", "--shard", "0/2"}, "--shard and --cell"},
		{[]string{"--cell-id", "abc"}, "--cell-id needs --cell"},
		{[]string{"--cell", "7"}, "the grid has 3 cells"},
		{[]string{"--cell", "1", "--cell-id", cells[0].ID}, "grid file changed"},
	} {
		_, err := runRoot(t, append([]string{"run", gridFile, "--out", run, "--epochs", "3"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		}
	}
}

// TestRunOneCell: --cell runs exactly that cell of the grid, in process.
func TestRunOneCell(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a real cell")
	}
	dir := t.TempDir()
	gridFile, cells := writeGrid(t, dir, executorGrid)
	run := filepath.Join(dir, "run")
	if _, err := runRoot(t, "run", gridFile, "--out", run, "--in-process", "--cell", "2", "--cell-id", cells[2].ID); err != nil {
		t.Fatal(err)
	}
	store, _ := results.Open(run)
	for i, c := range cells {
		st, _ := store.Cell(c.ID).Status()
		if want := map[bool]string{true: results.StateDone, false: ""}[i == 2]; st.State != want {
			t.Errorf("cell %d state %q, want %q", i, st.State, want)
		}
	}
	if b, err := os.ReadFile(filepath.Join(store.Cell(cells[2].ID).Dir, "task.json")); err != nil || !strings.Contains(string(b), `"attempt": 1`) {
		t.Errorf("task.json: %s %v", b, err)
	}
}

func TestOverrideArgs(t *testing.T) {
	f := pflag.NewFlagSet("x", pflag.ContinueOnError)
	grid.AddFlags(f)
	if err := f.Parse([]string{"--seeds", "1,2", "--set", "a.b=1", "--set", "c=x y", "--epochs", "4"}); err != nil {
		t.Fatal(err)
	}
	got := overrideArgs(f)
	want := []string{"--epochs", "4", "--seeds", "1,2", "--set", "a.b=1", "--set", "c=x y"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("overrideArgs = %q, want %q", got, want)
	}
}
