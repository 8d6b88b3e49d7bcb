package npy

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "a.npy")
	if err := Write(f, []int{2, 3}, []float32{1, 2, 3, 4, 5, 6}); err != nil {
		t.Fatal(err)
	}
	got, shape, err := Read[float32](f)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(shape, []int{2, 3}) || !reflect.DeepEqual(got, []float32{1, 2, 3, 4, 5, 6}) {
		t.Fatalf("got %v %v", shape, got)
	}
	raw, _ := os.ReadFile(f)
	if (len(raw)-24)%64 != 0 && len(raw) != 64+24 {
		t.Fatalf("data not 64-byte aligned: file length %d", len(raw))
	}
	i64 := filepath.Join(dir, "ids.npy")
	if err := Write(i64, []int{3}, []int64{5, 6, 1 << 40}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Read[int32](i64); err == nil {
		t.Fatal("int64 value beyond int32 range must be an error")
	}
	if err := Write(i64, []int{3}, []int64{5, 6, 7}); err != nil {
		t.Fatal(err)
	}
	ids, _, err := Read[int32](i64)
	if err != nil || !reflect.DeepEqual(ids, []int32{5, 6, 7}) {
		t.Fatalf("int64->int32: %v %v", ids, err)
	}
}

func TestBadFiles(t *testing.T) {
	dir := t.TempDir()
	tests := map[string][]byte{
		"not npy":   []byte("hello world, this is not numpy"),
		"truncated": append([]byte("\x93NUMPY\x01\x00\x76\x00{'descr': '<f4', 'fortran_order': False, 'shape': (10, 10), }"), make([]byte, 60)...),
	}
	for name, body := range tests {
		p := filepath.Join(dir, name+".npy")
		os.WriteFile(p, body, 0o644)
		if _, _, err := Read[float32](p); err == nil {
			t.Errorf("%s: expected error", name)
		}
	}
}
