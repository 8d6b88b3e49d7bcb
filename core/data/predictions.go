package data

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/xcbench/xcbench/core/sparse"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// WritePredictions writes top-k predictions in the pyxclib sparse format
// (header "rows cols", then per row "label:score" sorted by label), so that
// pyxclib's read_sparse_file and ReadPredictions load them. Label -1 slots
// are skipped. The column count is one past the largest label; use
// WritePredictionsShape to state the dataset's label count instead.
func WritePredictions(path string, p sdk.TopK) error {
	n := 0
	for _, l := range p.Labels {
		n = max(n, int(l)+1)
	}
	return WritePredictionsShape(path, p, n)
}

// WritePredictionsShape is WritePredictions with an explicit label count.
func WritePredictionsShape(path string, p sdk.TopK, numLabels int) error {
	m, err := TopKToCSR(p, numLabels)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return WriteSparseFile(path, m)
}

// TopKToCSR turns predictions into a rows x numLabels score matrix.
func TopKToCSR(p sdk.TopK, numLabels int) (*sparse.CSR, error) {
	if len(p.Labels) != p.Rows*p.K || len(p.Scores) != len(p.Labels) {
		return nil, fmt.Errorf("top-k: %d labels and %d scores for %d rows x %d", len(p.Labels), len(p.Scores), p.Rows, p.K)
	}
	b := sparse.NewBuilder(numLabels)
	var es []sparse.Entry
	for i := 0; i < p.Rows; i++ {
		labs, sc := p.Row(i)
		es = es[:0]
		for k, l := range labs {
			if l >= 0 {
				es = append(es, sparse.Entry{Col: l, Val: sc[k]})
			}
		}
		if err := b.AddRow(es); err != nil {
			return nil, fmt.Errorf("top-k: %w", err)
		}
	}
	return b.Build(), nil
}

// ReadPredictions reads a sparse score file into TopK keeping each row's k
// best entries (k must be positive), ordered by score descending (ties by
// label ascending), missing slots label -1 with score 0, and returns the
// header's label count. keep, when set, drops entries before the top-k is
// taken (the evaluation's filter), so the result equals filtering the
// whole row first. It streams: memory is rows x k whatever the longest row
// (a prediction file may hold every label of every row).
func ReadPredictions(path string, k int, keep func(row int, label int32, score float32) bool) (sdk.TopK, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return sdk.TopK{}, 0, err
	}
	defer f.Close()
	return readPredictions(bufio.NewReaderSize(f, 1<<20), path, k, keep)
}

func readPredictions(r io.Reader, name string, k int, keep func(int, int32, float32) bool) (sdk.TopK, int, error) {
	if k <= 0 {
		return sdk.TopK{}, 0, fmt.Errorf("%s: top-k must be positive, got %d", name, k)
	}
	var (
		out  sdk.TopK
		ncol int
		row  = &sparse.CSR{Indptr: []int64{0}}
		buf  []topEntry
	)
	err := scanSparse(r, name, func(rows, cols int64) error {
		if rows*int64(k) > 1<<31 {
			return fmt.Errorf("%d rows x top-%d is too large to hold", rows, k)
		}
		ncol = int(cols)
		row.NCols = ncol
		out = sdk.TopK{Rows: int(rows), K: k, Labels: make([]int32, int(rows)*k), Scores: make([]float32, int(rows)*k)}
		for i := range out.Labels {
			out.Labels[i] = -1
		}
		return nil
	}, func(i int, line []byte) error {
		row.NRows, row.Indices, row.Data, row.Indptr = 0, row.Indices[:0], row.Data[:0], row.Indptr[:1]
		if err := parseSparseRow(line, row); err != nil {
			return err
		}
		buf = buf[:0]
		for j, c := range row.Indices {
			if keep == nil || keep(i, c, row.Data[j]) {
				buf = append(buf, topEntry{c, row.Data[j]})
			}
		}
		labs, sc := out.Row(i)
		for j, e := range bestK(buf, k) {
			labs[j], sc[j] = e.l, e.s
		}
		return nil
	})
	if err != nil {
		return sdk.TopK{}, 0, err
	}
	return out, ncol, nil
}

type topEntry struct {
	l int32
	s float32
}

// bestK sorts buf's k best entries to its front (score descending, label
// ascending among ties, as a stable sort of a label-ordered row gives) and
// returns them.
func bestK(buf []topEntry, k int) []topEntry {
	sort.SliceStable(buf, func(a, b int) bool { return buf[a].s > buf[b].s })
	return buf[:min(k, len(buf))]
}

// CSRToTopK keeps each row's k best entries (k <= 0: the longest row).
func CSRToTopK(m *sparse.CSR, k int) sdk.TopK {
	if k <= 0 {
		for i := 0; i < m.NRows; i++ {
			k = max(k, m.RowLen(i))
		}
	}
	out := sdk.TopK{Rows: m.NRows, K: k, Labels: make([]int32, m.NRows*k), Scores: make([]float32, m.NRows*k)}
	for i := range out.Labels {
		out.Labels[i] = -1
	}
	type e struct {
		l int32
		s float32
	}
	var buf []e
	for i := 0; i < m.NRows; i++ {
		cols, vals := m.Row(i)
		buf = buf[:0]
		for j, c := range cols {
			buf = append(buf, e{c, vals[j]})
		}
		sort.SliceStable(buf, func(a, b int) bool { return buf[a].s > buf[b].s })
		labs, sc := out.Row(i)
		for j := 0; j < len(buf) && j < k; j++ {
			labs[j], sc[j] = buf[j].l, buf[j].s
		}
	}
	return out
}
