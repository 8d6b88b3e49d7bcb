package sdk

// Matrix is a dense row-major float32 matrix. Either Data holds the values
// or Path names a .npy file ('<f4', C order) in the run's scratch folder
// that holds them; Load fills Data from Path. Big matrices cross process
// boundaries as paths (see the plugin protocol), small ones inline.
type Matrix struct {
	Rows, Cols int
	Data       []float32
	Path       string
}

// IsZero reports whether m carries nothing.
func (m Matrix) IsZero() bool { return m.Rows == 0 && m.Data == nil && m.Path == "" }

// Row returns row i (Data must be loaded).
func (m Matrix) Row(i int) []float32 { return m.Data[i*m.Cols : (i+1)*m.Cols] }
