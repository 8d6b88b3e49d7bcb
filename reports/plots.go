package reports

import (
	"bytes"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Plot is one chart, rendered on demand.
type Plot struct {
	Name string // file stem: "p1-epoch-cooking"
	Plot *plot.Plot
}

// Plots builds the learning curves (per dataset: P@1 against epochs and
// against seconds, a line per group) and the memory chart (encoder peak by
// batch size, a bar per other coordinate) when the data allow.
func (r *Report) Plots() ([]Plot, error) {
	var out []Plot
	byDS := map[string][]Group{}
	var dss []string
	for _, g := range r.Groups {
		ds := g.Value("dataset")
		if byDS[ds] == nil {
			dss = append(dss, ds)
		}
		byDS[ds] = append(byDS[ds], g)
	}
	for _, ds := range dss {
		for _, x := range []string{"epoch", "seconds"} {
			p := plot.New()
			p.Title.Text = ds + ": P@1 (%) vs " + x
			p.X.Label.Text, p.Y.Label.Text = x, "P@1 (%)"
			p.Legend.Top = false
			p.Legend.Left = false
			n := 0
			for i, g := range byDS[ds] {
				if len(g.Curve) == 0 {
					continue
				}
				xys := make(plotter.XYs, len(g.Curve))
				for j, c := range g.Curve {
					xys[j].X, xys[j].Y = float64(c.Epoch+1), c.P1*100
					if x == "seconds" {
						xys[j].X = c.Elapsed
					}
				}
				l, pts, err := plotter.NewLinePoints(xys)
				if err != nil {
					return nil, fmt.Errorf("plot %s: %w", ds, err)
				}
				l.Color, pts.Color = plotutil.Color(i), plotutil.Color(i)
				pts.Shape = plotutil.Shape(i)
				p.Add(l, pts)
				p.Legend.Add(g.Label(), l, pts)
				n++
			}
			if n == 0 {
				continue
			}
			p.Add(plotter.NewGrid())
			out = append(out, Plot{Name: "p1-" + x + "-" + safe(ds), Plot: p})
		}
	}
	if m, ok, err := r.memoryPlot(); err != nil {
		return nil, err
	} else if ok {
		out = append(out, m)
	}
	return out, nil
}

// memoryPlot: x = batch size, one bar series per remaining coordinate.
func (r *Report) memoryPlot() (Plot, bool, error) {
	hasBS := false
	for _, a := range r.Axes {
		hasBS = hasBS || a == "batch_size"
	}
	if !hasBS {
		return Plot{}, false, nil
	}
	var sizes []int
	seenBS := map[int]bool{}
	series := map[string]map[int]float64{}
	var names []string
	for _, g := range r.Groups {
		bs, err := strconv.Atoi(g.Value("batch_size"))
		if err != nil {
			continue
		}
		p, ok := g.PeakMiB["encoder"]
		if !ok || p.N == 0 {
			continue
		}
		if !seenBS[bs] {
			seenBS[bs] = true
			sizes = append(sizes, bs)
		}
		var key []string
		for _, a := range g.Axes {
			if a.Key != "batch_size" {
				key = append(key, fmt.Sprint(a.Value))
			}
		}
		name := fmt.Sprint(key)
		name = name[1 : len(name)-1]
		if series[name] == nil {
			series[name] = map[int]float64{}
			names = append(names, name)
		}
		series[name][bs] = p.Mean
	}
	if len(names) == 0 {
		return Plot{}, false, nil
	}
	sort.Ints(sizes)
	p := plot.New()
	p.Title.Text = "Encoder peak memory by batch size"
	p.Y.Label.Text = "peak RSS (MiB)"
	p.X.Label.Text = "batch size"
	w := vg.Points(float64(60) / float64(len(names)))
	for i, name := range names {
		vals := make(plotter.Values, len(sizes))
		for j, bs := range sizes {
			vals[j] = series[name][bs]
		}
		b, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return Plot{}, false, fmt.Errorf("memory plot: %w", err)
		}
		b.Color = plotutil.Color(i)
		b.LineStyle.Color = color.Gray{Y: 60}
		b.Offset = vg.Length(float64(i)-float64(len(names)-1)/2) * w
		p.Add(b)
		p.Legend.Add(name, b)
	}
	labels := make([]string, len(sizes))
	for i, s := range sizes {
		labels[i] = strconv.Itoa(s)
	}
	p.NominalX(labels...)
	p.Legend.Top = true
	return Plot{Name: "memory", Plot: p}, true, nil
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

// Size of saved plots.
var plotW, plotH = 6 * vg.Inch, 4 * vg.Inch

// Bytes renders a plot as "png" or "svg".
func (p Plot) Bytes(format string) ([]byte, error) {
	wt, err := p.Plot.WriterTo(plotW, plotH, format)
	if err != nil {
		return nil, fmt.Errorf("plot %s: %w", p.Name, err)
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("plot %s: %w", p.Name, err)
	}
	return buf.Bytes(), nil
}

// SavePlots writes every plot as PNG and SVG into dir and returns the paths.
func SavePlots(dir string, plots []Plot) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	for _, p := range plots {
		for _, f := range []string{"png", "svg"} {
			b, err := p.Bytes(f)
			if err != nil {
				return nil, err
			}
			path := filepath.Join(dir, p.Name+"."+f)
			if err := os.WriteFile(path, b, 0o644); err != nil {
				return nil, err
			}
			paths = append(paths, path)
		}
	}
	return paths, nil
}
