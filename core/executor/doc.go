// Package executor spreads a grid's cells over a cluster: one Slurm job
// array (one task per cell, `xcbench run GRID --out RUN --cell INDEX`) or
// one Kubernetes Indexed Job (completion index -> cell), reads the state of
// a run folder shared by those tasks, and provides the leased lock that
// keeps two machines from running one cell at once.
//
// Contract: submission never runs a cell itself; it writes the batch
// script or manifest into RUN/executor/ and hands it to the scheduler. A
// cell whose status.json says done is never submitted again, so running
// the same submit command twice resubmits only the failed and missing
// cells. Task index i is always the i-th cell of the expanded grid, and
// the task also passes the cell's id, so a grid edited after submission
// fails loudly instead of running a different cell.
package executor
