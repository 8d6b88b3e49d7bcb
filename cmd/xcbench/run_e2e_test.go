package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/core/results"
)

// tinyGrid is NGAME with its default one-epoch lag re-clustering every
// epoch, plus random, on a small synthetic set: a few seconds per cell.
const tinyGrid = `name: tiny
datasets: [{name: synth, synth: {labels: 40, train_docs: 240, test_docs: 50, seed: 5}}]
epochs: 4
batch_size: 32
eval: {every: 1, k: [1, 5]}
encoder: {name: bow, params: {dim: 16, lr: 0.01, warmup_steps: 2}}
sampler: {name: ngame, params: {refresh_start: 1, refresh_interval: 1, curriculum_epochs: [1, 2]}}
classifier: {name: knn}
`

// twoSamplers is tinyGrid's NGAME cell beside a random one.
var twoSamplers = strings.Replace(tinyGrid, "sampler: {name: ngame, params: {refresh_start: 1, refresh_interval: 1, curriculum_epochs: [1, 2]}}",
	"sampler: {name: random}\nmatrix: {sampler.name: [ngame, random]}\ninclude: [{sampler.name: ngame, sampler.params: {refresh_start: 1, refresh_interval: 1, curriculum_epochs: [1, 2]}}]", 1)

// records is a run folder's records without what legitimately differs
// between runs (timings, memory), one cell after another.
func records(t *testing.T, run string) string {
	t.Helper()
	st, err := results.Open(run)
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.ReadManifest()
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, c := range m.Cells {
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

// TestSIGKILLedNGAMECellResumesExactly kills a real xcbench process (and
// with it its plugin processes) right after epoch 2 of an NGAME cell is
// committed, reruns the same command, and requires the records of a run
// that was never interrupted.
func TestSIGKILLedNGAMECellResumesExactly(t *testing.T) {
	if testing.Short() {
		t.Skip("runs xcbench processes")
	}
	dir := t.TempDir()
	grid := writeFile(t, filepath.Join(dir, "tiny.yaml"), tinyGrid)
	if _, errs, code := xcbench(t, dir, nil, "run", grid, "--out", "clean"); code != 0 {
		t.Fatalf("clean run: exit %d\n%s", code, errs)
	}
	_, errs, code := xcbench(t, dir, []string{"XCBENCH_FAULT=kill@committed:2"}, "run", grid, "--out", "killed")
	if code != -1 {
		t.Fatalf("the fault did not kill the run: exit %d\n%s", code, errs)
	}
	st, _ := results.Open(filepath.Join(dir, "killed"))
	m, err := st.ReadManifest()
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := st.Cell(m.Cells[0].ID).Status(); s.State != results.StateRunning || s.Epoch != 2 {
		t.Fatalf("status after SIGKILL: %+v", s)
	}
	if _, errs, code := xcbench(t, dir, nil, "run", grid, "--out", "killed"); code != 0 {
		t.Fatalf("resumed run: exit %d\n%s", code, errs)
	}
	want, got := records(t, filepath.Join(dir, "clean")), records(t, filepath.Join(dir, "killed"))
	if strings.Count(want, "\n") != 4 || got != want {
		t.Fatalf("resumed records differ from a clean run:\n got %s\nwant %s", got, want)
	}
	m, _ = st.ReadManifest()
	if len(m.Processes) != 2 || m.Processes[0].Build.Source == "" || m.GridSHA256 == "" {
		t.Fatalf("manifest processes %+v", m.Processes)
	}
	if s, _ := st.Cell(m.Cells[0].ID).Status(); s.State != results.StateDone || s.Attempts != 2 || len(s.Builds) != 1 {
		t.Fatalf("final status %+v", s)
	}
	// The final predictions are kept, and rescoring them gives the record.
	truth, _ := filepath.Glob(filepath.Join(dir, "killed", "datasets", "*", "tst_X_Y.txt"))
	pred := filepath.Join(st.Cell(m.Cells[0].ID).Dir, "predictions-m1.txt")
	if len(truth) != 1 {
		t.Fatalf("synthetic test labels: %v", truth)
	}
	out, errs, code := xcbench(t, dir, nil, "eval", "--pred", pred, "--truth", truth[0], "--k", "1")
	recs, _ := st.Cell(m.Cells[0].ID).Records()
	p1 := fmt.Sprintf("%.2f", 100*recs[len(recs)-1].Metrics["P@1"])
	t.Logf("record P@1 %s; eval:\n%s", p1, out)
	if code != 0 || !strings.Contains(out, p1) {
		t.Fatalf("rescoring %s: exit %d, want P@1 %s in\n%s%s", pred, code, p1, out, errs)
	}
}

// TestRunExitStatus pins the documented exit statuses and that invalid
// cells are refused before anything trains, naming what is wrong where.
func TestRunExitStatus(t *testing.T) {
	if testing.Short() {
		t.Skip("runs xcbench processes")
	}
	dir := t.TempDir()
	tests := []struct {
		name   string
		grid   string
		args   []string
		code   int
		stderr []string
		ran    bool
	}{
		{"unknown sampler", strings.Replace(tinyGrid, "{name: ngame,", "{name: ngmae,", 1), []string{"--dry-run"}, 2,
			[]string{`sampler "ngmae"`, "random"}, false},
		{"unknown sampler, real run", strings.Replace(tinyGrid, "{name: ngame,", "{name: ngmae,", 1), nil, 2,
			[]string{`sampler "ngmae"`}, false},
		{"misspelled encoder param", strings.Replace(tinyGrid, "dim: 16", "dimm: 16", 1), []string{"--dry-run"}, 2,
			[]string{"g.yaml:6: encoder.params.dimm: unknown param of encoder bow", "dim,"}, false},
		{"mistyped sampler param", strings.Replace(tinyGrid, "refresh_start: 1,", "refresh_start: soon,", 1), []string{"--dry-run"}, 2,
			[]string{"g.yaml:7: sampler.params.refresh_start: want int, got soon"}, false},
		{"missing data folder", strings.Replace(tinyGrid, "{name: synth, synth: {labels: 40, train_docs: 240, test_docs: 50, seed: 5}}", "{name: gone, dir: nowhere}", 1), []string{"--dry-run"}, 2,
			[]string{"dataset gone", "nowhere"}, false},
		{"negative synthetic label count", strings.Replace(tinyGrid, "labels: 40", "labels: -5", 1), []string{"--dry-run"}, 2,
			[]string{"dataset synth", "labels: -5"}, false},
		{"misspelled dataset option", strings.Replace(tinyGrid, "{name: synth, synth:", "{name: synth, options: {validaton: 0.1}, synth:", 1), []string{"--dry-run"}, 2,
			[]string{"g.yaml:2: dataset synth: options:", `unknown field "validaton"`}, false},
		{"validation fraction out of range", strings.Replace(tinyGrid, "{name: synth, synth:", "{name: synth, options: {validation: 0.9}, synth:", 1), []string{"--dry-run"}, 2,
			[]string{"g.yaml:2: dataset synth: options:", "validation 0.9"}, false},
		{"unknown call timeout", tinyGrid + "call_timeouts: {train_stpe: 1m}\n", []string{"--dry-run"}, 2,
			[]string{"g.yaml:9: call_timeouts.train_stpe: unknown call"}, false},
		{"failing cell", strings.Replace(twoSamplers, "curriculum_epochs: [1, 2]", "curriculum_epochs: [1, 2], doc_source: bogus", 1), []string{"--epochs", "1"}, 3,
			[]string{"1 of 2 cells failed", "FAILED", "doc_source"}, true},
		{"a cell past the grid's timeout", tinyGrid + "timeout: 1ms\n", []string{"--epochs", "1"}, 3,
			[]string{"cell timed out after 1ms (grid timeout)"}, true},
		{"a plugin call past its deadline", tinyGrid + "call_timeouts: {train_step: 1ns}\n", []string{"--epochs", "1"}, 3,
			[]string{"timed out after 0.000000001 s in bow.train_step"}, true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sub := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
			grid := writeFile(t, filepath.Join(sub, "g.yaml"), tc.grid)
			_, errs, code := xcbench(t, sub, nil, append([]string{"run", grid, "--out", "run"}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", code, tc.code, errs)
			}
			for _, w := range tc.stderr {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errs)
				}
			}
			if _, err := os.Stat(filepath.Join(sub, "run", "cells")); (err == nil) != tc.ran {
				t.Errorf("case %d: run folder written: %v, want %v", i, err == nil, tc.ran)
			}
		})
	}
}

// TestSecondWriterSkipsLockedCell holds one cell's lock as another process
// sharing the run folder would; xcbench must leave that cell alone, run the
// rest, and run it once the lock is free, never recording an epoch twice.
func TestSecondWriterSkipsLockedCell(t *testing.T) {
	if testing.Short() {
		t.Skip("runs xcbench processes")
	}
	dir := t.TempDir()
	grid := writeFile(t, filepath.Join(dir, "g.yaml"), twoSamplers)
	st, _ := results.Open(filepath.Join(dir, "run"))
	m := mustCells(t, dir, grid)
	unlock, err := st.Cell(m[0]).TryLock()
	if err != nil {
		t.Fatal(err)
	}
	_, errs, code := xcbench(t, dir, nil, "run", grid, "--out", "run", "--epochs", "2")
	if code != 0 || !strings.Contains(errs, "1 running in another process") || !strings.Contains(errs, "is locked by another process") {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	if recs, _ := st.Cell(m[0]).Records(); len(recs) != 0 {
		t.Fatalf("the locked cell was written: %d records", len(recs))
	}
	unlock()
	_, errs, code = xcbench(t, dir, nil, "run", grid, "--out", "run", "--epochs", "2")
	if code != 0 || !strings.Contains(errs, "1 done, 0 failed, 1 skipped") {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	for _, id := range m {
		if recs, err := st.Cell(id).Records(); err != nil || len(recs) != 2 {
			t.Fatalf("cell %s: %d records, %v", id, len(recs), err)
		}
	}
}

// mustCells lists the grid's cell ids in run order via --dry-run output.
func mustCells(t *testing.T, dir, grid string) []string {
	t.Helper()
	out, errs, code := xcbench(t, dir, nil, "run", grid, "--dry-run", "--epochs", "2")
	if code != 0 {
		t.Fatalf("dry run: %d %s", code, errs)
	}
	var ids []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(strings.ReplaceAll(line, "│", " "))
		if len(f) > 2 && len(f[1]) == 12 {
			ids = append(ids, f[1])
		}
	}
	if len(ids) != 2 {
		t.Fatalf("ids %v from\n%s", ids, out)
	}
	return ids
}

// TestClassifierOnlyBaselineCell runs tf-idf kNN as a cell of its own
// beside a trained encoder's cell: no encoder, one record, predictions kept.
func TestClassifierOnlyBaselineCell(t *testing.T) {
	if testing.Short() {
		t.Skip("runs xcbench processes")
	}
	dir := t.TempDir()
	grid := writeFile(t, filepath.Join(dir, "g.yaml"), strings.Replace(tinyGrid, "epochs: 4", "epochs: 2", 1)+
		"matrix: {encoder.name: [bow, none]}\ninclude: [{encoder.name: none, sampler.name: none, sampler.params: {}, classifier.name: tfidf-knn}]\n")
	_, errs, code := xcbench(t, dir, nil, "run", grid, "--out", "run")
	if code != 0 || !strings.Contains(errs, "2 done, 0 failed") {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	st, _ := results.Open(filepath.Join(dir, "run"))
	m, _ := st.ReadManifest()
	var base *string
	for _, c := range m.Cells {
		if c.Spec.Baseline() {
			id := c.ID
			base = &id
		}
	}
	if base == nil {
		t.Fatalf("no baseline cell in %+v", m.Cells)
	}
	recs, err := st.Cell(*base).Records()
	if err != nil || len(recs) != 1 || recs[0].Metrics["P@1"] <= 0 {
		t.Fatalf("baseline records %+v %v", recs, err)
	}
	if _, err := os.Stat(filepath.Join(st.Cell(*base).Dir, "predictions-m1.txt")); err != nil {
		t.Fatal(err)
	}
}

// TestCompareRescoresKeptPredictions compares a trained encoder's cells
// with tf-idf kNN baseline cells over two seeds: each pair's values must be
// the records' (rescored from the kept predictions), with both intervals.
func TestCompareRescoresKeptPredictions(t *testing.T) {
	if testing.Short() {
		t.Skip("runs xcbench processes")
	}
	dir := t.TempDir()
	grid := writeFile(t, filepath.Join(dir, "g.yaml"), strings.Replace(strings.Replace(tinyGrid, "epochs: 4", "epochs: 1", 1), "batch_size: 32", "batch_size: 32\nseeds: [1, 2]", 1)+
		"matrix: {encoder.name: [bow, none]}\ninclude: [{encoder.name: none, sampler.name: none, sampler.params: {}, classifier.name: tfidf-knn}]\n")
	if _, errs, code := xcbench(t, dir, nil, "run", grid, "--out", "run"); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, errs)
	}
	out, errs, code := xcbench(t, dir, nil, "compare", "run", "--a", "encoder=bow", "--b", "encoder=none", "--metric", "P@5", "--json")
	if code != 0 {
		t.Fatalf("compare: exit %d\n%s", code, errs)
	}
	var res CompareResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(res.Pairs) != 2 || res.Seeds == nil || res.Documents.N != 50 || res.Verdict == "" {
		t.Fatalf("result %+v", res)
	}
	st, _ := results.Open(filepath.Join(dir, "run"))
	m, _ := st.ReadManifest()
	rec := map[string]float64{}
	for _, c := range m.Cells {
		recs, _ := st.Cell(c.ID).Records()
		rec[c.Name] = recs[len(recs)-1].Metrics["P@5"]
	}
	for _, p := range res.Pairs {
		if math.Abs(p.A-rec[p.CellA]) > 1e-12 || math.Abs(p.B-rec[p.CellB]) > 1e-12 || rec[p.CellA] == 0 {
			t.Errorf("pair %+v: records say %v and %v", p, rec[p.CellA], rec[p.CellB])
		}
	}
	if _, errs, code := xcbench(t, dir, nil, "compare", "run", "--a", "encoder=bow", "--b", "seed=1"); code != 2 || !strings.Contains(errs, "selects both") {
		t.Fatalf("ambiguous selector: exit %d\n%s", code, errs)
	}
	// --against: B is a published figure. Against A's own mean the
	// difference over seeds is 0 and both intervals straddle it; against
	// 0.01% it is A's metric minus that, supported over the documents (two
	// seeds leave the t interval wide).
	mean := 100 * (rec[res.Pairs[0].CellA] + rec[res.Pairs[1].CellA]) / 2
	for _, c := range []struct {
		against float64
		diff    float64
		excl    bool
	}{{mean, 0, false}, {0.01, mean/100 - 0.0001, true}} {
		out, errs, code := xcbench(t, dir, nil, "compare", "run", "--a", "encoder=bow", "--against", fmt.Sprint(c.against), "--metric", "P@5", "--json")
		if code != 0 {
			t.Fatalf("--against %v: exit %d\n%s", c.against, code, errs)
		}
		var r CompareResult
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		if len(r.Pairs) != 2 || r.Seeds == nil || math.Abs(r.Seeds.Diff-c.diff) > 1e-9 || (!c.excl && r.Seeds.Excludes0()) || r.Documents.Excludes0() != c.excl || !strings.HasPrefix(r.B, "published ") {
			t.Errorf("--against %v: %+v (seeds %+v)", c.against, r, r.Seeds)
		}
	}
	// A cell that has not finished is left out and named, not rescored
	// from whatever predictions it has.
	for _, c := range m.Cells {
		if c.Spec.Encoder.Name == "bow" && c.Spec.Seed == 2 {
			s, _ := st.Cell(c.ID).Status()
			s.State = results.StateRunning
			if err := st.Cell(c.ID).SetStatus(s); err != nil {
				t.Fatal(err)
			}
		}
	}
	out, errs, code = xcbench(t, dir, nil, "compare", "run", "--a", "encoder=bow", "--b", "encoder=none", "--metric", "P@5", "--json")
	var part CompareResult
	if code != 0 || json.Unmarshal([]byte(out), &part) != nil || len(part.Pairs) != 1 || len(part.Unfinished) != 1 || part.Unfinished[0] != "synth seed 2" {
		t.Fatalf("compare with an unfinished cell: exit %d %+v\n%s", code, part, errs)
	}
	for _, args := range [][]string{{"--b", "encoder=none", "--against", "60"}, {"--against", "120"}} {
		if _, errs, code := xcbench(t, dir, nil, append([]string{"compare", "run", "--a", "encoder=bow"}, args...)...); code != 2 {
			t.Errorf("compare %v: exit %d, want 2\n%s", args, code, errs)
		}
	}
}

// TestReportReplacesPlantedSymlink: a symlink planted where report --out
// writes must be replaced, not followed (it used to overwrite its target).
func TestReportReplacesPlantedSymlink(t *testing.T) {
	if testing.Short() {
		t.Skip("runs xcbench processes")
	}
	dir := t.TempDir()
	grid := writeFile(t, filepath.Join(dir, "g.yaml"), strings.Replace(tinyGrid, "epochs: 4", "epochs: 1", 1))
	if _, errs, code := xcbench(t, dir, nil, "run", grid, "--out", "run"); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, errs)
	}
	victim := writeFile(t, filepath.Join(dir, "victim.txt"), "precious\n")
	out := filepath.Join(dir, "rep")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(out, "report.md")); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := xcbench(t, dir, nil, "report", "run", "--format", "md", "--out", out); code != 0 {
		t.Fatalf("report: exit %d\n%s", code, errs)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
		t.Fatalf("the symlink's target was overwritten: %q", b)
	}
	if fi, err := os.Lstat(filepath.Join(out, "report.md")); err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o644 {
		t.Fatalf("report.md: %v %v", fi.Mode(), err)
	}
}

// TestValidationSplitRun runs a cell on the validation split (the dataset
// option): every component trains without the held-out training documents
// and the kept predictions are scored on exactly those.
func TestValidationSplitRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs xcbench processes")
	}
	dir := t.TempDir()
	grid := writeFile(t, filepath.Join(dir, "g.yaml"), strings.Replace(tinyGrid, "{name: synth, synth:", "{name: synth, options: {validation: 0.25}, synth:", 1))
	_, errs, code := xcbench(t, dir, nil, "run", grid, "--out", "run", "--epochs", "2")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	st, _ := results.Open(filepath.Join(dir, "run"))
	m, err := st.ReadManifest()
	if err != nil || len(m.Cells) != 1 {
		t.Fatalf("manifest %v %v", m, err)
	}
	f, err := os.ReadFile(filepath.Join(st.Cell(m.Cells[0].ID).Dir, "predictions-m1.txt"))
	if err != nil {
		t.Fatal(err)
	}
	header, _, _ := strings.Cut(string(f), "\n")
	want := fmt.Sprintf("%d 40", len(data.HeldOut(240, 0.25)))
	if header != want {
		t.Fatalf("predictions header %q, want %q (the held-out training documents)", header, want)
	}
}
