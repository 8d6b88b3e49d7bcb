package reports

import (
	"bytes"
	"encoding/csv"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"gonum.org/v1/plot"
)

func TestClearBest(t *testing.T) {
	st := func(m, s float64) Cell { return Cell{Stat: &Stat{Mean: m, Std: s, N: 3}, Scale: 1, Prec: 2} }
	tests := []struct {
		name   string
		vals   []Cell
		lower  bool
		best   int // -1: none marked
		reason string
	}{
		{"clear winner", []Cell{st(10, 0.5), st(12, 0.5), st(9, 0.2)}, false, 1, "ahead by 2 > 0.5"},
		{"inside the larger std", []Cell{st(10, 0.1), st(10.5, 0.6)}, false, -1, "0.5 <= 0.6"},
		{"exact tie", []Cell{st(0, 0), st(0, 0), st(0, 0)}, false, -1, "ties are not marked"},
		{"tie for best, a worse third", []Cell{st(5, 0), st(5, 0), st(1, 0)}, false, -1, "two rows share the best mean"},
		{"lower is better", []Cell{st(100, 3), st(40, 2), st(90, 1)}, true, 1, "ahead by 50"},
		{"one seed has no spread", []Cell{{Stat: &Stat{Mean: 3, N: 1}, Scale: 1}, {Stat: &Stat{Mean: 2, N: 1}, Scale: 1}}, false, -1, "a single seed proves nothing"},
		{"equal once printed", []Cell{st(0.0012, 0.0001), st(0.0031, 0.0001)}, false, -1, "both print 0.00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := &Report{Axes: []string{"dataset"}}
			tb := Table{Header: []string{"dataset", "m"}}
			for _, v := range tc.vals {
				tb.Rows = append(tb.Rows, []Cell{text("d"), v})
			}
			rep.markBest(&tb, 1, func(int) bool { return tc.lower })
			for i, row := range tb.Rows {
				if row[1].Best != (i == tc.best) {
					t.Errorf("row %d best=%v, want best row %d (%s)", i, row[1].Best, tc.best, tc.reason)
				}
			}
		})
	}
}

// The committed ablation's terminal report fits 120 columns by default,
// and with every metric chosen the wide tables split instead of growing.
func TestTerminalFits120(t *testing.T) {
	for _, metrics := range [][]string{nil, {"P@1", "P@3", "P@5", "nDCG@1", "nDCG@3", "nDCG@5", "PSP@1", "PSP@3", "PSP@5"}} {
		rep, err := LoadWith(committedRun, Options{Metrics: metrics})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := Render(&b, rep, "term"); err != nil {
			t.Fatal(err)
		}
		for i, l := range strings.Split(b.String(), "\n") {
			if n := utf8.RuneCountInString(l); n > TermWidth {
				t.Fatalf("metrics %v: line %d is %d columns: %s", metrics, i+1, n, l)
			}
		}
		out := b.String()
		if !strings.Contains(out, "*: best mean") || !strings.Contains(out, "seconds: the cell's") || !strings.Contains(out, "hardness: mean cosine") {
			t.Errorf("metrics %v: footnotes missing", metrics)
		}
		if metrics == nil && strings.Contains(out, "nDCG@") {
			t.Errorf("default terminal metrics should be %v", TermMetrics)
		}
		if metrics != nil && !strings.Contains(out, "(part 2 of 2)") {
			t.Errorf("every metric: the accuracy table should split in two")
		}
	}
	if _, err := LoadWith(committedRun, Options{Metrics: []string{"P@7"}}); err == nil || !strings.Contains(err.Error(), `"P@7"`) {
		t.Errorf("unknown metric: %v", err)
	}
}

func TestTidy(t *testing.T) {
	rep, err := Load(fixtureRun(t))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Render(&b, rep, "tidy"); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"cell", "dataset", "batch_size", "sampler.name", "seed", "stage", "epoch", "metric", "value"}
	if strings.Join(rows[0], ",") != strings.Join(want, ",") {
		t.Fatalf("header %v, want %v", rows[0], want)
	}
	// Every finished cell's every record and metric is a row: count them
	// from the records.
	n := 0
	for _, c := range rep.cells {
		for _, rec := range rep.recs[c.ID] {
			n += len(tidyMetrics(rec))
		}
	}
	if len(rows)-1 != n || n == 0 {
		t.Fatalf("%d rows, want %d", len(rows)-1, n)
	}
	// ngame, batch 8, seed 2, epoch 2 (0-based 1): P@1 = 0.3+0.1+0.02+0.11.
	found := false
	for _, r := range rows[1:] {
		if r[1] == "toy" && r[2] == "8" && r[3] == "ngame" && r[4] == "2" && r[5] == "m1" && r[6] == "2" && r[7] == "P@1" {
			found = true
			if r[8] != "0.53" {
				t.Errorf("P@1 %s, want 0.53", r[8])
			}
		}
	}
	if !found {
		t.Error("no row for ngame batch 8 seed 2 epoch 2 P@1")
	}
}

func TestRunFolderChecks(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ path, want string }{
		{filepath.Join(dir, "missing"), "no such file"},
		{file, "is a file, not a run folder"},
		{empty, "has no manifest.json"},
	}
	for _, tc := range tests {
		_, err := Load(tc.path)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.path, err, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "missing")); err == nil {
		t.Error("Load created the missing folder")
	}
	if ents, _ := os.ReadDir(empty); len(ents) != 0 {
		t.Errorf("Load wrote into the empty folder: %v", ents)
	}
}

func TestFigures(t *testing.T) {
	rep, err := LoadWith(committedRun, Options{Targets: map[string]float64{"cooking": 0.66, "bibtex": 0.58, "delicious": 0.35}})
	if err != nil {
		t.Fatal(err)
	}
	plots, err := rep.Plots()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Plot{}
	for _, p := range plots {
		byName[p.Name] = p
	}
	mem, ok := byName["memory"]
	if !ok || len(mem.Panels) != 3 {
		t.Fatalf("memory figure: want one panel per data set")
	}
	if mem.Width != doubleColumn || byName["p1-epoch-cooking"].Width != singleColumn {
		t.Errorf("figure widths %v, %v", mem.Width, byName["p1-epoch-cooking"].Width)
	}
	// Seconds span more than a decade on delicious: log axis; epochs stay
	// linear.
	if _, ok := byName["p1-seconds-delicious"].Panels[0].X.Scale.(plot.LogScale); !ok {
		t.Error("p1-seconds-delicious: want a log time axis")
	}
	if _, ok := byName["p1-epoch-delicious"].Panels[0].X.Scale.(plot.LogScale); ok {
		t.Error("p1-epoch-delicious: epochs should be linear")
	}
	// One style per sampler across the report.
	series, _ := rep.Styles()
	if len(series) != 3 {
		t.Errorf("series %v, want one per sampler", series)
	}
	for _, g := range rep.Groups {
		if rep.style(g).Color != palette[series[g.Value("sampler.name")]] {
			t.Errorf("%s: colour does not follow the sampler", g.Label())
		}
	}
	// Legends carry the target line.
	if !strings.Contains(strings.Join(byName["p1-seconds-cooking"].labels, "|"), "target 66%") {
		t.Errorf("legend %v lacks the target", byName["p1-seconds-cooking"].labels)
	}
	out := t.TempDir()
	paths, err := SavePlots(out, []Plot{byName["p1-epoch-cooking"]})
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 3 {
		t.Fatalf("paths %v, want pdf, svg, png", paths)
	}
	pdf, _ := os.ReadFile(filepath.Join(out, "p1-epoch-cooking.pdf"))
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Error("not a PDF")
	}
	f, err := os.Open(filepath.Join(out, "p1-epoch-cooking.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Width != 1050 { // 3.5 in at 300 dpi
		t.Errorf("PNG is %d px wide, want 1050", cfg.Width)
	}
}

func TestNiceTicks(t *testing.T) {
	var labels []string
	for _, tk := range (niceTicks{}).Ticks(3.2, 47.5) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if got := strings.Join(labels, ","); got != "10,20,30,40" {
		t.Errorf("ticks %s, want 10,20,30,40", got)
	}
	labels = nil
	for _, tk := range (logTicks{}).Ticks(4.3, 420) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if got := strings.Join(labels, ","); got != "5,10,20,50,100,200" {
		t.Errorf("log ticks %s", got)
	}
}
