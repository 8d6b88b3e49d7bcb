package sparse

import (
	"fmt"
	"sort"
)

// CSR is a compressed sparse row matrix with float32 values.
// Row i occupies Indices[Indptr[i]:Indptr[i+1]] and the same range of Data.
type CSR struct {
	NRows, NCols int
	Indptr       []int64
	Indices      []int32
	Data         []float32
}

// Entry is one stored value used when building a row.
type Entry struct {
	Col int32
	Val float32
}

// Builder appends rows one at a time; it sorts each row and rejects
// duplicate or out-of-range columns.
type Builder struct {
	m   CSR
	buf []Entry
}

// NewBuilder starts a matrix with ncols columns; ncols < 0 means "infer
// from the largest column seen".
func NewBuilder(ncols int) *Builder {
	return &Builder{m: CSR{NCols: ncols, Indptr: []int64{0}}}
}

// AddRow appends one row. The entries are copied and sorted.
func (b *Builder) AddRow(entries []Entry) error {
	b.buf = append(b.buf[:0], entries...)
	sort.Slice(b.buf, func(i, j int) bool { return b.buf[i].Col < b.buf[j].Col })
	for i, e := range b.buf {
		if e.Col < 0 || (b.m.NCols >= 0 && int(e.Col) >= b.m.NCols) {
			return fmt.Errorf("row %d: column %d out of range [0,%d)", b.m.NRows, e.Col, b.m.NCols)
		}
		if i > 0 && b.buf[i-1].Col == e.Col {
			return fmt.Errorf("row %d: duplicate column %d", b.m.NRows, e.Col)
		}
		b.m.Indices = append(b.m.Indices, e.Col)
		b.m.Data = append(b.m.Data, e.Val)
	}
	b.m.NRows++
	b.m.Indptr = append(b.m.Indptr, int64(len(b.m.Indices)))
	return nil
}

// Build returns the matrix. With an inferred column count it is one past
// the largest column index seen.
func (b *Builder) Build() *CSR {
	m := b.m
	if m.NCols < 0 {
		m.NCols = 0
		for _, c := range m.Indices {
			if int(c)+1 > m.NCols {
				m.NCols = int(c) + 1
			}
		}
	}
	return &m
}

// FromRows builds a matrix from per-row column lists with value 1
// (the usual shape of a label matrix).
func FromRows(ncols int, rows [][]int32) (*CSR, error) {
	b := NewBuilder(ncols)
	var es []Entry
	for _, r := range rows {
		es = es[:0]
		for _, c := range r {
			es = append(es, Entry{Col: c, Val: 1})
		}
		if err := b.AddRow(es); err != nil {
			return nil, err
		}
	}
	return b.Build(), nil
}

// Row returns the column indices and values of row i (shared, do not modify).
func (m *CSR) Row(i int) ([]int32, []float32) {
	lo, hi := m.Indptr[i], m.Indptr[i+1]
	return m.Indices[lo:hi], m.Data[lo:hi]
}

// RowLen is the number of stored entries in row i.
func (m *CSR) RowLen(i int) int { return int(m.Indptr[i+1] - m.Indptr[i]) }

// NNZ is the number of stored entries.
func (m *CSR) NNZ() int { return len(m.Indices) }

// Has reports whether (i, j) is stored, by binary search in row i.
func (m *CSR) Has(i int, j int32) bool {
	cols, _ := m.Row(i)
	k := sort.Search(len(cols), func(k int) bool { return cols[k] >= j })
	return k < len(cols) && cols[k] == j
}

// ColCounts returns the number of stored entries in each column
// (label frequencies for a label matrix).
func (m *CSR) ColCounts() []int {
	c := make([]int, m.NCols)
	for _, j := range m.Indices {
		c[j]++
	}
	return c
}

// Transpose returns the NCols x NRows matrix.
func (m *CSR) Transpose() *CSR {
	t := &CSR{NRows: m.NCols, NCols: m.NRows, Indptr: make([]int64, m.NCols+1),
		Indices: make([]int32, len(m.Indices)), Data: make([]float32, len(m.Data))}
	for _, j := range m.Indices {
		t.Indptr[j+1]++
	}
	for j := 0; j < m.NCols; j++ {
		t.Indptr[j+1] += t.Indptr[j]
	}
	next := append([]int64(nil), t.Indptr[:m.NCols]...)
	for i := 0; i < m.NRows; i++ {
		cols, vals := m.Row(i)
		for k, j := range cols {
			p := next[j]
			t.Indices[p] = int32(i)
			t.Data[p] = vals[k]
			next[j]++
		}
	}
	return t
}

// SelectRows returns a new matrix with the given rows in order.
func (m *CSR) SelectRows(rows []int32) *CSR {
	out := &CSR{NRows: len(rows), NCols: m.NCols, Indptr: make([]int64, 1, len(rows)+1)}
	for _, r := range rows {
		cols, vals := m.Row(int(r))
		out.Indices = append(out.Indices, cols...)
		out.Data = append(out.Data, vals...)
		out.Indptr = append(out.Indptr, int64(len(out.Indices)))
	}
	return out
}

// Validate checks the structural invariants; readers call it on matrices
// assembled without a Builder.
func (m *CSR) Validate() error {
	if len(m.Indptr) != m.NRows+1 || m.Indptr[0] != 0 {
		return fmt.Errorf("sparse: indptr has %d entries for %d rows", len(m.Indptr), m.NRows)
	}
	if int(m.Indptr[m.NRows]) != len(m.Indices) || len(m.Indices) != len(m.Data) {
		return fmt.Errorf("sparse: indptr end %d, %d indices, %d values", m.Indptr[m.NRows], len(m.Indices), len(m.Data))
	}
	for i := 0; i < m.NRows; i++ {
		if m.Indptr[i+1] < m.Indptr[i] {
			return fmt.Errorf("sparse: row %d has negative length", i)
		}
		cols, _ := m.Row(i)
		for k, c := range cols {
			if c < 0 || int(c) >= m.NCols {
				return fmt.Errorf("sparse: row %d: column %d out of range [0,%d)", i, c, m.NCols)
			}
			if k > 0 && cols[k-1] >= c {
				return fmt.Errorf("sparse: row %d: columns not sorted and unique at %d", i, c)
			}
		}
	}
	return nil
}
