// Package reports turns a run folder into a typed report (groups of cells
// that differ only in seed, with mean ± std of the final metrics, time to a
// target P@1, peak memory per plugin, seconds per epoch by phase and
// negative hardness) and renders it: Markdown and terminal tables through
// tablewriter, CSV with separate mean/std columns, LaTeX booktabs with the
// best value per column (within a dataset) in bold, gonum plots (P@1 against
// epochs and against seconds, peak encoder memory by batch size) as PNG and
// SVG, and a self-contained HTML page.
package reports
