package data

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/xcbench/xcbench/core/npy"
	"github.com/xcbench/xcbench/core/sparse"
	"github.com/xcbench/xcbench/plugins/sdk"
)

func TestReadSparse(t *testing.T) {
	cases := []struct {
		name, in string
		rows     [][]int32
		err      string // substring; "" = must succeed
	}{
		{"basic", "2 4\n0:1 3:0.5\n\n", [][]int32{{0, 3}, {}}, ""},
		{"no trailing newline", "2 4\n1:1\n2:1", [][]int32{{1}, {2}}, ""},
		{"trailing blank lines", "1 4\n1:1\n\n\n", [][]int32{{1}}, ""},
		{"crlf", "1 4\n1:1 2:1\r\n", [][]int32{{1, 2}}, ""},
		{"empty file", "", nil, "line 1: missing header"},
		{"bad header", "2\n", nil, "line 1: header"},
		{"not col:value", "1 4\n3\n", nil, "line 2: entry"},
		{"col out of range", "1 4\n4:1\n", nil, "line 2: column 4 out of range"},
		{"negative col", "1 4\n-1:1\n", nil, "line 2: column -1"},
		{"unsorted", "1 4\n2:1 1:1\n", nil, "line 2: columns not sorted"},
		{"duplicate", "1 4\n1:1 1:1\n", nil, "line 2: columns not sorted"},
		{"bad value", "1 4\n1:x\n", nil, "line 2: entry"},
		{"fewer rows", "3 4\n1:1\n", nil, "header says 3 rows, file has 1"},
		{"more rows", "1 4\n1:1\n2:1\n", nil, "line 3: more rows"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := ReadSparse(strings.NewReader(c.in), "x.txt")
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), "x.txt") {
					t.Fatalf("err = %v, want one naming x.txt and %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range c.rows {
				got, _ := m.Row(i)
				if !reflect.DeepEqual(append([]int32{}, got...), append([]int32{}, want...)) {
					t.Errorf("row %d = %v, want %v", i, got, want)
				}
			}
		})
	}
}

func TestReadBoW(t *testing.T) {
	cases := []struct {
		name, in string
		labels   [][]int32
		err      string
	}{
		{"basic", "3 5 4\n3,1 0:1 4:0.5\n 2:1\n0\n", [][]int32{{1, 3}, {}, {0}}, ""},
		{"features only via colon", "1 5 4\n2:1\n", [][]int32{{}}, ""},
		{"label out of range", "1 5 4\n4 0:1\n", nil, "line 2: label 4 out of range"},
		{"feature out of range", "1 5 4\n0 5:1\n", nil, "line 2: feature 5 out of range"},
		{"duplicate label", "1 5 4\n1,1 0:1\n", nil, "line 2: labels"},
		{"bad feature", "1 5 4\n1 zz\n", nil, "line 2: feature"},
		{"header", "1 5\n", nil, "line 1: header"},
		{"count", "2 5 4\n1 0:1\n", nil, "header says 2 points, file has 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, y, err := ReadBoW(strings.NewReader(c.in), "train.txt")
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), "train.txt") {
					t.Fatalf("err = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range c.labels {
				got, _ := y.Row(i)
				if len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
					t.Errorf("row %d = %v, want %v", i, got, want)
				}
			}
		})
	}
}

func TestFilterAndLines(t *testing.T) {
	dir := t.TempDir()
	w := func(n string, b []byte) string {
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if f, err := ReadFilter(w("empty.txt", nil), 10, 10); err != nil || f != nil {
		t.Errorf("empty filter: %v %v", f, err)
	}
	if f, err := ReadFilter(w("one.txt", []byte("3 4\n")), 10, 10); err != nil || len(f) != 1 {
		t.Errorf("single pair: %v %v", f, err)
	}
	for name, c := range map[string]struct{ in, err string }{
		"bad.txt":   {"1 2\n3\n", "line 2"},
		"range.txt": {"1 2\n11 0\n", "line 2: row 11 out of range"},
	} {
		if _, err := ReadFilter(w(name, []byte(c.in)), 10, 10); err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err %v, want %q", name, err, c.err)
		}
	}
	if _, err := ReadLines(w("latin.txt", []byte("ok\ncaf\xe9\n"))); err == nil || !strings.Contains(err.Error(), "line 2: text is not valid UTF-8") {
		t.Errorf("non-UTF-8: %v", err)
	}
}

func gz(t *testing.T, s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.Bytes()
}

func TestOpenLFJSON(t *testing.T) {
	for _, titleOnly := range []bool{false, true} {
		dir := t.TempDir()
		name := "LF-Toy"
		if titleOnly {
			name = "LF-ToyTitles"
		}
		files := map[string]string{
			"trn.json.gz": `{"uid":"a","title":"Egg boiler","content":"boils eggs","target_ind":[1,0],"target_rel":[1,1]}` + "\n" +
				`{"uid":"b","title":"Bread knife","content":"cuts","target_ind":[2],"target_rel":[1]}` + "\n",
			"tst.json.gz": `{"uid":"c","title":"Egg cup","content":"holds","target_ind":[0],"target_rel":[1]}` + "\n",
			"lbl.json.gz": `{"uid":"x","title":"eggs","content":""}` + "\n" + `{"uid":"y","title":"kitchen","content":""}` + "\n" + `{"uid":"z","title":"bread","content":""}` + "\n",
		}
		for n, s := range files {
			if err := os.WriteFile(filepath.Join(dir, n), gz(t, s), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		ds, err := Open(dir, Options{Name: name, CacheDir: "-"})
		if err != nil {
			t.Fatal(err)
		}
		want := "Egg boiler boils eggs"
		if titleOnly {
			want = "Egg boiler"
		}
		if ds.Format != "lf-json" || ds.TrainText[0] != want || ds.NumLabels != 3 || !ds.TrainY.Has(0, 1) || !ds.TrainY.Has(0, 0) {
			t.Fatalf("titleOnly=%v: %+v", titleOnly, ds.TrainText)
		}
	}
	dir := t.TempDir()
	whole := gz(t, `{"title":"a","target_ind":[0]}`+"\n")
	os.WriteFile(filepath.Join(dir, "trn.json.gz"), whole[:len(whole)-6], 0o644)
	if _, _, err := ReadJSONGz(filepath.Join(dir, "trn.json.gz"), true); err == nil || !strings.Contains(err.Error(), "trn.json.gz") {
		t.Errorf("truncated gzip: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "bad.json.gz"), gz(t, `{"title":"a"}`+"\n{oops\n"), 0o644)
	if _, _, err := ReadJSONGz(filepath.Join(dir, "bad.json.gz"), true); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad json line: %v", err)
	}
}

func TestNpyTokens(t *testing.T) {
	dir := t.TempDir()
	writeFixture(t, dir)
	for _, p := range []struct {
		name string
		n    int
	}{{"trn_doc", 3}, {"tst_doc", 2}, {"lbl", 3}} {
		ids := make([]int64, p.n*4)
		mask := make([]int64, p.n*4)
		for i := 0; i < p.n; i++ {
			// [CLS]=101 tok [SEP]=102 pad, mask 1 1 1 0
			copy(ids[i*4:], []int64{101, int64(2000 + i), 102, 0})
			copy(mask[i*4:], []int64{1, 1, 1, 0})
		}
		if err := npy.Write(filepath.Join(dir, p.name+"_input_ids.npy"), []int{p.n, 4}, ids); err != nil {
			t.Fatal(err)
		}
		if err := npy.Write(filepath.Join(dir, p.name+"_attention_mask.npy"), []int{p.n, 4}, mask); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := Open(dir, Options{CacheDir: "-"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ds.TrainTok[1], []int32{101, 2001, 102}) {
		t.Fatalf("npy tokens: %v", ds.TrainTok[1])
	}
	if err := npy.Write(filepath.Join(dir, "lbl_attention_mask.npy"), []int{3, 3}, make([]int64, 9)); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, Options{CacheDir: "-"}); err == nil || !strings.Contains(err.Error(), "lbl_attention_mask.npy") {
		t.Fatalf("mask shape mismatch: %v", err)
	}
}

func TestPredictionsRoundTrip(t *testing.T) {
	p := sdk.TopK{Rows: 3, K: 3, Labels: []int32{4, 0, -1, -1, -1, -1, 2, 1, 3}, Scores: []float32{0.9, 0.1, 0, 0, 0, 0, 0.5, 0.5, 1e-7}}
	path := filepath.Join(t.TempDir(), "pred.txt")
	if err := WritePredictionsShape(path, p, 6); err != nil {
		t.Fatal(err)
	}
	back, nl, err := ReadPredictions(path, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := sdk.TopK{Rows: 3, K: 3, Labels: []int32{4, 0, -1, -1, -1, -1, 1, 2, 3}, Scores: []float32{0.9, 0.1, 0, 0, 0, 0, 0.5, 0.5, 1e-7}}
	if nl != 6 || !reflect.DeepEqual(back, want) {
		t.Fatalf("round trip: %+v (labels %d)", back, nl)
	}
}

func TestSparseRoundTrip(t *testing.T) {
	m, _ := sparse.FromRows(5, [][]int32{{0, 4}, {}, {2}})
	m.Data[1] = 0.333333343
	var b bytes.Buffer
	if err := WriteSparse(&b, m); err != nil {
		t.Fatal(err)
	}
	back, err := ReadSparse(&b, "rt")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, m) {
		t.Fatalf("%+v != %+v", back, m)
	}
}

func TestDecodeOptions(t *testing.T) {
	o, err := DecodeOptions([]byte(`{"max_len": 16, "tokenizer": "word", "lowercase": false}`))
	if err != nil || o.MaxLen != 16 || *o.Lowercase {
		t.Fatalf("%+v %v", o, err)
	}
	if _, err := DecodeOptions([]byte(`{"max_lne": 16}`)); err == nil || !strings.Contains(err.Error(), "max_lne") {
		t.Fatalf("unknown key: %v", err)
	}
	dir := t.TempDir()
	writeFixture(t, dir)
	ds, err := OpenSpec(dir, "toy", []byte(`{"cache_dir": "-", "max_len": 2}`))
	if err != nil || ds.Name != "toy" || len(ds.TrainTok[0]) != 2 {
		t.Fatalf("OpenSpec: %v", err)
	}
}

// TestReadPredictionsBounded pins that reading keeps k per row whatever the
// longest row (the top-k buffer used to be rows x longest row), that the
// filter applies before the cut, and that non-finite scores are refused
// with file and line.
func TestReadPredictionsBounded(t *testing.T) {
	var sb strings.Builder
	const rows, wide = 2000, 5000
	fmt.Fprintf(&sb, "%d %d\n", rows, wide)
	for j := 0; j < wide; j++ { // one row with every label
		fmt.Fprintf(&sb, "%d:%g ", j, float64(j%97)/97)
	}
	sb.WriteString("\n")
	for i := 1; i < rows; i++ {
		fmt.Fprintf(&sb, "%d:1 %d:0.5\n", i%wide, (i+1)%wide)
	}
	p, nl, err := readPredictions(strings.NewReader(sb.String()), "p.txt", 3, func(row int, l int32, _ float32) bool { return !(row == 0 && l == 96) })
	if err != nil {
		t.Fatal(err)
	}
	if nl != wide || p.K != 3 || len(p.Labels) != rows*3 {
		t.Fatalf("got %d x %d over %d labels", p.Rows, p.K, nl)
	}
	// Row 0's best scores are 96/97 at labels 96, 193, 290, ...: 96 is
	// filtered, so the top 3 are the next three, in label order.
	if labs, _ := p.Row(0); labs[0] != 193 || labs[1] != 290 || labs[2] != 387 {
		t.Fatalf("row 0 top-3 %v", labs)
	}
	for _, tc := range []struct{ in, want string }{
		{"2 3\n0:1\n1:NaN\n", "p.txt: line 3: entry \"1:NaN\": value: not a finite number"},
		{"1 3\n2:-Inf\n", "p.txt: line 2: entry \"2:-Inf\": value: not a finite number"},
		{"1 3\n2:1\n", ""},
	} {
		_, _, err := readPredictions(strings.NewReader(tc.in), "p.txt", 1, nil)
		if (tc.want == "") != (err == nil) || (err != nil && err.Error() != tc.want) {
			t.Errorf("%q: error %v, want %q", tc.in, err, tc.want)
		}
	}
}
