package data

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/xcbench/xcbench/core/sparse"
)

// maxLine bounds one line of a data file; LF full-text rows stay far below.
const maxLine = 64 << 20

func newScanner(r io.Reader) *bufio.Scanner {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<16), maxLine)
	return sc
}

// ReadSparse reads the pyxclib sparse text format: a header "rows cols",
// then one row per line of space-separated "col:value" with 0-based,
// strictly increasing columns and finite values; an empty line is an empty
// row. The number of rows must equal the header. name is used in error
// messages.
func ReadSparse(r io.Reader, name string) (*sparse.CSR, error) {
	var m *sparse.CSR
	err := scanSparse(r, name, func(nrows, ncols int64) error {
		m = &sparse.CSR{NRows: 0, NCols: int(ncols), Indptr: make([]int64, 1, min(nrows, 1<<24)+1)}
		return nil
	}, func(_ int, line []byte) error { return parseSparseRow(line, m) })
	if err != nil {
		return nil, err
	}
	return m, nil
}

// scanSparse reads the sparse format's header and hands each row's line to
// row (0-based index), checking the row count and naming file and line in
// every error.
func scanSparse(r io.Reader, name string, header func(rows, cols int64) error, row func(i int, line []byte) error) error {
	sc := newScanner(r)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return fmt.Errorf("%s: line 1: %w", name, err)
		}
		return fmt.Errorf("%s: line 1: missing header \"rows cols\"", name)
	}
	hdr, err := parseInts(sc.Bytes(), 2)
	if err != nil {
		return fmt.Errorf("%s: line 1: header: %w", name, err)
	}
	nrows, ncols := hdr[0], hdr[1]
	if nrows < 0 || ncols < 0 || ncols > 1<<31-1 {
		return fmt.Errorf("%s: line 1: bad header shape %d x %d", name, nrows, ncols)
	}
	if err := header(nrows, ncols); err != nil {
		return fmt.Errorf("%s: line 1: %w", name, err)
	}
	line, n := 1, int64(0)
	for sc.Scan() {
		line++
		if n >= nrows {
			if len(bytes.TrimSpace(sc.Bytes())) == 0 {
				continue // trailing blank lines after the last row
			}
			return fmt.Errorf("%s: line %d: more rows than the header's %d", name, line, nrows)
		}
		if err := row(int(n), sc.Bytes()); err != nil {
			return fmt.Errorf("%s: line %d: %w", name, line, err)
		}
		n++
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: line %d: %w", name, line+1, err)
	}
	if n != nrows {
		return fmt.Errorf("%s: header says %d rows, file has %d", name, nrows, n)
	}
	return nil
}

// parseSparseRow appends one "col:val col:val" row to m.
func parseSparseRow(b []byte, m *sparse.CSR) error {
	prev := int64(-1)
	start := len(m.Indices)
	for tok := range bytes.FieldsSeq(b) {
		c := bytes.IndexByte(tok, ':')
		if c <= 0 {
			m.Indices, m.Data = m.Indices[:start], m.Data[:start]
			return fmt.Errorf("entry %q is not col:value", tok)
		}
		col, err := parseInt(tok[:c])
		if err != nil {
			m.Indices, m.Data = m.Indices[:start], m.Data[:start]
			return fmt.Errorf("entry %q: column: %w", tok, err)
		}
		if col < 0 || col >= int64(m.NCols) {
			m.Indices, m.Data = m.Indices[:start], m.Data[:start]
			return fmt.Errorf("column %d out of range [0,%d)", col, m.NCols)
		}
		if col <= prev {
			m.Indices, m.Data = m.Indices[:start], m.Data[:start]
			return fmt.Errorf("columns not sorted and unique at %d", col)
		}
		v, err := strconv.ParseFloat(string(tok[c+1:]), 32)
		if err == nil && (math.IsNaN(v) || math.IsInf(v, 0)) {
			// NaN sorts nowhere and breaks JSON records downstream.
			err = fmt.Errorf("not a finite number")
		}
		if err != nil {
			m.Indices, m.Data = m.Indices[:start], m.Data[:start]
			return fmt.Errorf("entry %q: value: %w", tok, err)
		}
		prev = col
		m.Indices = append(m.Indices, int32(col))
		m.Data = append(m.Data, float32(v))
	}
	m.NRows++
	m.Indptr = append(m.Indptr, int64(len(m.Indices)))
	return nil
}

func parseInt(b []byte) (int64, error) {
	if len(b) == 0 || len(b) > 18 {
		return 0, fmt.Errorf("bad integer %q", b)
	}
	neg := false
	if b[0] == '-' {
		neg, b = true, b[1:]
		if len(b) == 0 {
			return 0, fmt.Errorf("bad integer %q", "-")
		}
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("bad integer %q", b)
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, nil
}

func parseInts(b []byte, want int) ([]int64, error) {
	f := bytes.Fields(b)
	if len(f) != want {
		return nil, fmt.Errorf("want %d integers, got %d fields in %q", want, len(f), b)
	}
	out := make([]int64, want)
	for i, t := range f {
		v, err := parseInt(t)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// ReadSparseFile is ReadSparse on a file.
func ReadSparseFile(path string) (*sparse.CSR, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadSparse(bufio.NewReaderSize(f, 1<<20), path)
}

// WriteSparse writes m in the pyxclib sparse text format, values with
// strconv's shortest float32 form so they read back bit-identical.
func WriteSparse(w io.Writer, m *sparse.CSR) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	fmt.Fprintf(bw, "%d %d\n", m.NRows, m.NCols)
	var buf []byte
	for i := 0; i < m.NRows; i++ {
		cols, vals := m.Row(i)
		buf = buf[:0]
		for k, c := range cols {
			if k > 0 {
				buf = append(buf, ' ')
			}
			buf = strconv.AppendInt(buf, int64(c), 10)
			buf = append(buf, ':')
			buf = strconv.AppendFloat(buf, float64(vals[k]), 'g', -1, 32)
		}
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// WriteSparseFile writes m to path atomically (temp file + rename).
func WriteSparseFile(path string, m *sparse.CSR) error {
	return writeAtomic(path, func(w io.Writer) error { return WriteSparse(w, m) })
}

func writeAtomic(path string, fill func(io.Writer) error) error {
	// A unique temp name: several plugin processes may write the same
	// cache file at once, and the last rename simply wins.
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := fill(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.Rename(tmp, path)
}
