package data

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"sort"
)

// ReadFilter reads a reciprocal-pair file: whitespace-separated "row label"
// integer pairs, one per line. An empty file means no filter (nil); a single
// pair is valid (pyxclib's np.loadtxt trips on that case, we do not).
// nrows/nlabels bound the ids (<= 0 skips the check).
func ReadFilter(path string, nrows, nlabels int) ([]Pair, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readFilter(bufio.NewReader(f), path, nrows, nlabels)
}

func readFilter(r io.Reader, name string, nrows, nlabels int) ([]Pair, error) {
	sc := newScanner(r)
	var out []Pair
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 || b[0] == '#' {
			continue
		}
		v, err := parseInts(b, 2)
		if err != nil {
			return nil, fmt.Errorf("%s: line %d: %w", name, line, err)
		}
		if v[0] < 0 || (nrows > 0 && v[0] >= int64(nrows)) {
			return nil, fmt.Errorf("%s: line %d: row %d out of range [0,%d)", name, line, v[0], nrows)
		}
		if v[1] < 0 || (nlabels > 0 && v[1] >= int64(nlabels)) {
			return nil, fmt.Errorf("%s: line %d: label %d out of range [0,%d)", name, line, v[1], nlabels)
		}
		out = append(out, Pair{Row: int32(v[0]), Label: int32(v[1])})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: line %d: %w", name, line+1, err)
	}
	return out, nil
}

// WriteFilter writes pairs in the filter file format.
func WriteFilter(path string, pairs []Pair) error {
	return writeAtomic(path, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		for _, p := range pairs {
			fmt.Fprintf(bw, "%d %d\n", p.Row, p.Label)
		}
		return bw.Flush()
	})
}

// FilterSet indexes pairs by row for fast membership tests.
type FilterSet map[int32][]int32

// NewFilterSet groups pairs by row, labels sorted.
func NewFilterSet(pairs []Pair) FilterSet {
	if len(pairs) == 0 {
		return nil
	}
	s := FilterSet{}
	for _, p := range pairs {
		s[p.Row] = append(s[p.Row], p.Label)
	}
	for _, l := range s {
		sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	}
	return s
}

// Has reports whether (row, label) is filtered.
func (s FilterSet) Has(row, label int32) bool {
	l := s[row]
	if len(l) == 0 {
		return false
	}
	i := sort.Search(len(l), func(i int) bool { return l[i] >= label })
	return i < len(l) && l[i] == label
}
