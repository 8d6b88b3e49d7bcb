package reports

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xcbench/xcbench/core/grid"
	"github.com/xcbench/xcbench/core/results"
)

var update = flag.Bool("update", false, "rewrite golden files")

const fixtureGrid = `
name: fixture
datasets: [{name: toy, dir: .}]
seeds: [1, 2]
epochs: 3
batch_size: 8
target_p1: 0.5
budget_mb: 85
encoder: {name: bow}
sampler: {name: random}
classifier: {name: knn}
matrix:
  sampler.name: [random, ngame]
  batch_size: [8, 16]
`

// fixtureRun writes a run folder with deterministic, hand-made records:
// ngame learns faster and uses more memory, memory grows with batch size.
func fixtureRun(t *testing.T) string {
	t.Helper()
	g, err := grid.Parse("/fixture/grid.yaml", []byte(fixtureGrid), grid.LoadOptions{Environ: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	cells, err := grid.Expand(g)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st, err := results.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.WriteManifest(results.Manifest{GridName: g.Name, Grid: g, Cells: cells}); err != nil {
		t.Fatal(err)
	}
	for i, c := range cells {
		cs := st.Cell(c.ID)
		ngame := c.Spec.Sampler.Name == "ngame"
		bs := float64(c.Spec.BatchSize)
		seed := float64(c.Spec.Seed)
		elapsed := 0.0
		for e := range 3 {
			p1 := 0.3 + 0.1*float64(e) + 0.01*seed
			if ngame {
				p1 += 0.11
			}
			wall := map[string]float64{"train": 10 / bs * 8, "encode": 1, "eval": 0.5}
			var rh *float64
			if e == 0 {
				h := 0.25
				if ngame {
					h = 0.5
				}
				rh = &h
				wall["refresh"] = 2
			}
			for _, s := range wall {
				elapsed += s
			}
			mib := int64(bs*5) << 20
			if ngame {
				mib += 10 << 20
			}
			rec := results.Record{Cell: c.ID, Stage: results.StageM1, Epoch: e, Steps: 10, Loss: 1 / float64(e+1),
				Hardness: 0.1 * float64(e+1), RefreshHardness: rh,
				Metrics: map[string]float64{"P@1": p1, "P@3": p1 / 2, "nDCG@1": p1, "nDCG@3": p1 * 0.9, "PSP@1": p1 / 3, "PSP@3": p1 / 4},
				Wall:    wall, CPU: map[string]float64{"train": wall["train"] / 2},
				PeakRSS: map[string]map[string]int64{"encoder": {"train": mib}, "sampler": {"refresh": 7 << 20}},
				Elapsed: elapsed}
			if err := cs.Append(rec); err != nil {
				t.Fatal(err)
			}
		}
		s2 := results.Record{Cell: c.ID, Stage: results.StageStage2, Epoch: 3, Loss: 0.5,
			Metrics: map[string]float64{"P@1": 0.6 + 0.01*seed, "P@3": 0.3, "nDCG@1": 0.6, "nDCG@3": 0.5, "PSP@1": 0.2, "PSP@3": 0.15},
			Wall:    map[string]float64{"train": 3}, PeakRSS: map[string]map[string]int64{"stage2": {"train": 30 << 20}}, Elapsed: elapsed + 3}
		if err := cs.Append(s2); err != nil {
			t.Fatal(err)
		}
		state := results.StateDone
		if i == len(cells)-1 {
			state = results.StateFailed
		}
		if err := cs.SetStatus(results.Status{State: state, Error: "plugin process exited\nstack", Epoch: 2}); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from golden (run with -update after checking):\n%s", name, got)
	}
}

func TestRenderGolden(t *testing.T) {
	rep, err := Load(fixtureRun(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"md", "latex", "csv", "term"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Render(&buf, rep, format); err != nil {
				t.Fatal(err)
			}
			golden(t, "report."+format+".golden", buf.Bytes())
		})
	}
}

func TestModel(t *testing.T) {
	rep, err := Load(fixtureRun(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Groups) != 4 || len(rep.Failures) != 1 {
		t.Fatalf("%d groups, %d failures", len(rep.Groups), len(rep.Failures))
	}
	g := rep.Groups[1] // toy batch_size=8 sampler=ngame
	if g.Value("sampler.name") != "ngame" || g.Seeds != 2 {
		t.Fatalf("group order: %+v", g.Axes)
	}
	p1 := g.Final["P@1"]
	if d := p1.Mean - (0.3 + 0.2 + 0.015 + 0.11); d > 1e-9 || d < -1e-9 || p1.N != 2 {
		t.Fatalf("final P@1 %+v", p1)
	}
	// ngame crosses 0.5 after epoch 2 for both seeds; random needs epoch 3.
	if g.EpochsToTarget.Mean != 2 || g.Reached != 2 || rep.Groups[0].EpochsToTarget.Mean != 3 {
		t.Fatalf("epochs to target: ngame %+v random %+v", g.EpochsToTarget, rep.Groups[0].EpochsToTarget)
	}
	if got := g.PeakMiB["encoder"].Mean; got != 50 {
		t.Fatalf("encoder peak MiB %v", got)
	}
	var md bytes.Buffer
	if err := Render(&md, rep, "md"); err != nil {
		t.Fatal(err)
	}
	// Budget 85 MiB: bs 16 random needs 80 MiB (fits), ngame 90 (does not).
	if !strings.Contains(md.String(), "| toy     | ngame   | 8             | 50 ± 0      |") {
		t.Fatalf("no budget table:\n%s", md.String())
	}
}

func TestPlotsAndHTML(t *testing.T) {
	rep, err := Load(fixtureRun(t))
	if err != nil {
		t.Fatal(err)
	}
	plots, err := rep.Plots()
	if err != nil {
		t.Fatal(err)
	}
	if len(plots) != 3 {
		t.Fatalf("%d plots, want p1-epoch, p1-seconds, memory", len(plots))
	}
	paths, err := SavePlots(t.TempDir(), plots)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil || st.Size() < 1000 {
			t.Fatalf("plot %s: %v size %d", p, err, st.Size())
		}
	}
	var h bytes.Buffer
	if err := WriteHTML(&h, rep); err != nil {
		t.Fatal(err)
	}
	if s := h.String(); strings.Count(s, "<svg") != 3 || !strings.Contains(s, `id="legend"`) || !strings.Contains(s, "white-space:nowrap") {
		t.Fatalf("html lacks plots, the legend or nowrap cells (%d bytes)", h.Len())
	}
	// The committed ablation (3 seeds) has clear winners: they are bold,
	// the std in a smaller span.
	rep, err = Load(committedRun)
	if err != nil {
		t.Fatal(err)
	}
	h.Reset()
	if err := WriteHTML(&h, rep); err != nil {
		t.Fatal(err)
	}
	if s := h.String(); !strings.Contains(s, `class="best"`) || !strings.Contains(s, `<span class="std"> ±`) {
		t.Fatalf("committed report's html lacks best marks or std spans")
	}
}

func TestPerDatasetTargets(t *testing.T) {
	dir := fixtureRun(t)
	tests := []struct {
		name            string
		targets         map[string]float64
		ngameE, randomE float64
		title           string
	}{
		{"grid target", nil, 2, 3, "Time to reach P@1 ≥ 50%"},
		{"named dataset", map[string]float64{"toy": 0.35}, 1, 2, "Time to reach the dataset's P@1 target"},
		{"default key", map[string]float64{"": 0.38}, 1, 2, "Time to reach the dataset's P@1 target"},
		{"other dataset only", map[string]float64{"other": 0.35}, 2, 3, "Time to reach the dataset's P@1 target"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := LoadWith(dir, Options{Targets: tc.targets})
			if err != nil {
				t.Fatal(err)
			}
			if got := rep.Groups[1].EpochsToTarget.Mean; got != tc.ngameE {
				t.Errorf("ngame epochs to target %v, want %v", got, tc.ngameE)
			}
			if got := rep.Groups[0].EpochsToTarget.Mean; got != tc.randomE {
				t.Errorf("random epochs to target %v, want %v", got, tc.randomE)
			}
			var md bytes.Buffer
			if err := Render(&md, rep, "md"); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(md.String(), tc.title) {
				t.Errorf("no %q in\n%s", tc.title, md.String())
			}
		})
	}
}
