package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xcbench/xcbench/core/executor"
	"github.com/xcbench/xcbench/core/grid"
	"github.com/xcbench/xcbench/core/results"
)

// slurmGrid has three cells; the "gate" sampler (testdata/gateplugin) is
// the random sampler that, under XCBENCH_TEST_GATE, holds epoch 1 until
// the test opens the gate.
const slurmGrid = `
name: slurm-e2e
datasets: [{name: synth, synth: {labels: 40, train_docs: 300, test_docs: 60, seed: 5}}]
epochs: 3
batch_size: 32
eval: {every: 1, k: [1, 5]}
encoder: {name: bow, params: {dim: 16, lr: 0.01, warmup_steps: 2}}
sampler: {name: random}
classifier: {name: knn}
matrix:
  sampler.name: [random, ngame, gate]
include:
  - {sampler.name: ngame, sampler.params: {refresh_start: 1, refresh_interval: 1, curriculum_epochs: [1]}}
`

// TestSlurmEndToEnd submits a 3-cell grid to a real Slurm (started by
// scripts/slurm-local.sh, as scripts/test.sh does) and checks that every
// cell ends done with the same records as a local run; that a cell warned
// with SIGUSR1 mid-run requeues itself and resumes; that a cell killed with
// scancel mid-run is left resumable, resubmitted alone by a second run
// and resumes from its checkpoint; and that a third run submits nothing.
func TestSlurmEndToEnd(t *testing.T) {
	// scripts/test.sh sets XCBENCH_REQUIRE_SLURM once its Slurm is up: then
	// a missing piece is a failure, not a skip.
	skip := t.Skipf
	if os.Getenv("XCBENCH_REQUIRE_SLURM") != "" {
		skip = t.Fatalf
	}
	for _, c := range []string{"sbatch", "squeue", "scancel", "scontrol", "sinfo"} {
		if _, err := exec.LookPath(c); err != nil {
			skip("Slurm not installed (%s not on PATH): scripts/slurm-local.sh start sets up a single-node Slurm", c)
		}
	}
	if out, err := exec.Command("sinfo", "-h", "-o", "%t").Output(); err != nil || !regexp.MustCompile(`idle|mix|alloc`).Match(out) {
		skip("Slurm is installed but no node takes jobs (sinfo: %q, %v): run scripts/slurm-local.sh start", out, err)
	}
	if testing.Short() {
		t.Skip("submits real Slurm jobs")
	}
	dir := t.TempDir()
	bin := buildBins(t, dir)
	gridFile, cells := writeGrid(t, dir, slurmGrid)
	gi := gateCell(cells)
	gate := filepath.Join(dir, "gate")
	env := append(os.Environ(), "XCBENCH_PLUGIN_PATH="+bin)
	xcbench := func(env []string, args ...string) (string, string) {
		t.Helper()
		cmd := exec.Command(filepath.Join(bin, "xcbench"), args...)
		cmd.Dir, cmd.Env = dir, env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("xcbench %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return stdout.String(), stderr.String()
	}
	local := filepath.Join(dir, "local")
	xcbench(env, "run", gridFile, "--out", local)

	run := filepath.Join(dir, "run")
	slurmEnv := append(env, "XCBENCH_TEST_GATE="+gate)
	var jobs []string
	t.Cleanup(func() {
		if len(jobs) > 0 {
			exec.Command("scancel", jobs...).Run()
		}
		if t.Failed() {
			for _, j := range jobs {
				b, _ := exec.Command("scontrol", "show", "job", j).CombinedOutput()
				t.Logf("scontrol show job %s:\n%s", j, b)
			}
			logs, _ := filepath.Glob(filepath.Join(run, "executor", "logs", "*"))
			for _, l := range logs {
				b, _ := os.ReadFile(l)
				t.Logf("%s:\n%s", l, b)
			}
		}
	})
	submit := func() string {
		t.Helper()
		out, _ := xcbench(slurmEnv, "run", gridFile, "--executor", "slurm", "--out", run, "--array-parallelism", "3")
		id := strings.TrimSpace(out)
		if !regexp.MustCompile(`^[0-9]+$`).MatchString(id) {
			t.Fatalf("run --executor slurm printed %q, want a job id", out)
		}
		jobs = append(jobs, id)
		return id
	}
	store, _ := results.Open(run)
	status := func(i int) results.Status {
		st, err := store.Cell(cells[i].ID).Status()
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	queue := func(task string) string {
		out, _ := exec.Command("squeue", "-h", "-r", "-j", task, "-o", "%T %r").Output()
		return strings.TrimSpace(string(out))
	}

	job := submit()
	task := job + "_" + strconv.Itoa(gi)
	waitFor(t, "the two other cells done and the gate cell held after epoch 0", func() bool {
		for i := range cells {
			if i != gi && status(i).State != results.StateDone {
				return false
			}
		}
		_, err := os.Stat(gate + ".waiting")
		return err == nil && status(gi).Epoch == 0
	})
	recs, _ := store.Cell(cells[gi].ID).Records()
	if len(recs) != 1 {
		t.Fatalf("gate cell holds %d records before the signals, want 1", len(recs))
	}
	epoch0 := recs[0].Time

	// Time-limit warning: USR1 to the batch shell; the task stops at its
	// checkpoint and requeues itself.
	os.Remove(gate + ".waiting")
	if out, err := exec.Command("scancel", "--signal=USR1", "--batch", task).CombinedOutput(); err != nil {
		t.Fatalf("scancel --signal=USR1: %v %s", err, out)
	}
	waitFor(t, "the warned task requeued and held at the gate again", func() bool {
		if queue(task) == "PENDING BeginTime" {
			// Slurm holds a requeued job back for a while: start it now.
			exec.Command("scontrol", "update", "JobId="+task, "StartTime=now").Run()
		}
		_, err := os.Stat(gate + ".waiting")
		return err == nil && status(gi).Attempts == 2
	})

	// scancel: SIGTERM; the cell stays resumable and is not requeued.
	if out, err := exec.Command("scancel", task).CombinedOutput(); err != nil {
		t.Fatalf("scancel: %v %s", err, out)
	}
	waitFor(t, "the cancelled task gone from the queue", func() bool { return queue(task) == "" })
	states := executor.Survey(store, cells, time.Now())
	if s := states[gi]; s.State != executor.StateInterrupted || s.Epoch != 0 || s.Attempts != 2 {
		t.Fatalf("after scancel the gate cell is %+v, want interrupted at epoch 0 after 2 attempts", s)
	}
	out, _ := xcbench(env, "status", run)
	if !strings.Contains(out, "interrupted") || !strings.Contains(out, "--executor=slurm") {
		t.Errorf("status does not show the interrupted cell and the resubmit command:\n%s", out)
	}

	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	job2 := submit()
	subs, err := executor.Submissions(run)
	if err != nil || len(subs) != 2 || !reflect.DeepEqual(subs[1].Cells, []int{gi}) || subs[1].JobID != job2 {
		t.Fatalf("second submission %+v (%v), want only cell %d", subs, err, gi)
	}
	waitFor(t, "the resubmitted cell done", func() bool { return status(gi).State == results.StateDone })
	if st := status(gi); st.Attempts != 3 {
		t.Errorf("gate cell attempts %d, want 3 (run, requeue, resubmission)", st.Attempts)
	}
	recs, _ = store.Cell(cells[gi].ID).Records()
	if len(recs) != 3 || !recs[0].Time.Equal(epoch0) {
		t.Errorf("gate cell did not resume from its epoch-0 checkpoint: %d records, first at %v (was %v)", len(recs), recs[0].Time, epoch0)
	}
	// Same cells in the same (grid) order, same numbers.
	if got, want := records(t, run), records(t, local); got != want || want == "" {
		t.Errorf("Slurm records differ from the local run's:\n got %s\nwant %s", got, want)
	}
	if _, stderr := xcbench(slurmEnv, "run", gridFile, "--executor", "slurm", "--out", run); !strings.Contains(stderr, "nothing to submit") {
		t.Errorf("third run on a finished grid: %s", stderr)
	}
}

// waitFor polls cond (state written by Slurm tasks into files) for up to
// three minutes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// buildBins builds xcbench and the gate plugin into dir/bin.
func buildBins(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "bin")
	for pkg, out := range map[string]string{".": "xcbench", "./testdata/gateplugin": "xcbench-plugin-gate"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(bin, out), pkg)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, b)
		}
	}
	return bin
}

func gateCell(cells []grid.Cell) int {
	for i, c := range cells {
		if c.Spec.Sampler.Name == "gate" {
			return i
		}
	}
	return -1
}

// TestCellTaskSignals runs one cell as a cluster task would (--cell), no
// Slurm needed: SIGTERM and SIGUSR1 mid-run each stop it with exit status
// 130, its lease released and the cell resumable; the next run resumes it
// from its checkpoint and ends with the records of an uninterrupted run.
func TestCellTaskSignals(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := buildBins(t, dir)
	gridFile, cells := writeGrid(t, dir, slurmGrid)
	gi := gateCell(cells)
	gate := filepath.Join(dir, "gate")
	run := filepath.Join(dir, "run")
	env := append(os.Environ(), "XCBENCH_PLUGIN_PATH="+bin, "XCBENCH_TEST_GATE="+gate)
	task := func() *exec.Cmd {
		cmd := exec.Command(filepath.Join(bin, "xcbench"), "run", gridFile, "--out", run,
			"--cell", strconv.Itoa(gi), "--cell-id", cells[gi].ID)
		cmd.Dir, cmd.Env = dir, env
		return cmd
	}
	store, _ := results.Open(run)
	var epoch0 time.Time
	for n, sig := range []os.Signal{syscall.SIGTERM, syscall.SIGUSR1} {
		os.Remove(gate + ".waiting")
		cmd := task()
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the cell held after epoch 0", func() bool {
			_, err := os.Stat(gate + ".waiting")
			return err == nil
		})
		cmd.Process.Signal(sig)
		err := cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != executor.ExitInterrupted {
			t.Fatalf("%v: %v, want exit status %d\n%s", sig, err, executor.ExitInterrupted, stderr.String())
		}
		st := executor.Survey(store, cells, time.Now())[gi]
		if st.State != executor.StateInterrupted || st.Epoch != 0 || st.Attempts != n+1 {
			t.Fatalf("after %v: %+v, want interrupted at epoch 0", sig, st)
		}
		recs, _ := store.Cell(cells[gi].ID).Records()
		if n == 0 {
			epoch0 = recs[0].Time
		} else if len(recs) != 1 || !recs[0].Time.Equal(epoch0) {
			t.Fatalf("resume after %v redid epoch 0", sig)
		}
	}
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := task().CombinedOutput(); err != nil {
		t.Fatalf("final run: %v\n%s", err, out)
	}
	recs, _ := store.Cell(cells[gi].ID).Records()
	if st, _ := store.Cell(cells[gi].ID).Status(); st.State != results.StateDone || len(recs) != 3 || !recs[0].Time.Equal(epoch0) {
		t.Fatalf("final: %+v, %d records", st, len(recs))
	}
	// The same cell run straight through (gate open) gives the same numbers.
	local := filepath.Join(dir, "local")
	cmd := exec.Command(filepath.Join(bin, "xcbench"), "run", gridFile, "--out", local, "--cell", strconv.Itoa(gi))
	cmd.Dir, cmd.Env = dir, env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("straight run: %v\n%s", err, out)
	}
	if got, want := records(t, run), records(t, local); got != want {
		t.Errorf("resumed records differ from a straight run:\n got %s\nwant %s", got, want)
	}
}
