package transformer

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
)

// Tensor is one safetensors entry converted to float32.
type Tensor struct {
	Dims []int
	Data []float32
}

type stEntry struct {
	DType   string `json:"dtype"`
	Shape   []int  `json:"shape"`
	Offsets [2]int `json:"data_offsets"`
}

// ReadSafetensors reads a .safetensors file (8-byte little-endian header
// length, JSON header, raw little-endian data) and converts F32, F16 and
// BF16 tensors to float32; other dtypes are skipped.
func ReadSafetensors(path string) (map[string]Tensor, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(raw) < 8 {
		return nil, fmt.Errorf("safetensors %s: file too short", path)
	}
	n := binary.LittleEndian.Uint64(raw[:8])
	if n > uint64(len(raw)-8) {
		return nil, fmt.Errorf("safetensors %s: header length %d beyond file size %d", path, n, len(raw))
	}
	var hdr map[string]json.RawMessage
	if err := json.Unmarshal(raw[8:8+n], &hdr); err != nil {
		return nil, fmt.Errorf("safetensors %s: header: %w", path, err)
	}
	body := raw[8+n:]
	out := map[string]Tensor{}
	for name, msg := range hdr {
		if name == "__metadata__" {
			continue
		}
		var e stEntry
		if err := json.Unmarshal(msg, &e); err != nil {
			return nil, fmt.Errorf("safetensors %s: tensor %q: %w", path, name, err)
		}
		count := 1
		for _, d := range e.Shape {
			count *= d
		}
		size := map[string]int{"F32": 4, "F16": 2, "BF16": 2}[e.DType]
		if size == 0 {
			continue
		}
		b, end := e.Offsets[0], e.Offsets[1]
		if b < 0 || end > len(body) || end-b != count*size {
			return nil, fmt.Errorf("safetensors %s: tensor %q: offsets %v do not hold %d %s values", path, name, e.Offsets, count, e.DType)
		}
		buf := body[b:end]
		data := make([]float32, count)
		for i := range data {
			switch e.DType {
			case "F32":
				data[i] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*i:]))
			case "BF16":
				data[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(buf[2*i:])) << 16)
			case "F16":
				data[i] = halfToFloat(binary.LittleEndian.Uint16(buf[2*i:]))
			}
		}
		out[name] = Tensor{Dims: append([]int{}, e.Shape...), Data: data}
	}
	return out, nil
}

// WriteSafetensors writes float32 tensors (sorted by name, as the reference
// implementation does).
func WriteSafetensors(path string, ts map[string]Tensor) error {
	names := make([]string, 0, len(ts))
	for n := range ts {
		names = append(names, n)
	}
	sort.Strings(names)
	hdr := map[string]any{"__metadata__": map[string]string{"format": "pt"}}
	off := 0
	for _, n := range names {
		t := ts[n]
		hdr[n] = stEntry{DType: "F32", Shape: t.Dims, Offsets: [2]int{off, off + 4*len(t.Data)}}
		off += 4 * len(t.Data)
	}
	h, err := json.Marshal(hdr)
	if err != nil {
		return err
	}
	for len(h)%8 != 0 { // the format pads the header with spaces to 8 bytes
		h = append(h, ' ')
	}
	buf := make([]byte, 8, 8+len(h)+off)
	binary.LittleEndian.PutUint64(buf, uint64(len(h)))
	buf = append(buf, h...)
	for _, n := range names {
		for _, v := range ts[n].Data {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		}
	}
	return os.WriteFile(path, buf, 0o644)
}

func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal
		f := float32(frac) / 1024 * float32(math.Pow(2, -14))
		if sign != 0 {
			return -f
		}
		return f
	case exp == 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	}
	return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
}
