package executor

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeBin writes an executable shell script name into dir.
func fakeBin(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/bash\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
}

func testTask(t *testing.T) Task {
	dir := t.TempDir()
	return Task{
		Binary: filepath.Join(dir, "bin", "xcbench"), Grid: filepath.Join(dir, "my grid.yaml"),
		Run: filepath.Join(dir, "runs", "g"), Dir: dir, Args: []string{"--epochs", "2", "--set", "sampler.params.k=it's"},
		Env: []string{"XCBENCH_PLUGIN_PATH=/opt/plugins", "XCBENCH_X=a b"}, Name: "g", Cells: testCells(),
		Command: "xcbench run g.yaml --executor=slurm",
	}
}

func TestSlurmScriptHeader(t *testing.T) {
	tk := testTask(t)
	o := SlurmOptions{Partition: "gpu", Parallelism: 4, Time: "4:00:00", Mem: "16G", GPUsPerCell: 1, CPUsPerCell: 2,
		SbatchArgs: []string{"--account=xc", "--qos=low"}}
	s, err := SlurmScript(tk, o, []int{0, 1, 2, 4}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"#SBATCH --array=0-2,4%4\n", "#SBATCH --partition=gpu\n", "#SBATCH --time=4:00:00\n", "#SBATCH --mem=16G\n",
		"#SBATCH --gres=gpu:1\n", "#SBATCH --cpus-per-task=2\n", "#SBATCH --account=xc\n", "#SBATCH --qos=low\n",
		"#SBATCH --signal=B:USR1@120\n", "#SBATCH --requeue\n", "#SBATCH --job-name=xcbench-g\n",
		"export XCBENCH_X='a b'\n", "ids=(aaa111 bbb222 ccc333 ddd444 eee555)\n", "max_attempts=(3 3 3 3 3)\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("script lacks %q:\n%s", want, s)
		}
	}
	if _, err := SlurmScript(tk, o, nil, nil); err == nil {
		t.Error("empty array accepted")
	}
	if _, err := SlurmScript(tk, SlurmOptions{SbatchArgs: []string{"--x\nrm -rf /"}}, []int{0}, nil); err == nil {
		t.Error("newline in --sbatch-arg accepted")
	}
}

// TestSlurmScriptRuns runs the generated batch script under bash as Slurm
// would run task 1, with a fake xcbench and scontrol: the task gets its
// cell, id, attempt budget, overrides and environment; on SIGUSR1 it
// requeues itself when xcbench exits 130 (interrupted); on SIGTERM or a real failure it
// does not.
func TestSlurmScriptRuns(t *testing.T) {
	tk := testTask(t)
	bin := filepath.Dir(tk.Binary)
	os.MkdirAll(bin, 0o755)
	log := filepath.Join(tk.Dir, "log")
	fakeBin(t, bin, "xcbench", `
printf '%s\n' "$@" > "`+log+`.args"
echo "$XCBENCH_X" > "`+log+`.env"
case "$FAKE_MODE" in
fail) exit 1 ;;
wait) trap 'exit 130' USR1 TERM; touch "`+log+`.started"; while :; do sleep 0.02; done ;;
esac
`)
	fakeBin(t, bin, "scontrol", `echo "$@" >> "`+log+`.scontrol"`)
	s, err := SlurmScript(tk, SlurmOptions{}, []int{1}, map[int]int{1: 2})
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(tk.Dir, "job.sh")
	os.WriteFile(script, []byte(s), 0o755)

	run := func(mode string, sig os.Signal) (int, string) {
		t.Helper()
		os.Remove(log + ".scontrol")
		os.Remove(log + ".started")
		cmd := exec.Command("bash", script)
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "SLURM_ARRAY_TASK_ID=1", "SLURM_ARRAY_JOB_ID=77", "FAKE_MODE="+mode)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if sig != nil {
			deadline := time.Now().Add(30 * time.Second)
			for {
				if _, err := os.Stat(log + ".started"); err == nil {
					break
				}
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					t.Fatal("fake xcbench never started")
				}
				time.Sleep(10 * time.Millisecond)
			}
			cmd.Process.Signal(sig)
		}
		err := cmd.Wait()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		sc, _ := os.ReadFile(log + ".scontrol")
		return code, string(sc)
	}

	if code, sc := run("ok", nil); code != 0 || sc != "" {
		t.Errorf("success: exit %d, scontrol %q", code, sc)
	}
	args, _ := os.ReadFile(log + ".args")
	wantArgs := []string{"run", tk.Grid, "--out", tk.Run, "--cell", "1", "--cell-id", "bbb222", "--max-attempts", "5",
		"--epochs", "2", "--set", "sampler.params.k=it's"}
	if got := strings.Split(strings.TrimSpace(string(args)), "\n"); !reflect.DeepEqual(got, wantArgs) {
		t.Errorf("xcbench args %q, want %q", got, wantArgs)
	}
	if env, _ := os.ReadFile(log + ".env"); string(env) != "a b\n" {
		t.Errorf("exported env %q", env)
	}
	if code, sc := run("fail", nil); code != 1 || sc != "" {
		t.Errorf("real failure: exit %d, scontrol %q (must not requeue)", code, sc)
	}
	if code, sc := run("wait", syscall.SIGUSR1); code != 0 || sc != "requeue 77_1\n" {
		t.Errorf("SIGUSR1: exit %d, scontrol %q, want a requeue of 77_1", code, sc)
	}
	if code, sc := run("wait", syscall.SIGTERM); code != ExitInterrupted || sc != "" {
		t.Errorf("SIGTERM: exit %d, scontrol %q, want exit %d and no requeue", code, sc, ExitInterrupted)
	}
}

// TestSubmitSlurmAndQueue submits against a fake sbatch and reads a fake
// squeue and sacct.
func TestSubmitSlurmAndQueue(t *testing.T) {
	s, cells, release := fixture(t)
	defer release()
	tk := testTask(t)
	tk.Run, tk.Cells = s.Dir, cells
	bin := t.TempDir()
	fakeBin(t, bin, "sbatch", `echo "$@" > `+bin+`/sbatch.args; echo "4242;cluster"`)
	fakeBin(t, bin, "squeue", `echo "$@" > `+bin+`/squeue.args; printf '4242_2|RUNNING\n4242_4|PENDING\n'`)
	fakeBin(t, bin, "sacct", `printf '4242_0|COMPLETED\n4242_2|CANCELLED by 0\n'`)
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))

	states := Survey(s, cells, time.Now())
	sub, err := SubmitSlurm(context.Background(), tk, SlurmOptions{Parallelism: 2}, states)
	if err != nil {
		t.Fatal(err)
	}
	if sub.JobID != "4242" || !reflect.DeepEqual(sub.Cells, []int{0, 2, 4}) || !reflect.DeepEqual(sub.IDs, []string{"aaa111", "ccc333", "eee555"}) {
		t.Fatalf("submission %+v", sub)
	}
	if args, _ := os.ReadFile(filepath.Join(bin, "sbatch.args")); string(args) != "--parsable "+sub.Script+"\n" {
		t.Errorf("sbatch args %q", args)
	}
	b, _ := os.ReadFile(sub.Script)
	if !strings.Contains(string(b), "#SBATCH --array=0,2,4%2\n") || filepath.Base(sub.Script) != "slurm-1.sh" {
		t.Errorf("%s:\n%s", sub.Script, b)
	}
	subs, err := Submissions(s.Dir)
	if err != nil || len(subs) != 1 || subs[0].Command != tk.Command {
		t.Fatalf("submissions %+v, %v", subs, err)
	}
	queued, ended, notes := SlurmQueue(context.Background(), subs)
	if !reflect.DeepEqual(queued, map[string]string{"ccc333": "RUNNING", "eee555": "PENDING"}) {
		t.Errorf("queued %v", queued)
	}
	if !reflect.DeepEqual(ended, map[string]string{"aaa111": "COMPLETED", "ccc333": "CANCELLED"}) {
		t.Errorf("ended %v", ended)
	}
	if len(notes) != 0 {
		t.Errorf("notes %v", notes)
	}
	if args, _ := os.ReadFile(filepath.Join(bin, "squeue.args")); !strings.Contains(string(args), "-j 4242") {
		t.Errorf("squeue args %q", args)
	}
	// Queued cells are not submitted again.
	for i := range states {
		states[i].Queue = queued[states[i].Cell.ID]
	}
	sub2, err := SubmitSlurm(context.Background(), tk, SlurmOptions{}, states)
	if err != nil || !reflect.DeepEqual(sub2.Cells, []int{0}) || filepath.Base(sub2.Script) != "slurm-2.sh" {
		t.Fatalf("resubmission %+v, %v", sub2, err)
	}
	for i := range states {
		states[i].Queue = "RUNNING"
	}
	if _, err := SubmitSlurm(context.Background(), tk, SlurmOptions{}, states); !errors.Is(err, ErrNothingToSubmit) {
		t.Errorf("all queued: %v", err)
	}
}

func TestSubmitSlurmReportsSbatchError(t *testing.T) {
	s, cells, release := fixture(t)
	defer release()
	tk := testTask(t)
	tk.Run, tk.Cells = s.Dir, cells
	bin := t.TempDir()
	fakeBin(t, bin, "sbatch", `echo "sbatch: error: invalid partition specified: nope" >&2; exit 1`)
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	_, err := SubmitSlurm(context.Background(), tk, SlurmOptions{Partition: "nope"}, Survey(s, cells, time.Now()))
	if err == nil || !strings.Contains(err.Error(), "invalid partition") {
		t.Fatalf("err %v, want sbatch's message", err)
	}
	if subs, _ := Submissions(s.Dir); len(subs) != 0 {
		t.Errorf("failed submission logged: %+v", subs)
	}
}

func TestSlurmQueueWithoutSlurm(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	q, e, notes := SlurmQueue(context.Background(), []Submission{{Executor: "slurm", JobID: "1", Cells: []int{0}, IDs: []string{"a"}}})
	if len(q)+len(e) != 0 || len(notes) != 1 || !strings.Contains(notes[0], "squeue not on PATH") {
		t.Errorf("queued %v ended %v notes %v", q, e, notes)
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"plain/path-1.yaml": "plain/path-1.yaml", "": "''", "a b": "'a b'", "it's": `'it'\''s'`, "$HOME": "'$HOME'",
	} {
		if got := ShellQuote(in); got != want {
			t.Errorf("ShellQuote(%q) = %s, want %s", in, got, want)
		}
		if out, err := exec.Command("bash", "-c", "printf %s "+ShellQuote(in)).Output(); err != nil || string(out) != in {
			t.Errorf("bash read %s as %q", ShellQuote(in), out)
		}
	}
}
