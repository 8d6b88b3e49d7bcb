package batching

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"iter"
	"math/rand/v2"
	"slices"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/core/sparse"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// DecodeParams is sdk.DecodeParams with the component named in the error.
func DecodeParams(component string, raw json.RawMessage, dst any) error {
	if err := sdk.DecodeParams(raw, dst); err != nil {
		return fmt.Errorf("%s params: %w", component, err)
	}
	return nil
}

// Invalid formats a param error wrapping sdk.ErrInvalidConfig.
func Invalid(component, key, format string, args ...any) error {
	return fmt.Errorf("%s params: %w: %s: %s", component, sdk.ErrInvalidConfig, key, fmt.Sprintf(format, args...))
}

// OpenDataset loads the dataset c names through core/data.
func OpenDataset(c sdk.Config) (*data.Dataset, error) {
	ds, err := data.OpenFor(c.Dataset)
	if err != nil {
		return nil, err
	}
	if ds.TrainY == nil {
		return nil, fmt.Errorf("dataset %s has no training labels", c.Dataset.Dir)
	}
	return ds, nil
}

// RNG returns the random stream for one purpose in one epoch: a PCG keyed
// by a hash of (seed, epoch, purpose), so an epoch's draws are the same
// however many epochs ran before it.
func RNG(seed uint64, epoch int, purpose string) *rand.Rand {
	h := fnv.New64a()
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], seed)
	binary.LittleEndian.PutUint64(b[8:], uint64(int64(epoch)))
	h.Write(b[:])
	h.Write([]byte(purpose))
	k := h.Sum64()
	return rand.New(rand.NewPCG(k, splitmix(k^seed)))
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// LabeledDocs lists, ascending, the rows of y with at least one label:
// the documents an epoch covers (pyxclib's np.random.choice fails on the
// others; we skip them).
func LabeledDocs(y *sparse.CSR) []int32 {
	var out []int32
	for i := range y.NRows {
		if y.RowLen(i) > 0 {
			out = append(out, int32(i))
		}
	}
	return out
}

// Shuffled returns a shuffled copy of docs.
func Shuffled(r *rand.Rand, docs []int32) []int32 {
	out := slices.Clone(docs)
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// Positives draws one positive label per training row uniformly from its
// labels (-1 for rows without labels), indexed by row id. Drawing in row
// order makes a document's positive independent of the batch order.
func Positives(r *rand.Rand, y *sparse.CSR) []int32 {
	out := make([]int32, y.NRows)
	for i := range y.NRows {
		cols, _ := y.Row(i)
		if len(cols) == 0 {
			out[i] = -1
			continue
		}
		out[i] = cols[r.IntN(len(cols))]
	}
	return out
}

// Excluder reports labels a document must not get as a negative.
type Excluder struct {
	Y      *sparse.CSR
	Filter data.FilterSet
}

// Excluded reports whether label l is a positive or filtered pair of doc.
func (e Excluder) Excluded(doc, l int32) bool {
	return e.Y.Has(int(doc), l) || e.Filter.Has(doc, l)
}

// UniformNegatives appends to dst up to k distinct labels drawn uniformly
// from those of numLabels not excluded for doc and not already in dst.
// When fewer than k remain it takes all of them.
func UniformNegatives(r *rand.Rand, dst []int32, doc int32, k, numLabels int, ex Excluder) []int32 {
	start := len(dst)
	taken := func(l int32) bool { return ex.Excluded(doc, l) || slices.Contains(dst, l) }
	// Rejection is fast while labels are plentiful; fall back to a scan.
	for tries := 0; len(dst)-start < k && tries < 8*k+32; tries++ {
		l := int32(r.IntN(numLabels))
		if !taken(l) {
			dst = append(dst, l)
		}
	}
	if len(dst)-start < k {
		var rest []int32
		for l := int32(0); int(l) < numLabels; l++ {
			if !taken(l) {
				rest = append(rest, l)
			}
		}
		r.Shuffle(len(rest), func(i, j int) { rest[i], rest[j] = rest[j], rest[i] })
		dst = append(dst, rest[:min(len(rest), k-(len(dst)-start))]...)
	}
	return dst
}

// Cut yields order in consecutive chunks of batchSize (the last may be
// short) with each doc's positive; negatives, when non-nil, is called per
// batch to fill Batch.Negatives. It stops early on ctx cancellation.
func Cut(ctx context.Context, order, positives []int32, batchSize int, negatives func(docs []int32) [][]int32) iter.Seq2[sdk.Batch, error] {
	return func(yield func(sdk.Batch, error) bool) {
		if batchSize <= 0 {
			yield(sdk.Batch{}, fmt.Errorf("%w: batch size %d", sdk.ErrInvalidConfig, batchSize))
			return
		}
		for lo := 0; lo < len(order); lo += batchSize {
			if err := ctx.Err(); err != nil {
				yield(sdk.Batch{}, errors.Join(sdk.ErrCanceled, err))
				return
			}
			docs := slices.Clone(order[lo:min(lo+batchSize, len(order))])
			b := sdk.Batch{Docs: docs, Positives: make([]int32, len(docs))}
			for i, d := range docs {
				b.Positives[i] = positives[d]
			}
			if negatives != nil {
				b.Negatives = negatives(docs)
			}
			if !yield(b, nil) {
				return
			}
		}
	}
}

// Embeddings loads m (inline or .npy path) and checks it has rows rows.
func Embeddings(m sdk.Matrix, what string, rows int) (sdk.Matrix, error) {
	m, err := sdk.LoadMatrix(m)
	if err != nil {
		return m, fmt.Errorf("%s embeddings: %w", what, err)
	}
	if m.Rows != rows || m.Cols <= 0 || len(m.Data) != m.Rows*m.Cols {
		return m, fmt.Errorf("%s embeddings: got %dx%d (%d values), want %d rows", what, m.Rows, m.Cols, len(m.Data), rows)
	}
	return m, nil
}

// Param is sdk.Param.
type Param = sdk.Param

// Schema is sdk.Schema.
func Schema(params ...Param) json.RawMessage { return sdk.Schema(params...) }
