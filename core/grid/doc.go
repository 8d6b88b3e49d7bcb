// Package grid loads experiment grids and expands them into cells.
//
// A grid is a YAML file read with koanf in three layers, last wins: the file,
// then XCBENCH_* environment variables whose first segment names a grid key
// (XCBENCH_EPOCHS=3, XCBENCH_EVAL__EVERY=2: "__" nests, values are parsed as
// YAML), then command-line flags (--epochs, --batch-size, --seeds and
// repeatable --set key=value). Decoding is strict: an unknown key is an error
// naming the key, the file and, when the key is in the file, its line.
// Expansion multiplies datasets x matrix axes x seeds (GitHub Actions
// semantics for include/exclude; "dataset" and "seed" are axes too), and
// every cell carries a resolved Spec, a stable ID (a hash of the Spec that
// ignores where the grid file lives) and a human-readable name.
package grid
