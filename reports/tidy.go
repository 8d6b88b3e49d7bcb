package reports

import (
	"encoding/csv"
	"io"
	"sort"
	"strconv"

	"github.com/xcbench/xcbench/core/results"
)

// Tidy writes one CSV row per (cell, stage, epoch, metric) of every
// finished cell: the cell id, every grid axis (seed included) as a
// column by its key ("sampler.name"), then stage, epoch (from 1), metric and value. Metrics are the
// evaluation's (P@k, nDCG@k, PSP@k as fractions) and the record's own
// measurements: loss, hardness, refresh_hardness, elapsed_s (cumulative),
// wall_s.<phase> and peak_mib.<plugin> (largest over the epoch's phases).
// Values are written exactly (shortest round-trip form).
func Tidy(w io.Writer, r *Report) error {
	axes := r.tidyAxes()
	cw := csv.NewWriter(w)
	header := append([]string{"cell"}, axes...)
	header = append(header, "stage", "epoch", "metric", "value")
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, c := range r.cells {
		recs, ok := r.recs[c.ID]
		if !ok {
			continue
		}
		lead := []string{c.ID}
		for _, a := range axes {
			lead = append(lead, c.Axis(a))
		}
		for _, rec := range recs {
			for _, m := range tidyMetrics(rec) {
				row := append(append([]string(nil), lead...), rec.Stage, strconv.Itoa(rec.Epoch+1), m.name,
					strconv.FormatFloat(m.value, 'g', -1, 64))
				if err := cw.Write(row); err != nil {
					return err
				}
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// tidyAxes is every axis any cell has, in first-seen order (the grid's).
func (r *Report) tidyAxes() []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range r.cells {
		for _, a := range c.Axes {
			if !seen[a.Key] {
				seen[a.Key] = true
				out = append(out, a.Key)
			}
		}
	}
	if len(out) == 0 {
		out = []string{"dataset"}
	}
	return out
}

type tidyValue struct {
	name  string
	value float64
}

func tidyMetrics(rec results.Record) []tidyValue {
	var out []tidyValue
	seen := map[string]bool{}
	for m := range rec.Metrics {
		seen[m] = true
	}
	ordered := orderMetrics(seen)
	inOrder := map[string]bool{}
	for _, m := range ordered {
		inOrder[m] = true
	}
	var rest []string
	for m := range rec.Metrics {
		if !inOrder[m] {
			rest = append(rest, m)
		}
	}
	sort.Strings(rest)
	for _, m := range append(ordered, rest...) {
		out = append(out, tidyValue{m, rec.Metrics[m]})
	}
	if rec.Stage != results.StageStage2 {
		out = append(out, tidyValue{"loss", rec.Loss}, tidyValue{"hardness", rec.Hardness})
		if rec.RefreshHardness != nil {
			out = append(out, tidyValue{"refresh_hardness", *rec.RefreshHardness})
		}
	}
	out = append(out, tidyValue{"elapsed_s", rec.Elapsed})
	for _, p := range append(append([]string(nil), phaseOrder...), otherKeys(rec.Wall, phaseOrder)...) {
		if s, ok := rec.Wall[p]; ok {
			out = append(out, tidyValue{"wall_s." + p, s})
		}
	}
	kinds := make([]string, 0, len(rec.PeakRSS))
	for k := range rec.PeakRSS {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		var peak int64
		for _, b := range rec.PeakRSS[k] {
			peak = max(peak, b)
		}
		out = append(out, tidyValue{"peak_mib." + k, float64(peak) / (1 << 20)})
	}
	return out
}

// otherKeys lists m's keys not in known, sorted.
func otherKeys(m map[string]float64, known []string) []string {
	k := map[string]bool{}
	for _, x := range known {
		k[x] = true
	}
	var out []string
	for x := range m {
		if !k[x] {
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}
