package npy

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
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

// TestWriteStreams pins writeData to binary.Write's bytes across block
// boundaries, and Write to allocating far less than the array it writes
// (binary.Write copies the whole array first: a 1M-label checkpoint was
// OOM-killed that way).
func TestWriteStreams(t *testing.T) {
	f := make([]float32, 3<<16+7)
	i32 := make([]int32, len(f))
	i64 := make([]int64, len(f))
	for k := range f {
		f[k] = float32(k)*0.37 - 1000
		i32[k] = int32(k*7919) - 1<<30
		i64[k] = int64(k)*-104729 + 1<<40
	}
	f[5] = float32(math.NaN())
	f[6] = float32(math.Inf(-1))
	check := func(name string, got func(*bytes.Buffer) error, data any) {
		var a, b bytes.Buffer
		if err := got(&a); err != nil {
			t.Fatal(err)
		}
		if err := binary.Write(&b, binary.LittleEndian, data); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("%s: streamed bytes differ from binary.Write", name)
		}
	}
	check("float32", func(w *bytes.Buffer) error { return writeData(w, f) }, f)
	check("int32", func(w *bytes.Buffer) error { return writeData(w, i32) }, i32)
	check("int64", func(w *bytes.Buffer) error { return writeData(w, i64) }, i64)

	big := make([]float32, 1<<22) // 16 MiB
	path := filepath.Join(t.TempDir(), "big.npy")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if err := Write(path, []int{len(big)}, big); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(4*len(big))/4 {
		t.Errorf("Write of %d MiB allocated %d MiB", 4*len(big)>>20, alloc>>20)
	}
}
