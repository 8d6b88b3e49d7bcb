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

// Table is a rendered-agnostic table.
type Table struct {
	// Name is a file-name-safe identifier ("accuracy").
	Name   string
	Title  string
	Header []string
	Rows   [][]Cell
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
// dataset, the highest (or lowest when lower) mean.
func (r *Report) markBest(t *Table, first int, lower func(col int) bool) {
	dsCol := -1
	for i, a := range r.Axes {
		if a == "dataset" {
			dsCol = i
		}
	}
	for col := first; col < len(t.Header); col++ {
		best := map[string]int{}
		for i, row := range t.Rows {
			c := row[col]
			if c.Stat == nil || c.Stat.N == 0 {
				continue
			}
			ds := ""
			if dsCol >= 0 {
				ds = row[dsCol].Text
			}
			j, ok := best[ds]
			if !ok || (lower(col) && c.Stat.Mean < t.Rows[j][col].Stat.Mean) || (!lower(col) && c.Stat.Mean > t.Rows[j][col].Stat.Mean) {
				best[ds] = i
			}
		}
		if len(t.Rows) < 2 {
			continue
		}
		// Ties share the mark, but a column where every row ties says
		// nothing and gets none.
		allTie := true
		for _, row := range t.Rows {
			c := row[col]
			if c.Stat == nil || c.Stat.N == 0 {
				continue
			}
			ds := ""
			if dsCol >= 0 {
				ds = row[dsCol].Text
			}
			if j, ok := best[ds]; ok && math.Abs(c.Stat.Mean-t.Rows[j][col].Stat.Mean) >= 1e-12 {
				allTie = false
			}
		}
		if allTie {
			continue
		}
		for i, row := range t.Rows { // ties share the mark
			c := row[col]
			if c.Stat == nil || c.Stat.N == 0 {
				continue
			}
			ds := ""
			if dsCol >= 0 {
				ds = row[dsCol].Text
			}
			if j, ok := best[ds]; ok && math.Abs(c.Stat.Mean-t.Rows[j][col].Stat.Mean) < 1e-12 {
				t.Rows[i][col].Best = true
			}
		}
	}
}

// Tables lists the report's tables in reading order.
func (r *Report) Tables() []Table {
	var out []Table
	nAx := len(r.Axes)
	higher := func(int) bool { return false }

	acc := Table{Name: "accuracy", Title: "Encoder-only accuracy at the last evaluation (%, mean ± std over seeds)",
		Header: append(append(r.axisHeader(), "seeds"), r.Metrics...)}
	for _, g := range r.Groups {
		row := append(r.axisCells(g), text(strconv.Itoa(g.Seeds)))
		for _, m := range r.Metrics {
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
			s2 = Table{Name: "stage2", Title: "With the stage-2 classifier (%, mean ± std over seeds)", Header: append(r.axisHeader(), r.Metrics...)}
		}
		row := r.axisCells(g)
		for _, m := range r.Metrics {
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
			Header: append(r.axisHeader(), "target %", "reached", "epochs", "seconds")}
		for _, g := range r.Groups {
			conv.Rows = append(conv.Rows, append(r.axisCells(g), text(fmt.Sprintf("%.4g", r.target(g.Value("dataset"))*100)),
				text(fmt.Sprintf("%d/%d", g.Reached, g.Seeds)), statCell(g.EpochsToTarget, 1, 1), statCell(g.SecondsToTarget, 1, 1)))
		}
		r.markBest(&conv, nAx+2, func(int) bool { return true })
		out = append(out, conv)
	} else if r.TargetP1 > 0 {
		tgt := fmt.Sprintf("%.4g", r.TargetP1*100)
		conv := Table{Name: "convergence", Title: "Time to reach P@1 ≥ " + tgt + "% (seeds that reached it)",
			Header: append(r.axisHeader(), "reached", "epochs", "seconds")}
		for _, g := range r.Groups {
			conv.Rows = append(conv.Rows, append(r.axisCells(g),
				text(fmt.Sprintf("%d/%d", g.Reached, g.Seeds)), statCell(g.EpochsToTarget, 1, 1), statCell(g.SecondsToTarget, 1, 1)))
		}
		r.markBest(&conv, nAx+1, func(int) bool { return true })
		out = append(out, conv)
	}

	mem := Table{Name: "cost", Title: "Peak memory (MiB, VmHWM per plugin), seconds per epoch by phase, negative hardness",
		Header: r.axisHeader()}
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
		f := Table{Name: "failures", Title: "Cells that did not finish", Header: []string{"cell", "state", "error"}}
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
	t := Table{Name: "budget", Title: fmt.Sprintf("Largest batch whose encoder fits in %.0f MiB", r.BudgetMB)}
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
