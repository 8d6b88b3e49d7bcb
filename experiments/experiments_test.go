package experiments

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/core/grid"
	"github.com/xcbench/xcbench/core/results"
	"github.com/xcbench/xcbench/core/runner"
	"github.com/xcbench/xcbench/reports"

	_ "github.com/xcbench/xcbench/classifiers/knn"
	_ "github.com/xcbench/xcbench/classifiers/ova"
	_ "github.com/xcbench/xcbench/encoders/bow"
	_ "github.com/xcbench/xcbench/samplers/ance"
	_ "github.com/xcbench/xcbench/samplers/ngame"
	_ "github.com/xcbench/xcbench/samplers/random"
)

func TestGridsLoadAndExpand(t *testing.T) {
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) < 2 {
		t.Fatalf("grid files: %v %v", files, err)
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			g, err := grid.Load(f, grid.LoadOptions{Environ: []string{}})
			if err != nil {
				t.Fatal(err)
			}
			cells, err := grid.Expand(g)
			if err != nil {
				t.Fatal(err)
			}
			if len(cells) == 0 {
				t.Fatal("no cells")
			}
			// The sampler comparisons (quickstart*, ngame-*) must cover the
			// three samplers the README compares; the delicious grids pick a
			// pipeline and run only the samplers they chose.
			if !strings.HasPrefix(f, "quickstart") && !strings.HasPrefix(f, "ngame-") {
				return
			}
			samplers := map[string]bool{}
			for _, c := range cells {
				samplers[c.Spec.Sampler.Name] = true
			}
			// quickstart-python.yaml runs pyrandom, the Python plugin, in
			// random's place.
			for _, s := range []string{"random", "ngame", "ance"} {
				if !samplers[s] && (s != "random" || !samplers["pyrandom"]) {
					t.Errorf("grid has no %s cell", s)
				}
			}
		})
	}
}

const ablation = "ngame-vs-ance-vs-random.yaml"

// TestAblationReduced runs the committed sampler ablation cut down to one
// dataset, one seed and two epochs (every sampler and batch size kept) and
// checks that its report has the committed report's structure: the same
// section headings, and a row for every sampler x batch size.
func TestAblationReduced(t *testing.T) {
	if testing.Short() {
		t.Skip("trains real components")
	}
	if _, err := data.SharedDataDir(); err != nil {
		t.Skipf("the ablation grid needs the real data sets: %v", err)
	}
	g, err := grid.Load(ablation, grid.LoadOptions{Environ: []string{
		"XCBENCH_EPOCHS=2", "XCBENCH_SEEDS=[0]", "XCBENCH_ENCODER__PARAMS__DIM=16",
	}})
	if err != nil {
		t.Fatal(err)
	}
	all, err := grid.Expand(g)
	if err != nil {
		t.Fatal(err)
	}
	var cells []grid.Cell
	for _, c := range all {
		if c.Axis("dataset") != "bibtex" {
			continue
		}
		// Smaller than the committed run so that the test stays quick: the
		// structure, not the numbers, is under test.
		if c.Spec.Sampler.Name == "ance" {
			c.Spec.Sampler.Params["negatives"] = 1
			c.Spec.Sampler.Params["refresh_start"] = 1
		}
		if c.Spec.Sampler.Name == "ngame" {
			c.Spec.Sampler.Params["refresh_start"] = 1
			c.Spec.Sampler.Params["lag"] = false
		}
		if c.Spec.Stage2 != nil {
			c.Spec.Stage2.Params["epochs"] = 2
		}
		cells = append(cells, c)
	}
	if len(cells) < 6 {
		t.Fatalf("reduced grid has %d bibtex cells, want every sampler x batch size", len(cells))
	}
	dir := t.TempDir()
	st, err := results.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := runner.New(runner.Options{Launcher: runner.RegistryLauncher{}, Store: st,
		Data: runner.OpenData, Score: runner.Score, Synth: runner.Synth})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := r.Run(context.Background(), g, cells)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failed != 0 {
		t.Fatalf("failed cells: %v", sum.Failures)
	}
	// The same per-dataset targets as the committed report's command.
	rep, err := reports.LoadWith(dir, reports.Options{Targets: map[string]float64{"cooking": 0.66, "bibtex": 0.58, "delicious": 0.35}})
	if err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	if err := reports.Render(&md, rep, "md"); err != nil {
		t.Fatal(err)
	}
	out := md.String()
	for _, s := range []string{"random", "ngame", "ance"} {
		for _, bs := range []string{"128", "512"} {
			row := regexp.MustCompile(`(?m)^\| bibtex +\| ` + bs + ` +\| ` + s + ` `)
			if !row.MatchString(out) {
				t.Errorf("report has no bibtex/%s/%s row:\n%s", s, bs, out)
			}
		}
	}
	got := headings(out)
	for _, want := range []string{"Encoder-only accuracy", "With the stage-", "Time to reach", "Peak memory", "Largest batch"} {
		if !slices.ContainsFunc(got, func(h string) bool { return strings.Contains(h, want) }) {
			t.Errorf("report lacks a %q section; headings %q", want, got)
		}
	}
	committed, err := os.ReadFile(filepath.Join("..", "reports", "results", "ngame-vs-ance-vs-random", "report.md"))
	if err != nil {
		t.Skipf("no committed report to compare with: %v", err)
	}
	if want := headings(string(committed)); !slices.Equal(got, want) {
		t.Errorf("section headings differ from the committed report:\n got %q\nwant %q", got, want)
	}
}

// headings lists the Markdown section titles with numbers blanked out
// (targets and budgets may differ between the full and reduced runs).
func headings(md string) []string {
	num := regexp.MustCompile(`[0-9.]+`)
	var out []string
	for _, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "#") {
			out = append(out, num.ReplaceAllString(l, "N"))
		}
	}
	return out
}
