// Package vecdot holds the float32 inner-product kernel shared by the ANN
// index and the balanced clustering (and, with Axpy and the four-row Dot4
// GEMM micro-kernel, the bow encoder's fused training step): an AVX2+FMA assembly loop on amd64
// CPUs that have it (about twice gonum's SSE Sdot on 128-wide rows, which
// matters because distance evaluations dominate both), gonum's Sdot
// elsewhere. Dot(a, b) requires len(b) >= len(a); results are
// deterministic for given inputs on a given machine but, like any
// reordered float sum, may differ in the last bits from Sdot.
package vecdot
