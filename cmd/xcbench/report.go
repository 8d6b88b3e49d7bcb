package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/core/results"
	"github.com/xcbench/xcbench/reports"
)

func init() { commands = append(commands, newReportCmd) }

// ReportOptions holds `xcbench report`'s flags.
type ReportOptions struct {
	RunDir    string
	Format    string
	Out       string
	Target    string
	Metrics   string
	DataStats bool
	Spec      string
}

func newReportCmd() *cobra.Command {
	o := &ReportOptions{}
	cmd := &cobra.Command{
		Use:   "report <run-dir> | report --spec <report-folder>",
		Short: "Summarise a run folder: tables (term, md, csv, latex, html, tidy) and plots",
		Long: `Report groups a run's cells by their grid coordinates (averaging over
seeds) and prints mean ± std of the final metrics, time to target P@1, peak
memory per plugin, seconds per epoch by phase and negative hardness. A best
value is marked only when it is ahead of every other row of its data set by
more than the larger standard deviation. Terminal tables fit 120 columns
(default metrics P@1, P@5, PSP@1; --metrics chooses; wider tables split).
--format tidy writes one CSV row per cell, stage, epoch and metric with
every grid axis as a column. With --out it writes report.<ext> plus P@1
curves and the memory chart as PDF, SVG and 300-dpi PNG into that folder;
html embeds the plots and the run's provenance.`,
		Args: cobra.RangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Spec != "" {
				if len(args) > 0 {
					return fmt.Errorf("report: give a run folder or --spec, not both")
				}
				for _, f := range []string{"format", "target", "metrics", "out"} {
					if cmd.Flags().Changed(f) {
						return fmt.Errorf("report --spec: --%s comes from the spec's report.json", f)
					}
				}
				return runReportSpec(cmd, o)
			}
			if len(args) != 1 {
				return fmt.Errorf("report: want a run folder (or --spec <report folder>)")
			}
			o.RunDir = args[0]
			return runReport(cmd, o)
		},
	}
	cmd.Flags().StringVar(&o.Spec, "spec", "", "regenerate a committed report folder from its report.json: tables, figures, and README.md and other files from their templates, every claim computed from the records")
	cmd.Flags().StringVar(&o.Format, "format", "md", strings.Join(reports.Formats, "|"))
	cmd.Flags().StringVar(&o.Target, "target", "", `P@1 target(s) for time-to-target, overriding the grid's target_p1: "0.6" or "cooking=0.68,bibtex=0.6,delicious=0.37"`)
	cmd.Flags().StringVar(&o.Metrics, "metrics", "", `metric columns of the tables, e.g. "P@1,P@5,PSP@1" (default: all; the terminal shows P@1,P@5,PSP@1)`)
	cmd.Flags().BoolVar(&o.DataStats, "data-stats", true, "read the grid's data sets for the HTML header's statistics (a folder that is absent gets a note)")
	cmd.Flags().StringVar(&o.Out, "out", "", "folder for report.<ext> and plots (default: tables to stdout, no plots)")
	return cmd
}

// runReportSpec regenerates a report folder from its spec.
func runReportSpec(cmd *cobra.Command, o *ReportOptions) error {
	s, dir, err := reports.LoadSpec(o.Spec)
	if err != nil {
		return err
	}
	files, rep, err := reports.SpecOutputs(dir, s)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		path := filepath.Join(dir, name)
		if err := results.WriteFileAtomic(path, files[name]); err != nil {
			return err
		}
		fmt.Fprintln(cmd.ErrOrStderr(), "wrote", path)
	}
	for _, f := range s.Formats {
		if f != "html" {
			continue
		}
		if o.DataStats {
			rep.Meta.Datasets = datasetStats(rep)
		}
		path := filepath.Join(dir, "report.html")
		if err := writeFormat(path, rep, "html"); err != nil {
			return err
		}
		fmt.Fprintln(cmd.ErrOrStderr(), "wrote", path)
	}
	return savePlots(cmd, rep, dir)
}

func writeFormat(path string, rep *reports.Report, format string) error {
	var b bytes.Buffer
	if err := reports.Render(&b, rep, format); err != nil {
		return err
	}
	return results.WriteFileAtomic(path, b.Bytes())
}

func savePlots(cmd *cobra.Command, rep *reports.Report, dir string) error {
	plots, err := rep.Plots()
	if err != nil {
		return err
	}
	paths, err := reports.SavePlots(dir, plots)
	if err != nil {
		return err
	}
	for _, p := range paths {
		fmt.Fprintln(cmd.ErrOrStderr(), "wrote", p)
	}
	return nil
}

// runReport checks every argument before it reads or creates anything.
func runReport(cmd *cobra.Command, o *ReportOptions) error {
	if err := reports.CheckFormat(o.Format); err != nil {
		return err
	}
	targets, err := parseTargets(o.Target)
	if err != nil {
		return err
	}
	var metrics []string
	for _, m := range strings.Split(o.Metrics, ",") {
		if m = strings.TrimSpace(m); m != "" {
			metrics = append(metrics, m)
		}
	}
	if o.Out != "" {
		if fi, err := os.Stat(o.Out); err == nil && !fi.IsDir() {
			return fmt.Errorf("report: --out %s is a file, not a folder", o.Out)
		}
	}
	rep, err := reports.LoadWith(o.RunDir, reports.Options{Targets: targets, Metrics: metrics})
	if err != nil {
		return err
	}
	if o.DataStats && o.Format == "html" {
		rep.Meta.Datasets = datasetStats(rep)
	}
	if o.Out == "" {
		return reports.Render(cmd.OutOrStdout(), rep, o.Format)
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return err
	}
	path := filepath.Join(o.Out, "report."+reports.Ext[o.Format])
	if err := writeFormat(path, rep, o.Format); err != nil {
		return err
	}
	fmt.Fprintln(cmd.ErrOrStderr(), "wrote", path)
	return savePlots(cmd, rep, o.Out)
}

// datasetStats reads each data set of the run's grid (no tokenisation
// cache is written) for the statistics row; one that cannot be read gets
// a note instead, so a report still renders without the data.
func datasetStats(rep *reports.Report) []reports.DatasetStats {
	var out []reports.DatasetStats
	for _, d := range rep.Datasets() {
		st := reports.DatasetStats{Name: d.Name}
		switch {
		case d.Synth != nil:
			st.Note = "synthetic, generated by the run from the grid's synth settings"
		case d.Path == "":
			st.Note = "no folder recorded"
		default:
			raw, err := json.Marshal(d.Options)
			if err != nil {
				st.Note = err.Error()
				break
			}
			opts, err := data.DecodeOptions(raw)
			if err != nil {
				st.Note = err.Error()
				break
			}
			opts.CacheDir = "-"
			if opts.Name == "" {
				opts.Name = d.Name
			}
			ds, err := data.Open(d.Path, opts)
			if err != nil {
				st.Note = "not read: " + firstErrLine(err.Error())
				break
			}
			s := ComputeStats(ds)
			st.Train, st.Test, st.Labels, st.Features = s.Train, s.Test, s.Labels, s.Features
			st.LabelsPerPoint, st.PointsPerLabel = s.LabelsPerPoint, s.PointsPerLabel
		}
		out = append(out, st)
	}
	return out
}

// parseTargets reads --target: a fraction for every dataset, or
// dataset=fraction pairs separated by commas.
func parseTargets(s string) (map[string]float64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	out := map[string]float64{}
	for _, part := range strings.Split(s, ",") {
		name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			name, val = "", name
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil || v <= 0 || v > 1 {
			return nil, fmt.Errorf("--target %q: %q is not a fraction in (0, 1]", s, part)
		}
		out[strings.TrimSpace(name)] = v
	}
	return out, nil
}
