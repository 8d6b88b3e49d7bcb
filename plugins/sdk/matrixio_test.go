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
		{"rows without data or path", Matrix{Rows: 5, Cols: 7}, true},
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
