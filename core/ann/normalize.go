package ann

import "math"

// Normalized returns a copy of the row-major rows x cols values with every
// row scaled to unit L2 norm; all-zero rows stay zero (they score 0 against
// everything, which is how the reference drops them from its indexes). The
// embedding classifiers use it for queries and for the vectors they index.
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
