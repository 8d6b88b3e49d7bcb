package reports

import (
	"fmt"
	"html"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// htmlWidth is the widest an HTML table may be, in characters of its
// cells (each column counts 3 more for padding): at the page's 13 px
// table font about 1000 px, inside the 1200 px page at a 1280 px window.
// Wider tables are split into parts that repeat the coordinates; the
// browser test (html_browser_test.go) checks that nothing overflows.
const htmlWidth = 190

const htmlStyle = `body{font-family:system-ui,sans-serif;max-width:1200px;margin:1em auto;padding:0 1em;color:#111}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em}h3{font-size:1em;margin:1.4em 0 .3em}
table{border-collapse:collapse;margin:.3em 0;font-size:13px;font-variant-numeric:tabular-nums}
td,th{border-bottom:1px solid #ddd;padding:2px 8px;text-align:right;white-space:nowrap}
th{border-bottom:2px solid #999}
td.key,th.key{text-align:left}
.std{font-size:80%;color:#555}
.best{font-weight:bold}
.best .std{color:#111}
table.meta td{text-align:left;white-space:normal}
table.meta td:first-child{color:#555;white-space:nowrap}
code,.hash{font-family:ui-monospace,monospace;font-size:11px}
.note{font-size:12px;color:#333;margin:.2em 0;max-width:900px}
figure{display:inline-block;width:48%;margin:0 1% 1em 0;vertical-align:top}
figure.wide{width:98%}
figure svg{width:100%;height:auto}
`

// WriteHTML writes a self-contained page: the run's provenance, every
// table (split to fit the page, numbers never wrapped, the std smaller)
// with its notes, and every plot as inline SVG.
func WriteHTML(w io.Writer, r *Report) error {
	var b strings.Builder
	title := r.Grid
	if title == "" {
		title = "xcbench report"
	}
	fmt.Fprintf(&b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width\">\n<title>%s</title>\n<style>\n%s</style></head><body>\n", html.EscapeString(title), htmlStyle)
	fmt.Fprintf(&b, "<h1>%s</h1>\n", html.EscapeString(title))
	writeHTMLMeta(&b, r.Meta)

	b.WriteString("<h2>Tables</h2>\n")
	fmt.Fprintf(&b, "<p class=\"note\" id=\"legend\">Cells are mean <span class=\"std\">± std</span> over seeds. %s</p>\n",
		html.EscapeString(BestNote("Bold")))
	fits := func(s Table) bool {
		width := 0
		for i, h := range s.Header {
			cw := utf8.RuneCountInString(h)
			for _, row := range s.Rows {
				cw = max(cw, utf8.RuneCountInString(row[i].Format(" ± ")))
			}
			width += cw + 3
		}
		return width <= htmlWidth
	}
	for _, t := range r.Tables() {
		parts := splitColumns(t, fits)
		for i, p := range parts {
			id := p.Name
			if len(parts) > 1 {
				id += "-" + strconv.Itoa(i+1)
			}
			writeHTMLTable(&b, p, id)
		}
	}
	plots, err := r.Plots()
	if err != nil {
		return err
	}
	if len(plots) > 0 {
		b.WriteString("<h2>Figures</h2>\n")
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
		cls := ""
		if p.Width > singleColumn {
			cls = ` class="wide"`
		}
		fmt.Fprintf(&b, "<figure id=\"fig-%s\"%s>%s<figcaption class=\"note\">%s (<code>%s.pdf</code>)</figcaption></figure>\n",
			p.Name, cls, s, html.EscapeString(figureCaption(p.Name)), p.Name)
	}
	b.WriteString("</body></html>\n")
	_, err = io.WriteString(w, b.String())
	return err
}

func figureCaption(name string) string {
	switch {
	case strings.HasPrefix(name, "p1-epoch-"):
		return "P@1 after each epoch, mean over seeds, band ±1 std; dashed: the data set's target"
	case strings.HasPrefix(name, "p1-seconds-"):
		return "P@1 against cumulative working seconds, mean over seeds, band ±1 std of P@1; dashed: the target"
	case name == "memory":
		return "Peak resident memory of the encoder process (VmHWM), mean over seeds, whiskers ±1 std"
	}
	return name
}

func writeHTMLMeta(b *strings.Builder, m Meta) {
	b.WriteString("<h2>Run</h2>\n<table class=\"meta\" id=\"meta\">\n")
	for _, f := range m.Fields {
		v := html.EscapeString(f.Value)
		if strings.Contains(f.Name, "sha256") || f.Name == "commit" {
			v = "<span class=\"hash\">" + v + "</span>"
		}
		fmt.Fprintf(b, "<tr><td>%s</td><td>%s</td></tr>\n", html.EscapeString(f.Name), v)
	}
	b.WriteString("</table>\n")
	if len(m.Plugins) > 0 {
		b.WriteString("<h3>Plugins</h3>\n<table class=\"meta\" id=\"plugins\"><tr><th class=\"key\">kind</th><th class=\"key\">name</th><th class=\"key\">version</th><th class=\"key\">binary sha256</th></tr>\n")
		for _, p := range m.Plugins {
			fmt.Fprintf(b, "<tr><td>%s</td><td>%s</td><td>%s</td><td class=\"hash\">%s</td></tr>\n",
				html.EscapeString(p.Kind), html.EscapeString(p.Name), html.EscapeString(p.Version), html.EscapeString(p.SHA256))
		}
		b.WriteString("</table>\n")
	}
	if len(m.Datasets) > 0 {
		b.WriteString("<h3>Data sets</h3>\n<table id=\"datasets\"><tr><th class=\"key\">data set</th><th>train</th><th>test</th><th>labels</th><th>features</th><th>labels / point</th><th>points / label</th></tr>\n")
		for _, d := range m.Datasets {
			if d.Note != "" {
				fmt.Fprintf(b, "<tr><td class=\"key\">%s</td><td colspan=\"6\" class=\"key\">%s</td></tr>\n", html.EscapeString(d.Name), html.EscapeString(d.Note))
				continue
			}
			fmt.Fprintf(b, "<tr><td class=\"key\">%s</td><td>%d</td><td>%d</td><td>%d</td><td>%d</td><td>%.2f</td><td>%.2f</td></tr>\n",
				html.EscapeString(d.Name), d.Train, d.Test, d.Labels, d.Features, d.LabelsPerPoint, d.PointsPerLabel)
		}
		b.WriteString("</table>\n")
	}
}

func writeHTMLTable(b *strings.Builder, t Table, id string) {
	fmt.Fprintf(b, "<h3>%s</h3>\n<table id=\"%s\" class=\"results\"><tr>", html.EscapeString(t.Title), html.EscapeString(id))
	for i, h := range t.Header {
		cls := ""
		if i < t.Keys {
			cls = ` class="key"`
		}
		fmt.Fprintf(b, "<th%s>%s</th>", cls, html.EscapeString(h))
	}
	b.WriteString("</tr>\n")
	for _, row := range t.Rows {
		b.WriteString("<tr>")
		for i, c := range row {
			var cls []string
			if i < t.Keys {
				cls = append(cls, "key")
			}
			if c.Best {
				cls = append(cls, "best")
			}
			attr := ""
			if len(cls) > 0 {
				attr = ` class="` + strings.Join(cls, " ") + `"`
			}
			fmt.Fprintf(b, "<td%s>%s</td>", attr, htmlCell(c))
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</table>\n")
	for _, n := range t.Notes {
		fmt.Fprintf(b, "<p class=\"note\">%s</p>\n", html.EscapeString(n))
	}
}

// htmlCell is the mean with the std in a smaller span.
func htmlCell(c Cell) string {
	s := c.Format("\x00")
	mean, std, ok := strings.Cut(s, "\x00")
	if !ok {
		return html.EscapeString(s)
	}
	return html.EscapeString(mean) + `<span class="std"> ±` + html.EscapeString(std) + `</span>`
}
