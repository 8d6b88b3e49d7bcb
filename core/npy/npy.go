package npy

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

var magic = []byte("\x93NUMPY")

// Header describes an array in a .npy file.
type Header struct {
	Descr string // '<f4', '<i4', '<i8'
	Shape []int
}

// Len is the number of elements.
func (h Header) Len() int {
	n := 1
	for _, d := range h.Shape {
		n *= d
	}
	return n
}

func dtypeOf[T float32 | int32 | int64]() string {
	var z T
	switch any(z).(type) {
	case float32:
		return "<f4"
	case int32:
		return "<i4"
	default:
		return "<i8"
	}
}

// Write writes data with the given shape to path atomically.
func Write[T float32 | int32 | int64](path string, shape []int, data []T) error {
	n := 1
	for _, d := range shape {
		n *= d
	}
	if n != len(data) {
		return fmt.Errorf("npy: write %s: shape %v has %d elements, data has %d", path, shape, n, len(data))
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("npy: write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriterSize(tmp, 1<<20)
	if err := writeHeader(w, Header{Descr: dtypeOf[T](), Shape: shape}); err != nil {
		tmp.Close()
		return err
	}
	if err := writeData(w, data); err != nil {
		tmp.Close()
		return fmt.Errorf("npy: write %s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("npy: write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("npy: write %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}

// writeData writes data little-endian through a fixed block buffer:
// binary.Write would first copy the whole array into a byte slice, which
// for a million-label embedding table and its two AdamW moments doubled the
// encoder's memory at every checkpoint (a 1M-label synthetic run was
// OOM-killed in Save).
func writeData[T float32 | int32 | int64](w io.Writer, data []T) error {
	const block = 1 << 16
	var buf []byte
	for lo := 0; lo < len(data); lo += block {
		chunk := data[lo:min(lo+block, len(data))]
		buf = buf[:0]
		switch c := any(chunk).(type) {
		case []float32:
			for _, v := range c {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			}
		case []int32:
			for _, v := range c {
				buf = binary.LittleEndian.AppendUint32(buf, uint32(v))
			}
		case []int64:
			for _, v := range c {
				buf = binary.LittleEndian.AppendUint64(buf, uint64(v))
			}
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
}

func writeHeader(w io.Writer, h Header) error {
	dims := make([]string, len(h.Shape))
	for i, d := range h.Shape {
		dims[i] = strconv.Itoa(d)
	}
	shape := strings.Join(dims, ", ")
	if len(h.Shape) == 1 {
		shape += ","
	}
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", h.Descr, shape)
	// Pad so that magic(6)+version(2)+len(2)+dict+'\n' is a multiple of 64,
	// as NumPy does, which keeps the data aligned for memory mapping.
	total := 10 + len(dict) + 1
	pad := (64 - total%64) % 64
	dict += strings.Repeat(" ", pad) + "\n"
	var buf bytes.Buffer
	buf.Write(magic)
	buf.Write([]byte{1, 0})
	if len(dict) > math.MaxUint16 {
		return errors.New("npy: header too long")
	}
	_ = binary.Write(&buf, binary.LittleEndian, uint16(len(dict)))
	buf.WriteString(dict)
	_, err := w.Write(buf.Bytes())
	return err
}

var (
	reDescr = regexp.MustCompile(`'descr':\s*'([^']*)'`)
	reOrder = regexp.MustCompile(`'fortran_order':\s*(True|False)`)
	reShape = regexp.MustCompile(`'shape':\s*\(([^)]*)\)`)
)

// ReadHeader parses the header and leaves r at the first data byte.
func ReadHeader(r io.Reader) (Header, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return Header{}, fmt.Errorf("npy: short header: %w", err)
	}
	if !bytes.Equal(pre[:6], magic) {
		return Header{}, errors.New("npy: not a .npy file (bad magic)")
	}
	var hlen int
	switch pre[6] {
	case 1:
		var l uint16
		if err := binary.Read(r, binary.LittleEndian, &l); err != nil {
			return Header{}, fmt.Errorf("npy: short header: %w", err)
		}
		hlen = int(l)
	case 2, 3:
		var l uint32
		if err := binary.Read(r, binary.LittleEndian, &l); err != nil {
			return Header{}, fmt.Errorf("npy: short header: %w", err)
		}
		hlen = int(l)
	default:
		return Header{}, fmt.Errorf("npy: unsupported format version %d", pre[6])
	}
	if hlen > 1<<20 {
		return Header{}, fmt.Errorf("npy: header length %d too large", hlen)
	}
	hb := make([]byte, hlen)
	if _, err := io.ReadFull(r, hb); err != nil {
		return Header{}, fmt.Errorf("npy: short header: %w", err)
	}
	s := string(hb)
	d := reDescr.FindStringSubmatch(s)
	o := reOrder.FindStringSubmatch(s)
	sh := reShape.FindStringSubmatch(s)
	if d == nil || o == nil || sh == nil {
		return Header{}, fmt.Errorf("npy: malformed header %q", strings.TrimSpace(s))
	}
	if o[1] == "True" {
		return Header{}, errors.New("npy: Fortran-order arrays are not supported")
	}
	h := Header{Descr: d[1]}
	for _, f := range strings.Split(sh[1], ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil || v < 0 {
			return Header{}, fmt.Errorf("npy: bad shape entry %q", f)
		}
		h.Shape = append(h.Shape, v)
	}
	return h, nil
}

// Read loads a whole array of element type T. Integer files are converted
// between int32 and int64 when needed (NGAME's token ids are int64);
// values that do not fit are an error.
func Read[T float32 | int32 | int64](path string) ([]T, []int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("npy: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	h, err := ReadHeader(br)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	n := h.Len()
	if st, err := f.Stat(); err == nil && int64(n)*4 > st.Size() && h.Descr != "|u1" {
		return nil, nil, fmt.Errorf("%s: npy: shape %v larger than file", path, h.Shape)
	}
	want := dtypeOf[T]()
	out := make([]T, n)
	switch {
	case h.Descr == want:
		if err := binary.Read(br, binary.LittleEndian, out); err != nil {
			return nil, nil, fmt.Errorf("%s: npy: truncated data: %w", path, err)
		}
	case h.Descr == "<i8" && want == "<i4":
		tmp := make([]int64, n)
		if err := binary.Read(br, binary.LittleEndian, tmp); err != nil {
			return nil, nil, fmt.Errorf("%s: npy: truncated data: %w", path, err)
		}
		for i, v := range tmp {
			if v < math.MinInt32 || v > math.MaxInt32 {
				return nil, nil, fmt.Errorf("%s: npy: value %d at %d does not fit int32", path, v, i)
			}
			out[i] = T(v)
		}
	case h.Descr == "<i4" && want == "<i8":
		tmp := make([]int32, n)
		if err := binary.Read(br, binary.LittleEndian, tmp); err != nil {
			return nil, nil, fmt.Errorf("%s: npy: truncated data: %w", path, err)
		}
		for i, v := range tmp {
			out[i] = T(v)
		}
	default:
		return nil, nil, fmt.Errorf("%s: npy: dtype %s cannot be read as %s", path, h.Descr, want)
	}
	return out, h.Shape, nil
}
