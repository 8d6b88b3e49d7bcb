package grid

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

const head = `
name: t
datasets:
  - {name: a, dir: data/a}
  - {name: b, synth: {docs: 10}}
epochs: 2
batch_size: 8
encoder: {name: bow, params: {dim: 16}}
sampler: {name: random}
classifier: {name: knn}
`

func names(cells []Cell) []string {
	var out []string
	for _, c := range cells {
		out = append(out, c.Name)
	}
	return out
}

func TestExpand(t *testing.T) {
	tests := []struct {
		name  string
		extra string
		want  []string
	}{
		{"no matrix", "", []string{"a seed=0", "b seed=0"}},
		{"seeds outermost", "seeds: [1, 2]\n", []string{"a seed=1", "b seed=1", "a seed=2", "b seed=2"}},
		{"cartesian", "matrix:\n  sampler.name: [random, ngame]\n  batch_size: [4, 8]\nexclude: [{dataset: b}]\n",
			[]string{"a batch_size=4 sampler=random seed=0", "a batch_size=4 sampler=ngame seed=0",
				"a batch_size=8 sampler=random seed=0", "a batch_size=8 sampler=ngame seed=0"}},
		{"exclude partial match", "matrix:\n  sampler.name: [random, ngame]\n  batch_size: [4, 8]\nexclude:\n  - {sampler.name: ngame, batch_size: 8}\n  - {dataset: b}\n",
			[]string{"a batch_size=4 sampler=random seed=0", "a batch_size=4 sampler=ngame seed=0", "a batch_size=8 sampler=random seed=0"}},
		{"include extends matching cells", "matrix:\n  sampler.name: [random, ngame]\nexclude: [{dataset: b}]\ninclude:\n  - {sampler.name: ngame, sampler.params.clusters: 4}\n",
			[]string{"a sampler=random seed=0", "a sampler=ngame seed=0"}},
		{"include adds a new cell", "matrix:\n  sampler.name: [random]\nexclude: [{dataset: b}]\ninclude:\n  - {dataset: a, sampler.name: ance, batch_size: 4}\n",
			[]string{"a sampler=random seed=0", "a batch_size=4 sampler=ance seed=0"}},
		{"nested matrix spelling", "matrix:\n  sampler:\n    name: [random, ance]\nexclude: [{dataset: b}]\n",
			[]string{"a sampler=random seed=0", "a sampler=ance seed=0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, err := Parse("/x/grid.yaml", []byte(head+tc.extra), LoadOptions{Environ: []string{}})
			if err != nil {
				t.Fatal(err)
			}
			cells, err := Expand(g)
			if err != nil {
				t.Fatal(err)
			}
			if got := names(cells); strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("cells:\n got %q\nwant %q", got, tc.want)
			}
			ids := map[string]bool{}
			for _, c := range cells {
				if len(c.ID) != 12 || ids[c.ID] {
					t.Fatalf("bad or duplicate id %q", c.ID)
				}
				ids[c.ID] = true
			}
		})
	}
}

func TestExpandResolvesCells(t *testing.T) {
	g, err := Parse("/x/grid.yaml", []byte(head+"matrix:\n  sampler.name: [ngame]\n  encoder.params.dim: [32]\nexclude: [{dataset: b}]\n"), LoadOptions{Environ: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	cells, err := Expand(g)
	if err != nil {
		t.Fatal(err)
	}
	s := cells[0].Spec
	if s.Sampler.Name != "ngame" || s.Encoder.Params["dim"] != 32 || s.Dataset.Path != filepath.Clean("/x/data/a") {
		t.Fatalf("spec not resolved: %+v", s)
	}
	g3, _ := Parse("/x/grid.yaml", []byte(head+"matrix:\n  sampler.name: [random, ngame]\nexclude: [{dataset: b}]\ninclude:\n  - {sampler.name: ngame, sampler.params.clusters: 4}\n"), LoadOptions{Environ: []string{}})
	cells3, err := Expand(g3)
	if err != nil || cells3[1].Spec.Sampler.Params["clusters"] != 4 || cells3[0].Spec.Sampler.Params["clusters"] != nil {
		t.Fatalf("include did not extend only the matching cell: %+v %v", cells3, err)
	}
	if g.Encoder.Params["dim"] != 16 {
		t.Fatalf("expansion mutated the grid: %v", g.Encoder.Params)
	}
	if !s.Eval.AtEnd || s.Eval.Every != 1 || len(s.Eval.K) != 3 {
		t.Fatalf("eval defaults not applied: %+v", s.Eval)
	}
	// IDs ignore where the checkout lives.
	g2, _ := Parse("/elsewhere/grid.yaml", []byte(head+"matrix:\n  sampler.name: [ngame]\n  encoder.params.dim: [32]\nexclude: [{dataset: b}]\n"), LoadOptions{Environ: []string{}})
	cells2, _ := Expand(g2)
	if cells2[0].ID != cells[0].ID {
		t.Fatalf("id depends on the grid's folder: %s vs %s", cells[0].ID, cells2[0].ID)
	}
}

func TestStrictErrors(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
	}{
		{"unknown top-level key", head + "epohcs: 3\n", []string{`/x/grid.yaml:11: unknown key "epohcs"`}},
		{"unknown nested key", head + "eval:\n  evry: 2\n", []string{`/x/grid.yaml:12: unknown key "eval.evry"`}},
		{"unknown dataset key", strings.Replace(head, "{name: a, dir: data/a}", "{name: a, dri: data/a}", 1), []string{`unknown key "datasets[0].dri"`, "grid.yaml:4"}},
		{"unknown matrix key", head + "matrix:\n  sampler.nmae: [x]\n", []string{"sampler.nmae", "nmae"}},
		{"exclude on a non-axis", head + "matrix:\n  batch_size: [1]\nexclude: [{epochs: 2}]\n", []string{`"epochs" is not an axis`}},
		{"missing encoder", strings.Replace(head, "encoder: {name: bow, params: {dim: 16}}", "", 1), []string{"encoder.name is required"}},
		{"dir and synth", strings.Replace(head, "{name: a, dir: data/a}", "{name: a, dir: d, synth: {}}", 1), []string{"exclusive"}},
		{"bad yaml", "name: [", []string{"/x/grid.yaml"}},
		{"fractional batch size", strings.Replace(head, "batch_size: 8", "batch_size: 12.5", 1), []string{"/x/grid.yaml:7: batch_size: 12.5 is not an integer"}},
		{"fractional seed", head + "seeds: [0.5]\n", []string{"/x/grid.yaml:11: seeds[0]: 0.5 is not an integer"}},
		{"negative seed", head + "seeds: [-1]\n", []string{"/x/grid.yaml:11: seeds[0]: -1 is negative"}},
		{"NaN target", head + "target_p1: .nan\n", []string{"/x/grid.yaml:11: target_p1: NaN is not a finite number"}},
		{"string epochs", strings.Replace(head, "epochs: 2", "epochs: many", 1), []string{"/x/grid.yaml:6: epochs"}},
		{"fraction in a matrix", head + "matrix:\n  batch_size: [8, 12.5]\n", []string{"12.5 is not an integer"}},
		{"grid name escaping runs/", strings.Replace(head, "name: t", "name: ../../x", 1), []string{`name: "../../x" is not a safe name`}},
		{"dataset name with a separator", strings.Replace(head, "{name: a, dir: data/a}", "{name: ../x, dir: data/a}", 1), []string{`datasets[0].name: "../x" is not a safe name`}},
		{"a million cells", head + "matrix:\n  a.x: [1,2,3,4,5,6,7,8,9,10]\n  a.y: [1,2,3,4,5,6,7,8,9,10]\n  a.z: [1,2,3,4,5,6,7,8,9,10]\n  a.w: [1,2,3,4,5,6,7,8,9,10]\n  a.v: [1,2,3,4,5,6,7,8,9,10]\n  a.u: [1,2,3,4,5,6,7,8,9,10]\n", []string{"up to 2000000 cells, over the limit of 100000"}},
		{"k too large", head + "eval: {k: [1, 1000000000]}\n", []string{"eval.k: 1000000000 is not in 1..1000"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, err := Parse("/x/grid.yaml", []byte(tc.text), LoadOptions{Environ: []string{}})
			if err == nil {
				_, err = Expand(g)
			}
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid: %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestLoadFileNamesFileAndLine(t *testing.T) {
	_, err := Load("testdata/typo.yaml", LoadOptions{Environ: []string{}})
	if err == nil || !strings.Contains(err.Error(), "typo.yaml:9: unknown key \"eval.evry\"") {
		t.Fatalf("got %v", err)
	}
}

func TestOverrides(t *testing.T) {
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	AddFlags(fs)
	if err := fs.Parse([]string{"--epochs", "5", "--set", "sampler.params.clusters=16", "--set", "eval.k=[1,10]", "--seeds", "3,4"}); err != nil {
		t.Fatal(err)
	}
	env := []string{"XCBENCH_EPOCHS=4", "XCBENCH_BATCH_SIZE=32", "XCBENCH_EVAL__EVERY=2", "XCBENCH_DATA=/ignored", "HOME=/root"}
	g, err := Parse("/x/grid.yaml", []byte(head), LoadOptions{Environ: env, Flags: fs})
	if err != nil {
		t.Fatal(err)
	}
	if g.Epochs != 5 || g.BatchSize != 32 || g.Eval.Every != 2 || g.Sampler.Params["clusters"] != 16 ||
		len(g.Eval.K) != 2 || g.Eval.K[1] != 10 || len(g.Seeds) != 2 || g.Seeds[1] != 4 {
		t.Fatalf("overrides not applied (flags > env > file): %+v", g)
	}
	_, err = Parse("/x/grid.yaml", []byte(head), LoadOptions{Environ: []string{"XCBENCH_EVAL__EVRY=1"}})
	if err == nil || !strings.Contains(err.Error(), `unknown key "eval.evry" (set by env or flags)`) {
		t.Fatalf("env typo not reported: %v", err)
	}
}

func TestEvalDue(t *testing.T) {
	tests := []struct {
		every int
		atEnd bool
		want  string
	}{{1, true, "1111"}, {2, true, "0101"}, {3, true, "0011"}, {0, true, "0001"}, {3, false, "0010"}}
	for _, tc := range tests {
		s := Spec{Epochs: 4, Eval: Eval{Every: tc.every, AtEnd: tc.atEnd}}
		got := ""
		for e := range 4 {
			if s.EvalDue(e) {
				got += "1"
			} else {
				got += "0"
			}
		}
		if got != tc.want {
			t.Errorf("every=%d at_end=%v: got %s want %s", tc.every, tc.atEnd, got, tc.want)
		}
	}
}

// TestPluginPath: the grid's plugin_path resolves against the grid file,
// and XCBENCH_PLUGIN_PATH (the plugin search path) is not read as the key.
func TestPluginPath(t *testing.T) {
	env := []string{"XCBENCH_PLUGIN_PATH=/from/env", "PLUGS=/abs"}
	g, err := Parse("/x/grid.yaml", []byte(head+"plugin_path: [plugins.d, $PLUGS/p]\n"), LoadOptions{Environ: env})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PLUGS", "/abs")
	if got := strings.Join(g.PluginDirs(), " "); got != "/x/plugins.d /abs/p" {
		t.Fatalf("PluginDirs = %q", got)
	}
	g, err = Parse("/x/grid.yaml", []byte(head), LoadOptions{Environ: env})
	if err != nil || len(g.PluginDirs()) != 0 {
		t.Fatalf("env leaked into plugin_path: %v %v", g.PluginDirs(), err)
	}
}
