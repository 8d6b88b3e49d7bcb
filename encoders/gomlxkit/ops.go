package gomlxkit

import (
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive
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
// the one-hot selectors [B,k,C] (constant). GoMLX has no TopK/Sort op, so
// this runs k rounds of ArgMax → OneHot → mask; ties go to the lowest index,
// which keeps the result deterministic.
func TopK(x *Node, k int) (values, selectors *Node) {
	c := x.Shape().Dimensions[1]
	if k > c {
		panic(fmt.Errorf("gomlxkit.TopK: k=%d > %d columns", k, c))
	}
	g := x.Graph()
	dt := x.DType()
	masked := StopGradient(x)
	// A penalty far below any score but finite, so Mul by zero stays 0.
	penalty := Scalar(g, dt, 1e9)
	vals := make([]*Node, k)
	sels := make([]*Node, k)
	for i := range k {
		idx := ArgMax(masked, 1, dtypes.Int32)
		oh := StopGradient(OneHot(idx, c, dt)) // [B,C]
		vals[i] = ReduceSum(Mul(x, oh), 1)     // [B]
		sels[i] = oh
		masked = Sub(masked, Mul(oh, penalty))
	}
	return Stack(vals, 1), Stack(sels, 1)
}
