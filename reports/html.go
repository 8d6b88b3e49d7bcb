package reports

import (
	"fmt"
	"html"
	"io"
	"strings"
)

// WriteHTML writes a self-contained page: every table and every plot as
// inline SVG.
func WriteHTML(w io.Writer, r *Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>%s</title>\n", html.EscapeString(r.Grid))
	b.WriteString("<style>body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse;margin:1em 0}" +
		"td,th{border-bottom:1px solid #ccc;padding:2px 8px;text-align:right}td:first-child,th:first-child{text-align:left}" +
		".best{font-weight:bold}figure{display:inline-block;margin:0}</style></head><body>\n")
	fmt.Fprintf(&b, "<h1>%s</h1>\n", html.EscapeString(r.Grid))
	for _, t := range r.Tables() {
		fmt.Fprintf(&b, "<h3>%s</h3>\n<table><tr>", html.EscapeString(t.Title))
		for _, h := range t.Header {
			fmt.Fprintf(&b, "<th>%s</th>", html.EscapeString(h))
		}
		b.WriteString("</tr>\n")
		for _, row := range t.Rows {
			b.WriteString("<tr>")
			for _, c := range row {
				cls := ""
				if c.Best {
					cls = ` class="best"`
				}
				fmt.Fprintf(&b, "<td%s>%s</td>", cls, html.EscapeString(c.Format(" ± ")))
			}
			b.WriteString("</tr>\n")
		}
		b.WriteString("</table>\n")
	}
	plots, err := r.Plots()
	if err != nil {
		return err
	}
	for _, p := range plots {
		svg, err := p.Bytes("svg")
		if err != nil {
			return err
		}
		s := string(svg)
		if i := strings.Index(s, "<svg"); i > 0 {
			s = s[i:] // drop the XML prolog: not allowed inside HTML
		}
		fmt.Fprintf(&b, "<figure>%s</figure>\n", s)
	}
	b.WriteString("</body></html>\n")
	_, err = io.WriteString(w, b.String())
	return err
}
