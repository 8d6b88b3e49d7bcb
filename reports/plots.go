package reports

import (
	"bytes"
	"fmt"
	"github.com/xcbench/xcbench/core/results"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgpdf"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/xcbench/xcbench/core/grid"
)

// Figure sizes for a two-column paper: a single column is 3.5 in wide, the
// full text width 7 in (IEEE/ACM templates; most others are within 0.2 in).
const (
	singleColumn = 3.5 * vg.Inch
	doubleColumn = 7 * vg.Inch
	// pngDPI is the resolution of saved PNGs (print quality).
	pngDPI = 300
)

// Plot is one figure: one or more panels side by side sharing one legend
// drawn to their right, outside the data.
type Plot struct {
	Name          string // file stem: "p1-epoch-cooking"
	Width, Height vg.Length
	Panels        []*plot.Plot
	Legend        plot.Legend
	labels        []string // legend texts, to size the legend column
	// Date stamps the PDF (the run's last update), so regenerating a
	// report from the same records gives the same bytes.
	Date time.Time
}

// Style is a series' look. Colour and marker follow the sampler (the same
// in every figure of a report); the dash follows the other coordinates.
type Style struct {
	Color  color.Color
	Glyph  draw.GlyphDrawer
	Dashes []vg.Length
}

// palette is Okabe & Ito's colour-blind-safe set, black last.
var palette = []color.Color{
	color.RGBA{0x00, 0x72, 0xB2, 0xff}, // blue
	color.RGBA{0xD5, 0x5E, 0x00, 0xff}, // vermillion
	color.RGBA{0x00, 0x9E, 0x73, 0xff}, // bluish green
	color.RGBA{0xE6, 0x9F, 0x00, 0xff}, // orange
	color.RGBA{0xCC, 0x79, 0xA7, 0xff}, // reddish purple
	color.RGBA{0x56, 0xB4, 0xE9, 0xff}, // sky blue
	color.RGBA{0xF0, 0xE4, 0x42, 0xff}, // yellow
	color.RGBA{0x00, 0x00, 0x00, 0xff}, // black
}

var glyphs = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{},
	draw.CrossGlyph{}, draw.PlusGlyph{}, draw.RingGlyph{}, draw.BoxGlyph{}, draw.PyramidGlyph{}}

var dashes = [][]vg.Length{nil, {vg.Points(4), vg.Points(2)}, {vg.Points(1), vg.Points(1.5)}, {vg.Points(5), vg.Points(2), vg.Points(1), vg.Points(2)}}

// seriesKey is the coordinate that picks a series' colour: the sampler
// when the grid varies it, else everything but the dataset.
func (r *Report) seriesKey(g Group) string {
	for _, a := range r.Axes {
		if a == "sampler.name" {
			return g.Value(a)
		}
	}
	return g.Label()
}

// variantKey is what remains after the dataset and the series key: it
// picks the dash ("batch_size=512").
func (r *Report) variantKey(g Group) string {
	hasSampler := false
	for _, a := range r.Axes {
		hasSampler = hasSampler || a == "sampler.name"
	}
	if !hasSampler {
		return ""
	}
	var parts []string
	for _, a := range g.Axes {
		if a.Key != "dataset" && a.Key != "sampler.name" {
			parts = append(parts, shortAxis(a.Key)+"="+grid.AxisValue(a.Value))
		}
	}
	return strings.Join(parts, " ")
}

// shortAxis is an axis' name in a legend: B for the batch size, as in
// papers.
func shortAxis(key string) string {
	if key == "batch_size" {
		return "B"
	}
	return grid.AxisLabel(key)
}

// Styles assigns every series key and variant a style, in the order the
// groups appear, so the same sampler looks the same in every figure.
func (r *Report) Styles() (series map[string]int, variants map[string]int) {
	series, variants = map[string]int{}, map[string]int{}
	for _, g := range r.Groups {
		if _, ok := series[r.seriesKey(g)]; !ok {
			series[r.seriesKey(g)] = len(series)
		}
		if _, ok := variants[r.variantKey(g)]; !ok {
			variants[r.variantKey(g)] = len(variants)
		}
	}
	return series, variants
}

func (r *Report) style(g Group) Style {
	series, variants := r.Styles()
	i, j := series[r.seriesKey(g)], variants[r.variantKey(g)]
	return Style{Color: palette[i%len(palette)], Glyph: glyphs[i%len(glyphs)], Dashes: dashes[j%len(dashes)]}
}

func (r *Report) seriesLabel(g Group) string {
	if v := r.variantKey(g); v != "" {
		return r.seriesKey(g) + ", " + v
	}
	return r.seriesKey(g)
}

// Font sizes for print at 100%: 8 pt labels, 7 pt ticks and legend.
func newPanel(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(9)
	p.X.Label.Text, p.Y.Label.Text = xLabel, yLabel
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Label.TextStyle.Font.Size = vg.Points(8)
		ax.Tick.Label.Font.Size = vg.Points(7)
		ax.Padding = vg.Points(2)
	}
	return p
}

func newLegend() plot.Legend {
	l := plot.NewLegend()
	l.TextStyle.Font.Size = vg.Points(7)
	l.Top, l.Left = true, true
	l.ThumbnailWidth = vg.Points(18)
	return l
}

func (f *Plot) addLegend(label string, th ...plot.Thumbnailer) {
	f.Legend.Add(label, th...)
	f.labels = append(f.labels, label)
}

// Plots builds the learning curves (per dataset: P@1 against epochs and
// against seconds, mean over seeds with a ±1 std band, the dataset's
// target dashed) and the memory chart (encoder peak, one panel per
// dataset, samplers side by side at each batch size) when the data allow.
func (r *Report) Plots() ([]Plot, error) {
	var out []Plot
	byDS := map[string][]Group{}
	var dss []string
	for _, g := range r.Groups {
		if g.Value("encoder.name") == grid.None {
			// A classifier-only baseline cell has one point, not a
			// curve: its number is in the tables.
			continue
		}
		ds := g.Value("dataset")
		if byDS[ds] == nil {
			dss = append(dss, ds)
		}
		byDS[ds] = append(byDS[ds], g)
	}
	for _, ds := range dss {
		for _, x := range []string{"epoch", "seconds"} {
			f, ok, err := r.curvePlot(ds, x, byDS[ds])
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, f)
			}
		}
	}
	if m, ok, err := r.memoryPlot(); err != nil {
		return nil, err
	} else if ok {
		out = append(out, m)
	}
	for i := range out {
		out[i].Date = r.updated
	}
	return out, nil
}

func (r *Report) curvePlot(ds, x string, groups []Group) (Plot, bool, error) {
	xLabel := "epoch"
	if x == "seconds" {
		xLabel = "seconds"
	}
	title := ds
	if ds == "" {
		title = r.Grid
	}
	p := newPanel(title, xLabel, "P@1 (%)")
	f := Plot{Name: "p1-" + x + "-" + safe(ds), Width: singleColumn, Height: 2.4 * vg.Inch, Panels: []*plot.Plot{p}, Legend: newLegend()}
	xmin, xmax := math.Inf(1), math.Inf(-1)
	n := 0
	for _, g := range groups {
		if len(g.Curve) == 0 {
			continue
		}
		st := r.style(g)
		mean := make(plotter.XYs, len(g.Curve))
		band := make(plotter.XYs, 0, 2*len(g.Curve))
		for j, c := range g.Curve {
			mean[j].X, mean[j].Y = float64(c.Epoch+1), c.P1*100
			if x == "seconds" {
				mean[j].X = c.Elapsed
			}
			xmin, xmax = math.Min(xmin, mean[j].X), math.Max(xmax, mean[j].X)
			band = append(band, plotter.XY{X: mean[j].X, Y: (c.P1 + c.P1Std) * 100})
		}
		for j := len(g.Curve) - 1; j >= 0; j-- {
			band = append(band, plotter.XY{X: mean[j].X, Y: (g.Curve[j].P1 - g.Curve[j].P1Std) * 100})
		}
		if g.Seeds > 1 {
			poly, err := plotter.NewPolygon(band)
			if err != nil {
				return Plot{}, false, fmt.Errorf("plot %s: %w", ds, err)
			}
			cr, cg, cb, _ := st.Color.RGBA()
			poly.Color = color.NRGBA{uint8(cr >> 8), uint8(cg >> 8), uint8(cb >> 8), 0x33}
			poly.LineStyle.Width = 0
			p.Add(poly)
		}
		l, pts, err := plotter.NewLinePoints(mean)
		if err != nil {
			return Plot{}, false, fmt.Errorf("plot %s: %w", ds, err)
		}
		l.Color, pts.Color = st.Color, st.Color
		l.Dashes = st.Dashes
		l.Width = vg.Points(1)
		pts.Shape, pts.Radius = st.Glyph, vg.Points(2)
		p.Add(l, pts)
		f.addLegend(r.seriesLabel(g), l, pts)
		n++
	}
	if n == 0 {
		return Plot{}, false, nil
	}
	if t := r.target(ds); t > 0 {
		tl, err := plotter.NewLine(plotter.XYs{{X: xmin, Y: t * 100}, {X: xmax, Y: t * 100}})
		if err != nil {
			return Plot{}, false, err
		}
		tl.Color = color.Gray{Y: 80}
		tl.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
		tl.Width = vg.Points(0.8)
		p.Add(tl)
		f.addLegend(fmt.Sprintf("target %.4g%%", t*100), tl)
	}
	grid := plotter.NewGrid()
	grid.Vertical.Color, grid.Horizontal.Color = color.Gray{Y: 225}, color.Gray{Y: 225}
	p.Add(grid)
	p.Y.Tick.Marker = niceTicks{}
	switch {
	case x == "epoch":
		p.X.Tick.Marker = integerTicks{}
	case xmin > 0 && xmax/xmin > 10:
		// Fast and slow samplers differ by more than a decade: a linear
		// axis would squash the fast ones against zero.
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = logTicks{}
		p.X.Label.Text += " (log scale)"
	default:
		p.X.Tick.Marker = niceTicks{}
	}
	return f, true, nil
}

// memoryPlot: one panel per dataset, x = batch size, one bar per sampler
// (colour as in the curves) with ±1 std whiskers over seeds, the y axis
// shared.
func (r *Report) memoryPlot() (Plot, bool, error) {
	hasBS := false
	for _, a := range r.Axes {
		hasBS = hasBS || a == "batch_size"
	}
	if !hasBS {
		return Plot{}, false, nil
	}
	series, _ := r.Styles()
	type key struct{ ds, series string }
	vals, stds := map[key]map[int]float64{}, map[key]map[int]float64{}
	var dss, names []string
	seenDS, seenName := map[string]bool{}, map[string]bool{}
	var sizes []int
	seenBS := map[int]bool{}
	ymax := 0.0
	for _, g := range r.Groups {
		bs, err := strconv.Atoi(g.Value("batch_size"))
		if err != nil {
			continue
		}
		p, ok := g.PeakMiB["encoder"]
		if !ok || p.N == 0 {
			continue
		}
		ds, name := g.Value("dataset"), r.seriesKey(g)
		if r.variantKey(g) != "" && r.variantKey(g) != "B="+g.Value("batch_size") {
			name = r.seriesLabel(g) // other coordinates vary too: keep them apart
		}
		if !seenDS[ds] {
			seenDS[ds] = true
			dss = append(dss, ds)
		}
		if !seenName[name] {
			seenName[name] = true
			names = append(names, name)
		}
		if !seenBS[bs] {
			seenBS[bs] = true
			sizes = append(sizes, bs)
		}
		k := key{ds, name}
		if vals[k] == nil {
			vals[k] = map[int]float64{}
			stds[k] = map[int]float64{}
		}
		vals[k][bs], stds[k][bs] = p.Mean, p.Std
		ymax = math.Max(ymax, p.Mean+p.Std)
	}
	if len(names) == 0 {
		return Plot{}, false, nil
	}
	sort.Ints(sizes)
	labels := make([]string, len(sizes))
	for i, s := range sizes {
		labels[i] = strconv.Itoa(s)
	}
	f := Plot{Name: "memory", Width: doubleColumn, Height: 2.2 * vg.Inch, Legend: newLegend()}
	// Bars of one batch size fill 80% of its slot; the slot width is the
	// panel's share of the figure less the axes and legend (about 1.3 in).
	slot := (f.Width - 1.3*vg.Inch - vg.Length(len(dss))*0.45*vg.Inch) / vg.Length(len(dss)*len(sizes))
	w := slot * 0.8 / vg.Length(len(names))
	for di, ds := range dss {
		p := newPanel(ds, "batch size", "")
		if di == 0 {
			p.Y.Label.Text = "encoder peak RSS (MiB)"
		}
		for i, name := range names {
			v := make(plotter.Values, len(sizes))
			for j, bs := range sizes {
				v[j] = vals[key{ds, name}][bs] // 0 (no bar) where the grid lacks the cell
			}
			b, err := plotter.NewBarChart(v, w)
			if err != nil {
				return Plot{}, false, fmt.Errorf("memory plot: %w", err)
			}
			ci := i
			if si, ok := series[name]; ok {
				ci = si
			}
			b.Color = palette[ci%len(palette)]
			b.LineStyle.Width = vg.Points(0.3)
			b.LineStyle.Color = color.Gray{Y: 40}
			b.Offset = vg.Length(float64(i)-float64(len(names)-1)/2) * w
			errs := make([]float64, len(sizes))
			for j, bs := range sizes {
				errs[j] = stds[key{ds, name}][bs]
			}
			p.Add(b, barErrors{mean: v, std: errs, offset: b.Offset, cap: w / 4})
			if di == 0 {
				f.addLegend(name, b)
			}
		}
		p.NominalX(labels...)
		p.Y.Min, p.Y.Max = 0, ymax*1.05
		p.Y.Tick.Marker = niceTicks{}
		grid := plotter.NewGrid()
		grid.Vertical.Width = 0
		grid.Horizontal.Color = color.Gray{Y: 225}
		p.Add(grid)
		f.Panels = append(f.Panels, p)
	}
	return f, true, nil
}

// barErrors draws ±1 std whiskers on the bars of one series (gonum's
// BarChart has none); x is the bar's slot index shifted by its offset.
type barErrors struct {
	mean, std []float64
	offset    vg.Length
	cap       vg.Length
}

func (e barErrors) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	st := draw.LineStyle{Color: color.Gray{Y: 30}, Width: vg.Points(0.6)}
	for i, m := range e.mean {
		if m == 0 || e.std[i] == 0 {
			continue
		}
		x := trX(float64(i)) + e.offset
		lo, hi := trY(m-e.std[i]), trY(m+e.std[i])
		c.StrokeLine2(st, x, lo, x, hi)
		c.StrokeLine2(st, x-e.cap, lo, x+e.cap, lo)
		c.StrokeLine2(st, x-e.cap, hi, x+e.cap, hi)
	}
}

// niceTicks labels multiples of 1, 2 or 5 × 10^k, three to six of
// them, instead of plot.DefaultTicks' offsets (5, 25, 45).
type niceTicks struct{}

func (niceTicks) Ticks(min, max float64) []plot.Tick {
	if !(max > min) {
		return []plot.Tick{{Value: min, Label: formatTick(min, 0)}}
	}
	raw := (max - min) / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	prec := 0
	if step < 1 {
		prec = int(math.Ceil(-math.Log10(step)))
		if math.Abs(step*math.Pow(10, float64(prec))-math.Round(step*math.Pow(10, float64(prec)))) > 1e-9 {
			prec++
		}
	} else if math.Abs(step-math.Round(step)) > 1e-9 {
		prec = 1
	}
	var ts []plot.Tick
	for v := math.Ceil(min/step-1e-9) * step; v <= max+step*1e-9; v += step {
		ts = append(ts, plot.Tick{Value: v, Label: formatTick(v, prec)})
		// minor tick halfway
		if h := v + step/2; h < max {
			ts = append(ts, plot.Tick{Value: h})
		}
	}
	return ts
}

func formatTick(v float64, prec int) string {
	if math.Abs(v) < 1e-12 {
		v = 0
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

// integerTicks labels whole numbers (epochs): every one up to 12, else
// a nice step.
type integerTicks struct{}

func (integerTicks) Ticks(min, max float64) []plot.Tick {
	step := 1.0
	for (max-min)/step > 12 {
		switch {
		case step == 1:
			step = 2
		case step == 2:
			step = 5
		default:
			step *= 2
		}
	}
	var ts []plot.Tick
	for v := math.Ceil(min/step) * step; v <= max+1e-9; v += step {
		ts = append(ts, plot.Tick{Value: v, Label: formatTick(v, 0)})
	}
	return ts
}

// logTicks labels 1, 2 and 5 × 10^k inside the range (plot.LogTicks
// labels powers of ten only, often none or one on a data span of 1-2
// decades), with minor ticks at the other integers × 10^k.
type logTicks struct{}

func (logTicks) Ticks(min, max float64) []plot.Tick {
	var ts []plot.Tick
	for e := math.Floor(math.Log10(min)); math.Pow(10, e) <= max; e++ {
		mag := math.Pow(10, e)
		for m := 1.0; m < 10; m++ {
			v := m * mag
			if v < min*(1-1e-9) || v > max*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				prec := 0
				if e < 0 {
					prec = int(-e)
				}
				t.Label = formatTick(v, prec)
			}
			ts = append(ts, t)
		}
	}
	return ts
}

func safe(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

// Draw lays out the panels (aligned, sharing the height) and the legend in
// a column to their right, so no legend entry covers data.
func (f Plot) Draw(c vg.CanvasSizer) {
	dc := draw.New(c)
	lw := vg.Length(0)
	for _, l := range f.labels {
		lw = max(lw, f.Legend.TextStyle.Width(l))
	}
	if lw > 0 {
		// A quarter more than the text needs: an SVG viewer without the
		// Liberation fonts substitutes a wider face.
		lw = lw*1.25 + f.Legend.ThumbnailWidth + f.Legend.TextStyle.Font.Size*1.5
	}
	plots := draw.Crop(dc, 0, -lw, 0, 0)
	if len(f.Panels) == 1 {
		f.Panels[0].Draw(draw.Crop(plots, vg.Points(2), -vg.Points(6), vg.Points(2), -vg.Points(2)))
	} else {
		row := [][]*plot.Plot{f.Panels}
		canv := plot.Align(row, draw.Tiles{Rows: 1, Cols: len(f.Panels), PadX: vg.Points(6), PadTop: vg.Points(2), PadBottom: vg.Points(2), PadLeft: vg.Points(2), PadRight: vg.Points(6)}, plots)
		for i, p := range f.Panels {
			p.Draw(canv[0][i])
		}
	}
	if lw > 0 {
		leg := draw.Crop(dc, dc.Max.X-dc.Min.X-lw, 0, 0, -vg.Points(14)) // below the panel titles
		f.Legend.Draw(leg)
	}
}

// Bytes renders the figure as "png" (300 dpi), "svg" or "pdf" (fonts
// embedded).
func (f Plot) Bytes(format string) ([]byte, error) {
	var wt io.WriterTo
	switch format {
	case "png":
		c := vgimg.NewWith(vgimg.UseWH(f.Width, f.Height), vgimg.UseDPI(pngDPI), vgimg.UseBackgroundColor(color.White))
		f.Draw(c)
		wt = vgimg.PngCanvas{Canvas: c}
	case "svg":
		c := vgsvg.New(f.Width, f.Height)
		f.Draw(c)
		wt = c
	case "pdf":
		// fpdf reads its dates and catalogue order from package defaults
		// when a document is created: set them for this one (under a lock,
		// since they are globals).
		pdfMu.Lock()
		date := f.Date
		if date.IsZero() {
			date = time.Unix(0, 0)
		}
		fpdf.SetDefaultCreationDate(date.UTC())
		fpdf.SetDefaultModificationDate(date.UTC())
		fpdf.SetDefaultCatalogSort(true)
		c := vgpdf.New(f.Width, f.Height)
		pdfMu.Unlock()
		f.Draw(c)
		wt = c
	default:
		return nil, fmt.Errorf("plot %s: unknown image format %q", f.Name, format)
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("plot %s: %w", f.Name, err)
	}
	return buf.Bytes(), nil
}

var pdfMu sync.Mutex

// ImageFormats are the files SavePlots writes per figure.
var ImageFormats = []string{"pdf", "svg", "png"}

// SavePlots writes every plot as PDF, SVG and PNG into dir and returns the
// paths.
func SavePlots(dir string, plots []Plot) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	for _, p := range plots {
		for _, f := range ImageFormats {
			b, err := p.Bytes(f)
			if err != nil {
				return nil, err
			}
			path := filepath.Join(dir, p.Name+"."+f)
			if err := results.WriteFileAtomic(path, b); err != nil {
				return nil, err
			}
			paths = append(paths, path)
		}
	}
	return paths, nil
}
