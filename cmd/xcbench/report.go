package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/xcbench/xcbench/reports"
)

func init() { commands = append(commands, newReportCmd) }

// ReportOptions holds `xcbench report`'s flags.
type ReportOptions struct {
	RunDir string
	Format string
	Out    string
	Target string
}

func newReportCmd() *cobra.Command {
	o := &ReportOptions{}
	cmd := &cobra.Command{
		Use:   "report <run-dir>",
		Short: "Summarise a run folder: tables (term, md, csv, latex, html) and plots",
		Long: `Report groups a run's cells by their grid coordinates (averaging over
seeds) and prints mean ± std of the final metrics, time to target P@1, peak
memory per plugin, seconds per epoch by phase and negative hardness. With
--out it writes report.<format> plus P@1 curves and the memory chart as PNG
and SVG into that folder; html embeds the plots.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.RunDir = args[0]
			targets, err := parseTargets(o.Target)
			if err != nil {
				return err
			}
			rep, err := reports.LoadWith(o.RunDir, reports.Options{Targets: targets})
			if err != nil {
				return err
			}
			if o.Out == "" {
				if o.Format == "html" {
					return reports.WriteHTML(cmd.OutOrStdout(), rep)
				}
				return reports.Render(cmd.OutOrStdout(), rep, o.Format)
			}
			if err := os.MkdirAll(o.Out, 0o755); err != nil {
				return err
			}
			ext := map[string]string{"md": "md", "term": "txt", "csv": "csv", "latex": "tex", "html": "html"}[o.Format]
			if ext == "" {
				return fmt.Errorf("report: unknown format %q (want one of %v)", o.Format, reports.Formats)
			}
			path := filepath.Join(o.Out, "report."+ext)
			f, err := os.Create(path)
			if err != nil {
				return err
			}
			if o.Format == "html" {
				err = reports.WriteHTML(f, rep)
			} else {
				err = reports.Render(f, rep, o.Format)
			}
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			plots, err := rep.Plots()
			if err != nil {
				return err
			}
			paths, err := reports.SavePlots(o.Out, plots)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.ErrOrStderr(), "wrote", path)
			for _, p := range paths {
				fmt.Fprintln(cmd.ErrOrStderr(), "wrote", p)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&o.Format, "format", "md", "md|term|csv|latex|html")
	cmd.Flags().StringVar(&o.Target, "target", "", `P@1 target(s) for time-to-target, overriding the grid's target_p1: "0.6" or "cooking=0.68,bibtex=0.6,delicious=0.37"`)
	cmd.Flags().StringVar(&o.Out, "out", "", "folder for report.<ext> and plots (default: tables to stdout, no plots)")
	return cmd
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
