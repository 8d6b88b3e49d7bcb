// Package gomlxkit carries the user-side fixes that make GoMLX v0.26.0 usable
// for Siamese training on its pure-Go backend, and the backend selection the
// encoders share. Contract: NewBackend never consults GoMLX's own defaults
// (which would try XLA and auto-install plugins); it selects "go" with
// parallelism=-1 unless a backend is named explicitly, and it installs
// FastMatmulGrads (textbook GEMM gradients for Dot/DotGeneral in place of the
// stock rules that materialise an M×K×N tensor) before any graph is built.
// TopK replaces the missing sort/top-k op with k rounds of ArgMax, and
// Recover turns GoMLX's panics into errors at component entry points.
package gomlxkit
