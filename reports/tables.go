package reports

import (
	"fmt"
	"math"
	"strconv"

	"github.com/xcbench/xcbench/core/grid"
)

// Cell is one table entry: plain text, or a statistic to format.
type Cell struct {
	Text string
	Stat *Stat
	// Scale multiplies the statistic (100 for percentages); Prec is the
	// number of decimals.
	Scale float64
	Prec  int
	Best  bool
}

// Format renders the cell without emphasis, with sep between mean and std
// (" ± " for text, "$\pm$" for LaTeX); the std is left out for one seed.
func (c Cell) Format(sep string) string {
	if c.Stat == nil {
		return c.Text
	}
	if c.Stat.N == 0 {
		return "–"
	}
	m := strconv.FormatFloat(c.Stat.Mean*c.Scale, 'f', c.Prec, 64)
	if c.Stat.N < 2 {
		return m
	}
	return m + sep + strconv.FormatFloat(c.Stat.Std*c.Scale, 'f', c.Prec, 64)
}

func (c Cell) meanText() string {
	return strconv.FormatFloat(c.Stat.Mean*c.Scale, 'f', c.Prec, 64)
}

// Table is a rendered-agnostic table.
type Table struct {
	// Name is a file-name-safe identifier ("accuracy").
	Name   string
	Title  string
	Header []string
	Rows   [][]Cell
	// Keys is the number of leading columns that identify a row (the grid
	// axes): a table split to fit a width repeats them.
	Keys int
	// Marked says the table went through markBest, so renderers add the
	// note that explains the mark.
	Marked bool
	// Notes define the table's columns, below it in every format.
	Notes []string
}

func text(s string) Cell { return Cell{Text: s} }

func statCell(s Stat, scale float64, prec int) Cell {
	return Cell{Stat: &s, Scale: scale, Prec: prec}
}

func (r *Report) axisHeader() []string {
	h := make([]string, len(r.Axes))
	for i, a := range r.Axes {
		h[i] = grid.AxisLabel(a)
	}
	return h
}

func (r *Report) axisCells(g Group) []Cell {
	out := make([]Cell, len(r.Axes))
	for i, a := range r.Axes {
		out[i] = text(g.Value(a))
	}
	return out
}

// markBest marks, per column from first on and within rows of the same
// dataset, the best mean (highest, or lowest when lower) only when it is
// ahead of every other row's mean by more than the larger of the two
// standard deviations: ties and differences inside the seed noise stay
// unmarked, so a mark never claims more than the seeds support.
func (r *Report) markBest(t *Table, first int, lower func(col int) bool) {
	dsCol := -1
	for i, a := range r.Axes {
		if a == "dataset" {
			dsCol = i
		}
	}
	t.Marked = true
	for col := first; col < len(t.Header); col++ {
		rows := map[string][]int{}
		var dss []string
		for i, row := range t.Rows {
			c := row[col]
			if c.Stat == nil || c.Stat.N == 0 {
				continue
			}
			ds := ""
			if dsCol >= 0 {
				ds = row[dsCol].Text
			}
			if rows[ds] == nil {
				dss = append(dss, ds)
			}
			rows[ds] = append(rows[ds], i)
		}
		for _, ds := range dss {
			if i, ok := clearBest(t, col, rows[ds], lower(col)); ok {
				t.Rows[i][col].Best = true
			}
		}
	}
}

// clearBest returns the row among idx whose mean beats every other by more
// than the larger standard deviation of the pair.
func clearBest(t *Table, col int, idx []int, lower bool) (int, bool) {
	if len(idx) < 2 {
		return 0, false
	}
	best := idx[0]
	for _, i := range idx[1:] {
		a, b := t.Rows[i][col].Stat.Mean, t.Rows[best][col].Stat.Mean
		if (lower && a < b) || (!lower && a > b) {
			best = i
		}
	}
	bc := t.Rows[best][col]
	for _, i := range idx {
		if i == best {
			continue
		}
		oc := t.Rows[i][col]
		bs, o := bc.Stat, oc.Stat
		// One seed has no spread to beat; equal printed means are a tie.
		if bs.N < 2 || o.N < 2 || bc.meanText() == oc.meanText() ||
			math.Abs(bs.Mean-o.Mean) <= math.Max(bs.Std, o.Std) {
			return 0, false
		}
	}
	return best, true
}

// BestNote explains the best-value mark (mark: "*", "bold").
func BestNote(mark string) string {
	return mark + ": best mean of its column within a data set, ahead of every other row by more than the larger of the two standard deviations over seeds (two or more seeds a side); ties, closer differences and single-seed rows are not marked."
}

// Definitions shown under the tables that use these words.
const (
	noteSeconds  = "seconds: the cell's cumulative working time (training, encoding, sampler refresh, prediction and evaluation) at the end of the first epoch whose P@1 reached the target; epochs count from 1; both average over the seeds that reached it."
	noteMemory   = "MiB columns: peak resident memory (VmHWM) of each plugin's process over all phases and epochs, mean over seeds."
	notePhases   = "s columns: seconds per training epoch spent in each phase (train, encode, refresh, predict, eval)."
	noteHardness = "hardness: mean cosine similarity between each document and the negatives the loss actually used, over all training steps; refresh hardness: the sampler's own measure at each refresh (mean cosine between a document and the negatives its batch or list offers). Descriptive, never marked best."
)

// Tables lists the report's tables in reading order, with the metrics
// chosen by Options.Metrics (all when none were chosen).
func (r *Report) Tables() []Table { return r.TablesFor(r.Show) }

// TablesFor lists the tables with the given metric columns (nil: all).
func (r *Report) TablesFor(metrics []string) []Table {
	if metrics == nil {
		metrics = r.Metrics
	}
	var out []Table
	nAx := len(r.Axes)
	higher := func(int) bool { return false }

	acc := Table{Name: "accuracy", Title: "Encoder-only accuracy at the last evaluation (%, mean ± std over seeds)",
		Header: append(append(r.axisHeader(), "seeds"), metrics...), Keys: nAx}
	for _, g := range r.Groups {
		row := append(r.axisCells(g), text(strconv.Itoa(g.Seeds)))
		for _, m := range metrics {
			row = append(row, statCell(g.Final[m], 100, 2))
		}
		acc.Rows = append(acc.Rows, row)
	}
	r.markBest(&acc, nAx+1, higher)
	out = append(out, acc)

	var s2 Table
	for _, g := range r.Groups {
		if g.Stage2 == nil {
			continue
		}
		if s2.Name == "" {
			s2 = Table{Name: "stage2", Title: "With the stage-2 classifier (%, mean ± std over seeds)", Header: append(r.axisHeader(), metrics...), Keys: nAx}
		}
		row := r.axisCells(g)
		for _, m := range metrics {
			row = append(row, statCell(g.Stage2[m], 100, 2))
		}
		s2.Rows = append(s2.Rows, row)
	}
	if s2.Name != "" {
		r.markBest(&s2, nAx, higher)
		out = append(out, s2)
	}

	if len(r.Targets) > 0 {
		// Targets differ per dataset: a column says which one each row used.
		conv := Table{Name: "convergence", Title: "Time to reach the dataset's P@1 target (seeds that reached it)",
			Header: append(r.axisHeader(), "target %", "reached", "epochs", "seconds"), Keys: nAx, Notes: []string{noteSeconds}}
		for _, g := range r.Groups {
			conv.Rows = append(conv.Rows, append(r.axisCells(g), text(fmt.Sprintf("%.4g", r.target(g.Value("dataset"))*100)),
				text(fmt.Sprintf("%d/%d", g.Reached, g.Seeds)), statCell(g.EpochsToTarget, 1, 1), statCell(g.SecondsToTarget, 1, 1)))
		}
		r.markBest(&conv, nAx+2, func(int) bool { return true })
		out = append(out, conv)
	} else if r.TargetP1 > 0 {
		tgt := fmt.Sprintf("%.4g", r.TargetP1*100)
		conv := Table{Name: "convergence", Title: "Time to reach P@1 ≥ " + tgt + "% (seeds that reached it)",
			Header: append(r.axisHeader(), "reached", "epochs", "seconds"), Keys: nAx, Notes: []string{noteSeconds}}
		for _, g := range r.Groups {
			conv.Rows = append(conv.Rows, append(r.axisCells(g),
				text(fmt.Sprintf("%d/%d", g.Reached, g.Seeds)), statCell(g.EpochsToTarget, 1, 1), statCell(g.SecondsToTarget, 1, 1)))
		}
		r.markBest(&conv, nAx+1, func(int) bool { return true })
		out = append(out, conv)
	}

	mem := Table{Name: "cost", Title: "Peak memory (MiB, VmHWM per plugin), seconds per epoch by phase, negative hardness",
		Header: r.axisHeader(), Keys: nAx, Notes: []string{noteMemory, notePhases, noteHardness}}
	for _, p := range r.Plugins {
		mem.Header = append(mem.Header, "MiB "+p)
	}
	for _, p := range r.Phases {
		mem.Header = append(mem.Header, "s "+p)
	}
	mem.Header = append(mem.Header, "hardness", "refresh hardness")
	for _, g := range r.Groups {
		row := r.axisCells(g)
		for _, p := range r.Plugins {
			row = append(row, statCell(g.PeakMiB[p], 1, 0))
		}
		for _, p := range r.Phases {
			row = append(row, statCell(g.EpochWall[p], 1, 2))
		}
		row = append(row, statCell(g.Hardness, 1, 3), statCell(g.RefreshHardness, 1, 3))
		mem.Rows = append(mem.Rows, row)
	}
	lastLower := len(mem.Header) - 2
	r.markBest(&mem, nAx, func(col int) bool { return col < lastLower })
	for _, row := range mem.Rows { // hardness is descriptive, not better or worse
		row[lastLower].Best, row[lastLower+1].Best = false, false
	}
	out = append(out, mem)

	if b, ok := r.budgetTable(); ok {
		out = append(out, b)
	}
	if len(r.Failures) > 0 {
		f := Table{Name: "failures", Title: "Cells that did not finish", Header: []string{"cell", "state", "error"}, Keys: 1}
		for _, x := range r.Failures {
			f.Rows = append(f.Rows, []Cell{text(x.Cell), text(x.State), text(x.Error)})
		}
		out = append(out, f)
	}
	return out
}

// budgetTable: per group without batch_size, the largest batch whose mean
// encoder peak fits in BudgetMB.
func (r *Report) budgetTable() (Table, bool) {
	hasBS := false
	var rest []string
	for _, a := range r.Axes {
		if a == "batch_size" {
			hasBS = true
		} else {
			rest = append(rest, a)
		}
	}
	if r.BudgetMB <= 0 || !hasBS {
		return Table{}, false
	}
	t := Table{Name: "budget", Title: fmt.Sprintf("Largest batch whose encoder fits in %.0f MiB", r.BudgetMB), Keys: len(rest),
		Notes: []string{"encoder MiB: mean peak resident memory (VmHWM) of the encoder process at that batch size; of the batch sizes the grid ran."}}
	for _, a := range rest {
		t.Header = append(t.Header, grid.AxisLabel(a))
	}
	t.Header = append(t.Header, "largest batch", "encoder MiB")
	type best struct {
		cells []Cell
		bs    int
		mib   Stat
	}
	bests := map[string]*best{}
	var order []string
	for _, g := range r.Groups {
		var cells []Cell
		key := ""
		for _, a := range rest {
			cells = append(cells, text(g.Value(a)))
			key += g.Value(a) + "\x00"
		}
		if bests[key] == nil {
			bests[key] = &best{cells: cells, bs: -1}
			order = append(order, key)
		}
		bs, _ := strconv.Atoi(g.Value("batch_size"))
		p := g.PeakMiB["encoder"]
		if p.N > 0 && p.Mean <= r.BudgetMB && bs > bests[key].bs {
			bests[key].bs, bests[key].mib = bs, p
		}
	}
	for _, k := range order {
		b := bests[k]
		bs := "none fits"
		if b.bs >= 0 {
			bs = strconv.Itoa(b.bs)
		}
		t.Rows = append(t.Rows, append(b.cells, text(bs), statCell(b.mib, 1, 0)))
	}
	return t, true
}
