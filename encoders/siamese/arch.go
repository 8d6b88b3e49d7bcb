package siamese

import (
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive
	"github.com/xcbench/xcbench/encoders/optim"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// Arch is a network the service trains. Items are token rows: ids into the
// embedding table and a weight per token (the pooling weight for bag models,
// 1 for sequence models).
type Arch interface {
	// Dim is the embedding width.
	Dim() int
	// Table is the token-embedding table [V, Dim], updated row-sparsely.
	Table() *optim.Param
	// Params are the other trainable tensors, in a fixed order.
	Params() []*optim.Param
	// NumItems is the number of items of a split.
	NumItems(split sdk.Split) int
	// Item returns item id's token ids (into Table) and weights (> 0),
	// already truncated to MaxLen.
	Item(split sdk.Split, id int32) ([]int32, []float32)
	// MaxLen is the longest token row Item returns.
	MaxLen() int
	// Build returns the un-normalised embeddings [N, Dim] of N token rows:
	// params aligned with Params(), rows [U, Dim] the gathered table rows,
	// idx [N, S] int32 indices into rows, w [N, S] float32 weights (0 = pad).
	Build(params []*Node, rows, idx, w *Node) *Node
}
