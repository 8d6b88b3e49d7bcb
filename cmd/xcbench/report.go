package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/xcbench/xcbench/reports"
)

func init() { commands = append(commands, newReportCmd) }

// ReportOptions holds `xcbench report`'s flags.
type ReportOptions struct {
	RunDir string
	Format string
	Out    string
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
			rep, err := reports.Load(o.RunDir)
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
	cmd.Flags().StringVar(&o.Out, "out", "", "folder for report.<ext> and plots (default: tables to stdout, no plots)")
	return cmd
}
