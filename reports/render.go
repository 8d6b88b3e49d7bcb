package reports

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// Formats accepted by Render.
var Formats = []string{"md", "term", "csv", "latex", "html", "tidy"}

// CheckFormat returns an error naming the accepted formats when format is
// not one of them, so commands can refuse it before doing any work.
func CheckFormat(format string) error {
	for _, f := range Formats {
		if f == format {
			return nil
		}
	}
	return fmt.Errorf("report: unknown format %q (want one of %s)", format, strings.Join(Formats, ", "))
}

// TermWidth is the width terminal tables fit in; wider ones are split
// into parts that repeat the row's coordinates.
const TermWidth = 120

// TermMetrics are the terminal's default metric columns (when present and
// no Options.Metrics were given): one precision, one ranking-depth and one
// propensity-scored metric.
var TermMetrics = []string{"P@1", "P@5", "PSP@1"}

// termMetrics picks the terminal's metric columns.
func (r *Report) termMetrics() []string {
	if r.Show != nil {
		return r.Show
	}
	have := map[string]bool{}
	for _, m := range r.Metrics {
		have[m] = true
	}
	var out []string
	for _, m := range TermMetrics {
		if have[m] {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// Render writes the report in format: the tables (md, term, csv, latex),
// the self-contained page with plots (html) or one row per cell, stage,
// epoch and metric (tidy).
func Render(w io.Writer, r *Report, format string) error {
	if err := CheckFormat(format); err != nil {
		return err
	}
	switch format {
	case "html":
		return WriteHTML(w, r)
	case "tidy":
		return Tidy(w, r)
	}
	tables := r.Tables()
	if format == "term" {
		tables = r.TablesFor(r.termMetrics())
	}
	for i, t := range tables {
		if i > 0 {
			fmt.Fprintln(w)
		}
		var err error
		switch format {
		case "md":
			err = Markdown(w, t)
		case "term":
			err = Terminal(w, t)
		case "csv":
			err = CSV(w, t)
		case "latex":
			err = LaTeX(w, t)
		}
		if err != nil {
			return fmt.Errorf("report: %s table: %w", t.Name, err)
		}
	}
	return nil
}

// splitColumns splits t into parts that fit (as fits judges), each with
// t's key columns and as many of the other columns as fit, in order; the
// notes go under the last part.
func splitColumns(t Table, fits func(Table) bool) []Table {
	if fits(t) || len(t.Header) <= t.Keys+1 {
		return []Table{t}
	}
	sub := func(cols []int) Table {
		s := Table{Name: t.Name, Title: t.Title, Keys: t.Keys, Marked: t.Marked}
		idx := make([]int, 0, t.Keys+len(cols))
		for k := 0; k < t.Keys; k++ {
			idx = append(idx, k)
		}
		idx = append(idx, cols...)
		for _, c := range idx {
			s.Header = append(s.Header, t.Header[c])
		}
		for _, row := range t.Rows {
			var out []Cell
			for _, c := range idx {
				out = append(out, row[c])
			}
			s.Rows = append(s.Rows, out)
		}
		return s
	}
	var parts [][]int
	var cur []int
	for c := t.Keys; c < len(t.Header); c++ {
		next := append(append([]int(nil), cur...), c)
		if len(cur) > 0 && !fits(sub(next)) {
			parts = append(parts, cur)
			next = []int{c}
		}
		cur = next
	}
	parts = append(parts, cur)
	// Greedy filling leaves a short last part; spread the columns evenly
	// over the same number of parts when that fits too.
	if n := len(parts); n > 1 {
		data := len(t.Header) - t.Keys
		var even [][]int
		ok := true
		for i, c := 0, t.Keys; i < n; i++ {
			size := (data + n - 1 - i) / n
			var p []int
			for ; size > 0; size-- {
				p = append(p, c)
				c++
			}
			if !fits(sub(p)) {
				ok = false
				break
			}
			even = append(even, p)
		}
		if ok {
			parts = even
		}
	}
	out := make([]Table, len(parts))
	for i, p := range parts {
		out[i] = sub(p)
		out[i].Title = fmt.Sprintf("%s (part %d of %d)", t.Title, i+1, len(parts))
	}
	out[len(out)-1].Notes = t.Notes
	return out
}

// wrap breaks s into lines of at most width runes at spaces.
func wrap(s string, width int, indent string) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		switch {
		case line == "":
			line = word
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word)+utf8.RuneCountInString(indent) > width:
			lines = append(lines, line)
			line = word
		default:
			line += " " + word
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	for i := range lines {
		if i > 0 {
			lines[i] = indent + lines[i]
		}
	}
	return lines
}

func rowStrings(row []Cell, mark func(string) string) []string {
	out := make([]string, len(row))
	for i, c := range row {
		s := c.Format(" ± ")
		if c.Best {
			s = mark(s)
		}
		out[i] = s
	}
	return out
}

func tablewriterRender(w io.Writer, t Table, rend tw.Renderer, mark func(string) string) error {
	tb := tablewriter.NewTable(w,
		tablewriter.WithRenderer(rend),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
	)
	h := make([]any, len(t.Header))
	for i, x := range t.Header {
		h[i] = x
	}
	tb.Header(h...)
	for _, row := range t.Rows {
		if err := tb.Append(rowStrings(row, mark)); err != nil {
			return err
		}
	}
	return tb.Render()
}

// notes lists a table's notes, the best-mark rule first when it has marks.
func notes(t Table, mark string) []string {
	var out []string
	if t.Marked && hasBest(t) {
		out = append(out, BestNote(mark))
	}
	return append(out, t.Notes...)
}

func hasBest(t Table) bool {
	for _, row := range t.Rows {
		for _, c := range row {
			if c.Best {
				return true
			}
		}
	}
	return false
}

// Markdown writes one table as a titled GitHub Markdown table, best values
// in bold, its notes below.
func Markdown(w io.Writer, t Table) error {
	fmt.Fprintf(w, "### %s\n\n", t.Title)
	if err := tablewriterRender(w, t, renderer.NewMarkdown(), func(s string) string { return "**" + s + "**" }); err != nil {
		return err
	}
	if ns := notes(t, "**Bold**"); len(ns) > 0 {
		fmt.Fprintln(w)
		for _, n := range ns {
			fmt.Fprintf(w, "- %s\n", n)
		}
	}
	return nil
}

// Terminal writes one table with box drawing, best values starred,
// split into parts of at most TermWidth columns, the notes wrapped below.
func Terminal(w io.Writer, t Table) error {
	var failed error
	fits := func(s Table) bool {
		var b bytes.Buffer
		if err := tablewriterRender(&b, s, renderer.NewBlueprint(), termMark); err != nil {
			failed = err
			return true
		}
		return maxWidth(b.String()) <= TermWidth
	}
	parts := splitColumns(t, fits)
	if failed != nil {
		return failed
	}
	for i, p := range parts {
		if i > 0 {
			fmt.Fprintln(w)
		}
		for _, l := range wrap(p.Title, TermWidth, "  ") {
			fmt.Fprintln(w, l)
		}
		if err := tablewriterRender(w, p, renderer.NewBlueprint(), termMark); err != nil {
			return err
		}
		for _, n := range notes(p, "*") {
			for _, l := range wrap(n, TermWidth, "  ") {
				fmt.Fprintln(w, l)
			}
		}
	}
	return nil
}

func termMark(s string) string { return s + " *" }

func maxWidth(s string) int {
	m := 0
	for _, l := range strings.Split(s, "\n") {
		m = max(m, utf8.RuneCountInString(l))
	}
	return m
}

// CSV writes one table with a "# title" line and separate mean and std
// columns for statistics.
func CSV(w io.Writer, t Table) error {
	fmt.Fprintf(w, "# %s\n", t.Title)
	cw := csv.NewWriter(w)
	var header []string
	for i, h := range t.Header {
		header = append(header, h)
		if len(t.Rows) > 0 && t.Rows[0][i].Stat != nil {
			header = append(header, h+" std", h+" n")
		}
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, row := range t.Rows {
		var rec []string
		for _, c := range row {
			if c.Stat == nil {
				rec = append(rec, c.Text)
				continue
			}
			if c.Stat.N == 0 {
				rec = append(rec, "", "", "0")
				continue
			}
			rec = append(rec, fmt.Sprintf("%.6g", c.Stat.Mean*c.Scale), fmt.Sprintf("%.6g", c.Stat.Std*c.Scale), fmt.Sprint(c.Stat.N))
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

var latexEscaper = strings.NewReplacer(`\`, `\textbackslash{}`, "_", `\_`, "%", `\%`, "&", `\&`, "#", `\#`, "$", `\$`, "{", `\{`, "}", `\}`, "≥", `$\geq$`, "±", `$\pm$`, "–", "--", "<", `\textless{}`, ">", `\textgreater{}`, "~", `\textasciitilde{}`, "^", `\textasciicircum{}`)

// latexWidth is the widest a LaTeX table may be, in characters of
// its cells (each column counts 3 more for its padding): about 7 in of
// \small text, a two-column paper's full width.
const latexWidth = 110

// LaTeX writes one booktabs table float per table part (needs
// \usepackage{booktabs}): the title as caption, best values in \textbf,
// statistics as mean with a smaller ±std, the notes under the tabular.
// Tables wider than a page's text are split into parts that repeat the
// coordinates.
func LaTeX(w io.Writer, t Table) error {
	fits := func(s Table) bool {
		width := 0
		for i, h := range s.Header {
			cw := utf8.RuneCountInString(h)
			for _, row := range s.Rows {
				cw = max(cw, utf8.RuneCountInString(row[i].Format(" ± ")))
			}
			width += cw + 3
		}
		return width <= latexWidth
	}
	var b strings.Builder
	parts := splitColumns(t, fits)
	for i, p := range parts {
		if len(parts) > 1 { // labels must be unique
			p.Name += "-" + strconv.Itoa(i+1)
		}
		latexTable(&b, p)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func latexTable(b *strings.Builder, t Table) {
	align := ""
	for i := range t.Header {
		if len(t.Rows) > 0 && t.Rows[0][i].Stat != nil {
			align += "r"
		} else {
			align += "l"
		}
	}
	fmt.Fprintf(b, "\\begin{table}[tbp]\n\\centering\\small\n\\caption{%s}\\label{tab:%s}\n", latexEscaper.Replace(t.Title), t.Name)
	fmt.Fprintf(b, "\\begin{tabular}{%s}\n\\toprule\n", align)
	hs := make([]string, len(t.Header))
	for i, h := range t.Header {
		hs[i] = latexEscaper.Replace(h)
	}
	b.WriteString(strings.Join(hs, " & ") + " \\\\\n\\midrule\n")
	prev := ""
	for _, row := range t.Rows {
		// A rule between data sets keeps long tables readable.
		if t.Keys > 0 && row[0].Stat == nil && prev != "" && row[0].Text != prev {
			b.WriteString("\\midrule\n")
		}
		prev = row[0].Text
		cs := make([]string, len(row))
		for i, c := range row {
			s := latexEscaper.Replace(c.Text)
			if c.Stat != nil {
				s = latexStat(c)
			}
			if c.Best {
				s = `\textbf{` + s + `}`
			}
			cs[i] = s
		}
		b.WriteString(strings.Join(cs, " & ") + " \\\\\n")
	}
	b.WriteString("\\bottomrule\n\\end{tabular}\n")
	if ns := notes(t, "Bold"); len(ns) > 0 {
		b.WriteString("\\par\\smallskip\\parbox{\\linewidth}{\\footnotesize\n")
		for _, n := range ns {
			b.WriteString(latexEscaper.Replace(n) + "\\par\n")
		}
		b.WriteString("}\n")
	}
	b.WriteString("\\end{table}\n")
}

// latexStat is mean{\scriptsize ±std}, "--" without seeds.
func latexStat(c Cell) string {
	if c.Stat.N == 0 {
		return "--"
	}
	m := strconv.FormatFloat(c.Stat.Mean*c.Scale, 'f', c.Prec, 64)
	if c.Stat.N < 2 {
		return m
	}
	return m + `{\scriptsize${}\pm{}$` + strconv.FormatFloat(c.Stat.Std*c.Scale, 'f', c.Prec, 64) + `}`
}
