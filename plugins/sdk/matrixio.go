package sdk

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/xcbench/xcbench/core/npy"
)

// LoadMatrix returns m with Data filled from m.Path when it is not loaded
// yet, checking that the file's shape matches Rows and Cols (when set) and
// that the result holds Rows x Cols values.
func LoadMatrix(m Matrix) (Matrix, error) {
	if m.Data != nil || m.Path == "" {
		// A matrix with rows but neither data nor path would otherwise
		// surface later as an index panic or a silent empty result.
		if len(m.Data) != m.Rows*m.Cols {
			return m, fmt.Errorf("sdk: matrix %dx%d has %d values (no data and no path?)", m.Rows, m.Cols, len(m.Data))
		}
		return m, nil
	}
	data, shape, err := npy.Read[float32](m.Path)
	if err != nil {
		return m, fmt.Errorf("sdk: load matrix: %w", err)
	}
	if len(shape) != 2 {
		return m, fmt.Errorf("sdk: load matrix %s: shape %v is not 2-D", m.Path, shape)
	}
	if (m.Rows != 0 || m.Cols != 0) && (shape[0] != m.Rows || shape[1] != m.Cols) {
		return m, fmt.Errorf("sdk: load matrix %s: file shape %v, expected %dx%d", m.Path, shape, m.Rows, m.Cols)
	}
	m.Rows, m.Cols, m.Data = shape[0], shape[1], data
	return m, nil
}

// StoreMatrix writes m.Data to dir/name (".npy" appended when missing) with
// a temporary name and rename, and returns m with Path set (Data kept).
func StoreMatrix(dir, name string, m Matrix) (Matrix, error) {
	if len(m.Data) != m.Rows*m.Cols {
		return m, fmt.Errorf("sdk: store matrix %s: %dx%d with %d values", name, m.Rows, m.Cols, len(m.Data))
	}
	if !strings.HasSuffix(name, ".npy") {
		name += ".npy"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return m, fmt.Errorf("sdk: store matrix: %w", err)
	}
	p := filepath.Join(dir, name)
	if err := npy.Write(p, []int{m.Rows, m.Cols}, m.Data); err != nil {
		return m, fmt.Errorf("sdk: store matrix: %w", err)
	}
	m.Path = p
	return m, nil
}
