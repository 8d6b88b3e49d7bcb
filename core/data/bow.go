package data

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/xcbench/xcbench/core/sparse"
)

// ReadBoW reads the legacy XC repository format: a header
// "points features labels", then per point "l1,l2,... f:v f:v ..."; a line
// starting with a space has no labels. Labels may come in any order
// (they are sorted), features too; duplicates and out-of-range ids are
// errors. The number of lines must equal the header's point count.
func ReadBoW(r io.Reader, name string) (x, y *sparse.CSR, err error) {
	sc := newScanner(r)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return nil, nil, fmt.Errorf("%s: line 1: %w", name, err)
		}
		return nil, nil, fmt.Errorf("%s: line 1: missing header \"points features labels\"", name)
	}
	hdr, err := parseInts(sc.Bytes(), 3)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: line 1: header: %w", name, err)
	}
	n, nf, nl := hdr[0], hdr[1], hdr[2]
	if n < 0 || nf < 0 || nl < 0 || nf > 1<<31-1 || nl > 1<<31-1 {
		return nil, nil, fmt.Errorf("%s: line 1: bad header %d %d %d", name, n, nf, nl)
	}
	xb := sparse.NewBuilder(int(nf))
	yb := sparse.NewBuilder(int(nl))
	var xe, ye []sparse.Entry
	line, rows := 1, int64(0)
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if rows >= n {
			if len(bytes.TrimSpace(b)) == 0 {
				continue
			}
			return nil, nil, fmt.Errorf("%s: line %d: more points than the header's %d", name, line, n)
		}
		xe, ye = xe[:0], ye[:0]
		fields := bytes.Fields(b)
		// The label list is the first field unless the line starts with a
		// space or the first field is already a feature (has a colon).
		if len(b) > 0 && b[0] != ' ' && b[0] != '\t' && len(fields) > 0 && bytes.IndexByte(fields[0], ':') < 0 {
			for lab := range bytes.SplitSeq(fields[0], []byte{','}) {
				if len(lab) == 0 {
					continue
				}
				l, err := parseInt(lab)
				if err != nil {
					return nil, nil, fmt.Errorf("%s: line %d: label: %w", name, line, err)
				}
				if l < 0 || l >= nl {
					return nil, nil, fmt.Errorf("%s: line %d: label %d out of range [0,%d)", name, line, l, nl)
				}
				ye = append(ye, sparse.Entry{Col: int32(l), Val: 1})
			}
			fields = fields[1:]
		}
		for _, tok := range fields {
			c := bytes.IndexByte(tok, ':')
			if c <= 0 {
				return nil, nil, fmt.Errorf("%s: line %d: feature %q is not index:value", name, line, tok)
			}
			f, err := parseInt(tok[:c])
			if err != nil {
				return nil, nil, fmt.Errorf("%s: line %d: feature %q: %w", name, line, tok, err)
			}
			if f < 0 || f >= nf {
				return nil, nil, fmt.Errorf("%s: line %d: feature %d out of range [0,%d)", name, line, f, nf)
			}
			v, err := strconv.ParseFloat(string(tok[c+1:]), 32)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: line %d: feature %q: %w", name, line, tok, err)
			}
			xe = append(xe, sparse.Entry{Col: int32(f), Val: float32(v)})
		}
		if err := xb.AddRow(xe); err != nil {
			return nil, nil, fmt.Errorf("%s: line %d: features: %w", name, line, err)
		}
		if err := yb.AddRow(ye); err != nil {
			return nil, nil, fmt.Errorf("%s: line %d: labels: %w", name, line, err)
		}
		rows++
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("%s: line %d: %w", name, line+1, err)
	}
	if rows != n {
		return nil, nil, fmt.Errorf("%s: header says %d points, file has %d", name, n, rows)
	}
	return xb.Build(), yb.Build(), nil
}

// ReadBoWFile is ReadBoW on a file.
func ReadBoWFile(path string) (x, y *sparse.CSR, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return ReadBoW(bufio.NewReaderSize(f, 1<<20), path)
}

// WriteBoW writes x and y (same row count) in the legacy BoW format.
func WriteBoW(w io.Writer, x, y *sparse.CSR) error {
	if x.NRows != y.NRows {
		return fmt.Errorf("bow: %d feature rows vs %d label rows", x.NRows, y.NRows)
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%d %d %d\n", x.NRows, x.NCols, y.NCols)
	var buf []byte
	for i := 0; i < x.NRows; i++ {
		buf = buf[:0]
		labs, _ := y.Row(i)
		for k, l := range labs {
			if k > 0 {
				buf = append(buf, ',')
			}
			buf = strconv.AppendInt(buf, int64(l), 10)
		}
		cols, vals := x.Row(i)
		for k, c := range cols {
			buf = append(buf, ' ')
			buf = strconv.AppendInt(buf, int64(c), 10)
			buf = append(buf, ':')
			buf = strconv.AppendFloat(buf, float64(vals[k]), 'g', -1, 32)
		}
		if len(cols) == 0 && len(labs) == 0 {
			buf = append(buf, ' ')
		}
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	return bw.Flush()
}
