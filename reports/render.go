package reports

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// Formats accepted by Render.
var Formats = []string{"md", "term", "csv", "latex", "html"}

// Render writes the report's tables in format (md, term, csv, latex); html
// is written by WriteHTML since it embeds plots.
func Render(w io.Writer, r *Report, format string) error {
	tables := r.Tables()
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
		default:
			return fmt.Errorf("report: unknown format %q (want one of %v)", format, Formats)
		}
		if err != nil {
			return fmt.Errorf("report: %s table: %w", t.Name, err)
		}
	}
	return nil
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

// Markdown writes one table as a titled GitHub Markdown table, best values
// in bold.
func Markdown(w io.Writer, t Table) error {
	fmt.Fprintf(w, "### %s\n\n", t.Title)
	return tablewriterRender(w, t, renderer.NewMarkdown(), func(s string) string { return "**" + s + "**" })
}

// Terminal writes one table with box drawing, best values starred.
func Terminal(w io.Writer, t Table) error {
	fmt.Fprintln(w, t.Title)
	return tablewriterRender(w, t, renderer.NewBlueprint(), func(s string) string { return s + " *" })
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

var latexEscaper = strings.NewReplacer(`\`, `\textbackslash{}`, "_", `\_`, "%", `\%`, "&", `\&`, "#", `\#`, "$", `\$`, "{", `\{`, "}", `\}`, "≥", `$\geq$`, "±", `$\pm$`, "–", "--")

// LaTeX writes one booktabs table (needs \usepackage{booktabs}); best values
// in \textbf, statistics as mean$\pm$std.
func LaTeX(w io.Writer, t Table) error {
	var b strings.Builder
	align := ""
	for i := range t.Header {
		if len(t.Rows) > 0 && t.Rows[0][i].Stat != nil {
			align += "r"
		} else {
			align += "l"
		}
	}
	fmt.Fprintf(&b, "%% %s\n", latexEscaper.Replace(t.Title))
	fmt.Fprintf(&b, "\\begin{tabular}{%s}\n\\toprule\n", align)
	hs := make([]string, len(t.Header))
	for i, h := range t.Header {
		hs[i] = latexEscaper.Replace(h)
	}
	b.WriteString(strings.Join(hs, " & ") + " \\\\\n\\midrule\n")
	for _, row := range t.Rows {
		cs := make([]string, len(row))
		for i, c := range row {
			s := latexEscaper.Replace(c.Text)
			if c.Stat != nil {
				s = c.Format(`$\pm$`)
				if s == "–" {
					s = "--"
				}
			}
			if c.Best {
				s = `\textbf{` + s + `}`
			}
			cs[i] = s
		}
		b.WriteString(strings.Join(cs, " & ") + " \\\\\n")
	}
	b.WriteString("\\bottomrule\n\\end{tabular}\n")
	_, err := io.WriteString(w, b.String())
	return err
}
