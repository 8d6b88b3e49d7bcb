// Package reports turns a run folder into a typed report (groups of cells
// that differ only in seed, with mean ± std of the final metrics, time to a
// target P@1, peak memory per plugin, seconds per epoch by phase and
// negative hardness) and renders it: Markdown and terminal tables through
// tablewriter (terminal tables fit 120 columns, wider ones split), CSV with
// separate mean/std columns, a tidy CSV (one row per cell, stage, epoch and
// metric), LaTeX booktabs floats, and a self-contained HTML page with the
// run's provenance; figures (gonum/plot: P@1 against epochs and seconds with
// ±1 std bands and the target, encoder memory per data set) as PDF, SVG and
// 300-dpi PNG at paper column widths. A best value is marked only when it is
// ahead of every other row of its data set by more than the larger std.
//
// The claims layer (claims.go, spec.go) renders a committed report folder
// from its report.json: the tables and figures, and README.md from a
// template whose every number, range, ratio and verdict (Welch's 95%
// interval) is computed from the run and the other records the spec names.
// Load never creates anything: a path that is not a run folder is an error.
package reports
