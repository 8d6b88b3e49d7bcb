package knn

import (
	"fmt"
	"math"

	"github.com/xcbench/xcbench/plugins/sdk"
)

// LoadMatrix is sdk.LoadMatrix plus the check that the result really holds
// Rows x Cols values, since a matrix with rows but neither data nor path
// would otherwise surface later as an index panic.
func LoadMatrix(m sdk.Matrix) (sdk.Matrix, error) {
	m, err := sdk.LoadMatrix(m)
	if err != nil {
		return m, err
	}
	if len(m.Data) != m.Rows*m.Cols {
		return m, fmt.Errorf("matrix %dx%d has %d values (no data and no path?)", m.Rows, m.Cols, len(m.Data))
	}
	return m, nil
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
