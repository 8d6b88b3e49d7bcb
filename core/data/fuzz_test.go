package data

import (
	"bytes"
	"strings"
	"testing"
)

func FuzzReadSparse(f *testing.F) {
	for _, s := range []string{"2 4\n0:1 3:0.5\n\n", "1 3\n2:1", "0 0\n", "1 2\n1:1e39\n", "1 2\n0:nan\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := ReadSparse(bytes.NewReader(in), "fuzz")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("accepted an invalid matrix: %v", err)
		}
		var b bytes.Buffer
		if err := WriteSparse(&b, m); err != nil {
			t.Fatal(err)
		}
		back, err := ReadSparse(&b, "rewrite")
		if err != nil {
			t.Fatalf("cannot re-read own output: %v", err)
		}
		if back.NRows != m.NRows || back.NNZ() != m.NNZ() {
			t.Fatalf("round trip changed shape")
		}
	})
}

func FuzzReadBoW(f *testing.F) {
	for _, s := range []string{"3 5 4\n3,1 0:1 4:0.5\n 2:1\n0\n", "1 2 2\n,\n", "1 1 1\n0,0 0:1\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		x, y, err := ReadBoW(bytes.NewReader(in), "fuzz")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if err := x.Validate(); err != nil {
			t.Fatal(err)
		}
		if err := y.Validate(); err != nil {
			t.Fatal(err)
		}
		if x.NRows != y.NRows {
			t.Fatal("row counts differ")
		}
	})
}

func FuzzReadFilter(f *testing.F) {
	for _, s := range []string{"", "1 2\n", "1 2\n3 4\n# c\n", "1\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		ps, err := readFilter(bytes.NewReader(in), "fuzz", 100, 100)
		if err != nil {
			return
		}
		for _, p := range ps {
			if p.Row < 0 || p.Row >= 100 || p.Label < 0 || p.Label >= 100 {
				t.Fatalf("accepted out-of-range pair %v", p)
			}
		}
	})
}
