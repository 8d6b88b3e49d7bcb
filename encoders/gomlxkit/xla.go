//go:build xla

package gomlxkit

// The XLA backend (cgo; dlopens a PJRT plugin at run time) is compiled in
// only with -tags xla. Select it with the encoder param backend "xla:cuda",
// "xla:cpu" or "xla:/abs/path/pjrt_c_api_cuda_plugin.so", or $XCBENCH_BACKEND.
import _ "github.com/gomlx/gomlx/backends/xla"
