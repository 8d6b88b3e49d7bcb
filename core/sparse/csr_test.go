package sparse

import (
	"reflect"
	"testing"
)

func TestBuilderSortsAndValidates(t *testing.T) {
	tests := []struct {
		name    string
		ncols   int
		rows    [][]Entry
		wantErr bool
	}{
		{"sorted", 4, [][]Entry{{{3, 1}, {0, 2}}, {}}, false},
		{"duplicate", 4, [][]Entry{{{1, 1}, {1, 2}}}, true},
		{"out of range", 2, [][]Entry{{{2, 1}}}, true},
		{"negative", -1, [][]Entry{{{-1, 1}}}, true},
		{"inferred", -1, [][]Entry{{{7, 1}}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBuilder(tc.ncols)
			var err error
			for _, r := range tc.rows {
				if err = b.AddRow(r); err != nil {
					break
				}
			}
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if err == nil {
				if verr := b.Build().Validate(); verr != nil {
					t.Fatal(verr)
				}
			}
		})
	}
}

func TestTransposeAndHas(t *testing.T) {
	m, err := FromRows(3, [][]int32{{0, 2}, {}, {1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	tr := m.Transpose()
	if tr.NRows != 3 || tr.NCols != 3 {
		t.Fatalf("shape %dx%d", tr.NRows, tr.NCols)
	}
	cols, _ := tr.Row(2)
	if !reflect.DeepEqual(cols, []int32{0, 2}) {
		t.Fatalf("row 2 of transpose = %v", cols)
	}
	if !m.Has(2, 1) || m.Has(1, 0) || m.Has(0, 1) {
		t.Fatal("Has disagrees with contents")
	}
	if got := m.ColCounts(); !reflect.DeepEqual(got, []int{1, 1, 2}) {
		t.Fatalf("ColCounts = %v", got)
	}
	s := m.SelectRows([]int32{2, 0})
	if c, _ := s.Row(0); !reflect.DeepEqual(c, []int32{1, 2}) {
		t.Fatalf("SelectRows row 0 = %v", c)
	}
}
