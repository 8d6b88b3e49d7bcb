// Package npy reads and writes NumPy .npy files (format 1.0/2.0, C order,
// little-endian) for float32, int32 and int64 arrays of any rank. It is how
// large matrices travel between xcbench processes and how tokenised inputs
// that users made with the reference Python code (*_input_ids.npy) are read.
// Writers create a temporary file and rename it, so a reader never sees a
// half-written array.
package npy
