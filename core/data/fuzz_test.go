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

func FuzzReadPredictions(f *testing.F) {
	for _, s := range []string{"2 4\n0:1 3:0.5\n\n", "1 3\n2:1 0:3", "0 0\n", "1 2\n0:inf\n", "2 5\n0:0 1:-1 2:0.5 3:0.5 4:2\n1:1\n"} {
		f.Add([]byte(s), uint8(2))
	}
	f.Fuzz(func(t *testing.T, in []byte, k8 uint8) {
		k := int(k8%8) + 1
		p, _, err := readPredictions(bytes.NewReader(in), "fuzz", k, func(_ int, l int32, s float32) bool { return l%3 != 1 })
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if p.K != k || len(p.Labels) != p.Rows*k || len(p.Scores) != len(p.Labels) {
			t.Fatalf("shape %d x %d with %d labels", p.Rows, p.K, len(p.Labels))
		}
		for i := 0; i < p.Rows; i++ {
			labs, sc := p.Row(i)
			for j := range labs {
				if labs[j]%3 == 1 {
					t.Fatalf("row %d kept filtered label %d", i, labs[j])
				}
				if j > 0 && labs[j] >= 0 && sc[j] > sc[j-1] {
					t.Fatalf("row %d not in score order: %v", i, sc)
				}
			}
		}
	})
}
