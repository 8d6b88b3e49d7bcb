package knn

import (
	"fmt"
	"math"

	"github.com/xcbench/xcbench/core/npy"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// LoadMatrix returns m with Data filled, reading m.Path when the matrix
// travelled as a .npy file. The shape in the file must agree with Rows/Cols
// when those are set, because a mismatch means the caller confused splits.
func LoadMatrix(m sdk.Matrix) (sdk.Matrix, error) {
	if m.Data != nil {
		if len(m.Data) != m.Rows*m.Cols {
			return m, fmt.Errorf("matrix: %d values for shape %dx%d", len(m.Data), m.Rows, m.Cols)
		}
		return m, nil
	}
	if m.Path == "" {
		if m.Rows == 0 {
			return m, nil
		}
		return m, fmt.Errorf("matrix: %dx%d has neither data nor path", m.Rows, m.Cols)
	}
	data, shape, err := npy.Read[float32](m.Path)
	if err != nil {
		return m, fmt.Errorf("matrix %s: %w", m.Path, err)
	}
	if len(shape) != 2 {
		return m, fmt.Errorf("matrix %s: rank %d, want 2", m.Path, len(shape))
	}
	if (m.Rows != 0 || m.Cols != 0) && (shape[0] != m.Rows || shape[1] != m.Cols) {
		return m, fmt.Errorf("matrix %s: shape %v, announced %dx%d", m.Path, shape, m.Rows, m.Cols)
	}
	return sdk.Matrix{Rows: shape[0], Cols: shape[1], Data: data, Path: m.Path}, nil
}

// Normalized returns a copy of the row-major rows x cols values with every
// row scaled to unit L2 norm; all-zero rows stay zero (they score 0 against
// everything, which is how the reference drops them from its indexes).
func Normalized(data []float32, rows, cols int) []float32 {
	out := make([]float32, len(data))
	for i := 0; i < rows; i++ {
		src := data[i*cols : (i+1)*cols]
		dst := out[i*cols : (i+1)*cols]
		var ss float64
		for _, v := range src {
			ss += float64(v) * float64(v)
		}
		if ss == 0 {
			continue
		}
		inv := float32(1 / math.Sqrt(ss))
		for j, v := range src {
			dst[j] = v * inv
		}
	}
	return out
}
