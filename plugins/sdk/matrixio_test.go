package sdk

import (
	"path/filepath"
	"testing"
)

func seqMatrix(rows, cols int) Matrix {
	m := Matrix{Rows: rows, Cols: cols, Data: make([]float32, rows*cols)}
	for i := range m.Data {
		m.Data[i] = float32(i%1000) - 0.5
	}
	return m
}

func TestMatrixProtoRoundTrip(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		m        Matrix
		wantPath bool
	}{
		{"zero", Matrix{}, false},
		{"empty rows", Matrix{Rows: 0, Cols: 8, Data: []float32{}}, false},
		{"small inline", seqMatrix(3, 4), false},
		{"exactly 1 MiB inline", seqMatrix(1024, 256), false},
		{"over 1 MiB via npy", seqMatrix(1025, 256), true},
		{"path only", Matrix{Rows: 2, Cols: 3, Path: "/x/y.npy"}, true},
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
			if back, err = LoadMatrix(back); err != nil {
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

func TestLoadStoreMatrix(t *testing.T) {
	dir := t.TempDir()
	m, err := StoreMatrix(dir, "emb", seqMatrix(5, 7))
	if err != nil {
		t.Fatal(err)
	}
	if m.Path != filepath.Join(dir, "emb.npy") {
		t.Fatalf("path %q", m.Path)
	}
	tests := []struct {
		name    string
		in      Matrix
		wantErr bool
	}{
		{"shape from file", Matrix{Path: m.Path}, false},
		{"shape matches", Matrix{Rows: 5, Cols: 7, Path: m.Path}, false},
		{"shape mismatch", Matrix{Rows: 7, Cols: 5, Path: m.Path}, true},
		{"missing file", Matrix{Rows: 1, Cols: 1, Path: filepath.Join(dir, "nope.npy")}, true},
		{"data wrong length", Matrix{Rows: 2, Cols: 2, Data: []float32{1}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LoadMatrix(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if err == nil && (got.Rows != 5 || got.Cols != 7 || got.Data[8] != m.Data[8]) {
				t.Fatalf("got %dx%d", got.Rows, got.Cols)
			}
		})
	}
	if _, err := StoreMatrix(dir, "bad", Matrix{Rows: 2, Cols: 2, Data: []float32{1}}); err == nil {
		t.Fatal("StoreMatrix accepted a short Data")
	}
}
