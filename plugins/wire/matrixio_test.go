package wire

import (
	"testing"

	"github.com/xcbench/xcbench/plugins/sdk"
)

func seqMatrix(rows, cols int) sdk.Matrix {
	m := sdk.Matrix{Rows: rows, Cols: cols, Data: make([]float32, rows*cols)}
	for i := range m.Data {
		m.Data[i] = float32(i%1000) - 0.5
	}
	return m
}

func TestMatrixProtoRoundTrip(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		m        sdk.Matrix
		wantPath bool
	}{
		{"zero", sdk.Matrix{}, false},
		{"empty rows", sdk.Matrix{Rows: 0, Cols: 8, Data: []float32{}}, false},
		{"small inline", seqMatrix(3, 4), false},
		{"exactly 1 MiB inline", seqMatrix(1024, 256), false},
		{"over 1 MiB via npy", seqMatrix(1025, 256), true},
		{"path only", sdk.Matrix{Rows: 2, Cols: 3, Path: "/x/y.npy"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pm, err := matrixToProto(tc.m, dir, "t")
			if err != nil {
				t.Fatal(err)
			}
			back, err := matrixFromProto(pm, "t")
			if err != nil {
				t.Fatal(err)
			}
			if (back.Path != "") != tc.wantPath {
				t.Fatalf("path = %q, wantPath %v", back.Path, tc.wantPath)
			}
			if back.Rows != tc.m.Rows || back.Cols != tc.m.Cols {
				t.Fatalf("shape %dx%d, want %dx%d", back.Rows, back.Cols, tc.m.Rows, tc.m.Cols)
			}
			if tc.m.Data == nil {
				return
			}
			if tc.wantPath && back.Data != nil {
				t.Fatalf("path matrix came back with data")
			}
			if back, err = sdk.LoadMatrix(back); err != nil {
				t.Fatal(err)
			}
			for i := range tc.m.Data {
				if back.Data[i] != tc.m.Data[i] {
					t.Fatalf("value %d = %v, want %v", i, back.Data[i], tc.m.Data[i])
				}
			}
		})
	}
}
