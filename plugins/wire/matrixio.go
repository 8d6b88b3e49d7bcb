package wire

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"sync/atomic"

	"github.com/xcbench/xcbench/plugins/pluginv1"

	"github.com/xcbench/xcbench/plugins/sdk"
)

// InlineLimit is the largest matrix payload, in bytes, sent inside a gRPC
// message; anything larger travels as a .npy path.
const InlineLimit = 1 << 20

var matrixSeq atomic.Int64

// matrixToProto encodes m for the wire: the path alone when m has one,
// inline bytes up to InlineLimit, otherwise a fresh .npy in dir.
func matrixToProto(m sdk.Matrix, dir, what string) (*pluginv1.Matrix, error) {
	if m.IsZero() {
		return nil, nil
	}
	pm := &pluginv1.Matrix{Rows: int64(m.Rows), Cols: int64(m.Cols)}
	if m.Path != "" {
		pm.Payload = &pluginv1.Matrix_NpyPath{NpyPath: m.Path}
		return pm, nil
	}
	if len(m.Data) != m.Rows*m.Cols {
		return nil, fmt.Errorf("wire: %s: matrix %dx%d has %d values", what, m.Rows, m.Cols, len(m.Data))
	}
	if 4*len(m.Data) <= InlineLimit {
		b := make([]byte, 4*len(m.Data))
		for i, v := range m.Data {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
		pm.Payload = &pluginv1.Matrix_Data{Data: b}
		return pm, nil
	}
	if dir == "" {
		dir = os.TempDir()
	}
	name := fmt.Sprintf("%s-%d-%d.npy", what, os.Getpid(), matrixSeq.Add(1))
	stored, err := sdk.StoreMatrix(dir, name, m)
	if err != nil {
		return nil, err
	}
	pm.Payload = &pluginv1.Matrix_NpyPath{NpyPath: stored.Path}
	return pm, nil
}

// matrixFromProto decodes a wire matrix without reading .npy files.
func matrixFromProto(pm *pluginv1.Matrix, what string) (sdk.Matrix, error) {
	if pm == nil {
		return sdk.Matrix{}, nil
	}
	if pm.Rows < 0 || pm.Cols < 0 || pm.Rows > math.MaxInt32 || pm.Cols > math.MaxInt32 {
		return sdk.Matrix{}, fmt.Errorf("wire: %s: bad matrix shape %dx%d", what, pm.Rows, pm.Cols)
	}
	m := sdk.Matrix{Rows: int(pm.Rows), Cols: int(pm.Cols)}
	switch p := pm.Payload.(type) {
	case *pluginv1.Matrix_NpyPath:
		m.Path = p.NpyPath
	case *pluginv1.Matrix_Data:
		if len(p.Data) != 4*m.Rows*m.Cols {
			return sdk.Matrix{}, fmt.Errorf("wire: %s: matrix %dx%d has %d bytes", what, m.Rows, m.Cols, len(p.Data))
		}
		m.Data = make([]float32, m.Rows*m.Cols)
		for i := range m.Data {
			m.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(p.Data[4*i:]))
		}
	default:
		if m.Rows*m.Cols != 0 {
			return sdk.Matrix{}, fmt.Errorf("wire: %s: matrix %dx%d has no payload", what, m.Rows, m.Cols)
		}
		m.Data = []float32{}
	}
	return m, nil
}

func batchToProto(b sdk.Batch) *pluginv1.Batch {
	pb := &pluginv1.Batch{Docs: b.Docs, Positives: b.Positives}
	if b.Negatives != nil {
		pb.Negatives = make([]*pluginv1.IdList, len(b.Negatives))
		for i, n := range b.Negatives {
			pb.Negatives[i] = &pluginv1.IdList{Ids: n}
		}
	}
	return pb
}

func batchFromProto(pb *pluginv1.Batch) sdk.Batch {
	b := sdk.Batch{Docs: pb.GetDocs(), Positives: pb.GetPositives()}
	if n := pb.GetNegatives(); len(n) > 0 {
		b.Negatives = make([][]int32, len(n))
		for i, l := range n {
			b.Negatives[i] = l.GetIds()
		}
	}
	return b
}
