package gomlxkit

import (
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// ErrEngine marks errors recovered from a GoMLX panic.
var ErrEngine = errors.New("gomlx engine error")

// Recover converts a panic (GoMLX reports graph and shape errors by
// panicking) into an error stored in *errp. Use as `defer Recover(&err, op)`
// at every component entry point: a panic must never cross a plugin
// boundary.
func Recover(errp *error, op string) {
	r := recover()
	if r == nil {
		return
	}
	stack := debug.Stack()
	if e, ok := r.(error); ok {
		*errp = fmt.Errorf("%s: %w: %w\n%s", op, ErrEngine, e, stack)
		return
	}
	*errp = fmt.Errorf("%s: %w: %v\n%s", op, ErrEngine, r, stack)
}

// TopK returns the k largest values of x [B,C] along axis 1, best first, as
// values [B,k] (differentiable: gradients flow to the picked entries) and
// their column indices [B,k] int32. GoMLX has no TopK/Sort op, so this runs
// k rounds of ArgMax → mask; ties go to the lowest index, which keeps the
// result deterministic. The values are read with one Gather at the end (its
// gradient is a cheap scatter), not with k one-hot products over [B,C].
func TopK(x *Node, k int) (values, indices *Node) {
	c := x.Shape().Dimensions[1]
	if k > c {
		panic(fmt.Errorf("gomlxkit.TopK: k=%d > %d columns", k, c))
	}
	g := x.Graph()
	dt := x.DType()
	masked := StopGradient(x)
	// A penalty far below any score but finite, so Mul by zero stays 0.
	penalty := Scalar(g, dt, 1e9)
	idx := make([]*Node, k)
	for i := range k {
		idx[i] = ArgMax(masked, 1, dtypes.Int32)
		if i+1 < k {
			masked = Sub(masked, Mul(OneHot(idx[i], c, dt), penalty))
		}
	}
	indices = StopGradient(Stack(idx, 1)) // [B,k]
	return TakeAlongRows(x, indices), indices
}

// TakeAlongRows returns m[b, indices[b, j]] as [B,k] for m [B,C] and
// indices [B,k] int32, by one Gather.
func TakeAlongRows(m, indices *Node) *Node {
	dims := indices.Shape().Dimensions
	rows := Iota(m.Graph(), shapes.Make(dtypes.Int32, dims[0], dims[1], 1), 0)
	at := Concatenate([]*Node{rows, InsertAxes(indices, -1)}, 2) // [B,k,2]
	return Gather(m, at)
}
