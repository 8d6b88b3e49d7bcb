package siamese

import (
	"context"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/core/sparse"
	"github.com/xcbench/xcbench/encoders/gomlxkit"
	"github.com/xcbench/xcbench/encoders/loss"
	"github.com/xcbench/xcbench/encoders/optim"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// Service trains and runs one Arch. Create with New after the Arch is built.
type Service struct {
	mu      sync.Mutex
	name    string
	arch    Arch
	ds      *data.Dataset
	cfg     TrainConfig
	backend backends.Backend
	opt     *optim.AdamW
	// train[hasNegatives] and encode are compiled lazily; graph.Exec caches
	// one compiled graph per input-shape combination.
	train  [4]*Exec
	gc     gcExecs
	seed   uint64
	encode *Exec
	bank   []float32
	// filter holds the reciprocal train pairs, never in-batch negatives.
	filter data.FilterSet
	// lastStep is the wall time of the latest TrainStep (for benchmarks).
	lastStep time.Duration
	// compiles counts graph builds (one per distinct input shape).
	compiles int
	// hiTrain/hiEncode are the largest padded shapes used so far: shapes
	// only grow, so a smaller (ragged) batch reuses a compiled graph.
	hiTrain, hiEncode shapeMark
}

// New builds the service; ds.TrainY is needed for the in-batch mask.
// seed drives the per-step dropout masks (with the step number, so a
// resumed run draws the same masks).
func New(name string, arch Arch, ds *data.Dataset, cfg TrainConfig, seed uint64) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if ds == nil || ds.TrainY == nil {
		return nil, fmt.Errorf("encoder %s: dataset has no training labels", name)
	}
	b, err := gomlxkit.NewBackend(cfg.Backend)
	if err != nil {
		return nil, fmt.Errorf("encoder %s: %w: %w", name, sdk.ErrInvalidConfig, err)
	}
	return &Service{
		name: name, arch: arch, ds: ds, cfg: cfg, backend: b, seed: seed,
		opt:    optim.New(optim.Schedule{LR: cfg.LR, Warmup: cfg.Warmup(), Total: cfg.TotalSteps}, cfg.WeightDecay),
		bank:   make([]float32, arch.NumItems(sdk.SplitTrain)*arch.Dim()),
		filter: data.NewFilterSet(ds.FilterTrain),
	}, nil
}

// Arch returns the network (for tests and checkpoints).
func (s *Service) Arch() Arch { return s.arch }

// Step returns the number of optimiser updates done.
func (s *Service) Step() int { s.mu.Lock(); defer s.mu.Unlock(); return s.opt.Step }

// pow2 rounds n up to a power of two (at least lo), capped at hi when hi > 0.
func pow2(n, lo, hi int) int {
	n = max(n, lo, 1)
	p := 1 << bits.Len(uint(n-1))
	if hi > 0 && p > hi {
		p = max(hi, n)
	}
	return p
}

// shapeMark holds high-water marks of the bucketed dimensions.
type shapeMark struct{ s, u, kn int }

// grow raises *cur to at least v and returns it.
func grow(cur *int, v int) int {
	*cur = max(*cur, v)
	return *cur
}

// tokenBatch is a group of items laid out for the graph.
type tokenBatch struct {
	idx []int32
	w   []float32
}

// assembler lays out several groups of items over one shared set of unique
// table rows, in first-seen order (deterministic).
type assembler struct {
	arch  Arch
	local map[int32]int32
	rows  []int32
	s     int
}

func (a *assembler) add(items [][]int32, weights [][]float32, n int) tokenBatch {
	tb := tokenBatch{idx: make([]int32, n*a.s), w: make([]float32, n*a.s)}
	for i := range items {
		for j, tok := range items[i] {
			l, ok := a.local[tok]
			if !ok {
				l = int32(len(a.rows))
				a.local[tok] = l
				a.rows = append(a.rows, tok)
			}
			tb.idx[i*a.s+j] = l
			tb.w[i*a.s+j] = weights[i][j]
		}
	}
	return tb
}

// gatherRows copies the used table rows into a [U, D] block (padding rows 0).
func (s *Service) gatherRows(rows []int32, u int) []float32 {
	d := s.arch.Dim()
	t := s.arch.Table().Data
	out := make([]float32, u*d)
	for i, r := range rows {
		copy(out[i*d:(i+1)*d], t[int(r)*d:int(r+1)*d])
	}
	return out
}

func (s *Service) items(split sdk.Split, ids []int32) ([][]int32, [][]float32, int, error) {
	toks := make([][]int32, len(ids))
	ws := make([][]float32, len(ids))
	longest := 0
	n := int32(s.arch.NumItems(split))
	for i, id := range ids {
		if id < 0 || id >= n {
			return nil, nil, 0, fmt.Errorf("encoder %s: %s id %d out of range [0,%d)", s.name, split, id, n)
		}
		toks[i], ws[i] = s.arch.Item(split, id)
		longest = max(longest, len(toks[i]))
	}
	return toks, ws, longest, nil
}

func (s *Service) paramTensors() []any {
	ps := s.arch.Params()
	out := make([]any, len(ps))
	for i, p := range ps {
		out[i] = tensors.FromFlatDataAndDimensions(p.Data, p.Dims...)
	}
	return out
}

// embed applies the arch and L2-normalises.
func (s *Service) embed(params []*Node, rows, idx, w *Node) *Node {
	return L2Normalize(s.arch.Build(params, rows, idx, w), -1)
}

func (s *Service) trainExec(hasNeg, hasDrop bool) (*Exec, error) {
	k := 0
	if hasNeg {
		k = 1
	}
	if hasDrop {
		k += 2
	}
	if s.train[k] != nil {
		return s.train[k], nil
	}
	np := len(s.arch.Params())
	cfg := s.cfg
	fn := func(in []*Node) []*Node {
		s.compiles++
		params := in[:np]
		rows := in[np]
		dIdx, dW, lIdx, lW := in[np+1], in[np+2], in[np+3], in[np+4]
		rest := in[np+5:]
		var negs *Node
		if hasNeg {
			nIdx, nW := rest[0], rest[1]
			rest = rest[2:]
			b := dIdx.Shape().Dimensions[0]
			ne := s.arch.Build(params, rows, nIdx, nW)
			negs = Reshape(ne, b, nIdx.Shape().Dimensions[0]/b, s.arch.Dim())
		}
		allow, valid := rest[0], rest[1]
		rest = rest[2:]
		var posMask *Node
		if cfg.Loss == "dsoftmax" {
			posMask, rest = rest[0], rest[1:]
		}
		de := s.arch.Build(params, rows, dIdx, dW)
		le := s.arch.Build(params, rows, lIdx, lW)
		if hasDrop {
			// Masks arrive from the host (already scaled by 1/(1-p)):
			// dropout on the pooled embedding, before normalisation.
			de, le = Mul(de, rest[0]), Mul(le, rest[1])
			if negs != nil {
				negs = Mul(negs, Reshape(rest[2], negs.Shape().Dimensions...))
			}
		}
		if negs != nil {
			negs = L2Normalize(negs, -1)
		}
		de, le = L2Normalize(de, -1), L2Normalize(le, -1)
		pos, cand := loss.Scores(de, le, negs)
		out := s.lossOf(pos, cand, allow, valid, posMask)
		wrt := append(append([]*Node{}, params...), rows)
		grads := Gradient(out.Loss, wrt...)
		return append([]*Node{out.Loss, out.Hardness, StopGradient(de)}, grads...)
	}
	e, err := NewExec(s.backend, fn)
	if err != nil {
		return nil, err
	}
	e.SetMaxCache(-1)
	s.train[k] = e
	return e, nil
}

// Grads is one step's loss and gradients before the optimiser update.
type Grads struct {
	Loss, Hardness float64
	// Items is the number of texts encoded.
	Items int
	// Emb holds the batch documents' normalised embeddings (n x Dim).
	Emb []float32
	// Params are the gradients of Arch.Params(), in order.
	Params [][]float32
	// Rows are the table rows the batch used and Table their gradients
	// (len(Rows) x Dim).
	Rows  []int32
	Table []float32
}

// TrainStep implements sdk.Encoder.
func (s *Service) TrainStep(ctx context.Context, b sdk.Batch) (st sdk.StepStats, err error) {
	defer gomlxkit.Recover(&err, "encoder "+s.name+": train step")
	if err := ctx.Err(); err != nil {
		return st, fmt.Errorf("%w: %w", sdk.ErrCanceled, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	start := time.Now()
	g, err := s.gradients(b)
	if err != nil {
		return st, err
	}
	st.Loss, st.Hardness, st.Items = g.Loss, g.Hardness, g.Items
	d := s.arch.Dim()
	lr := s.opt.Begin()
	for i, p := range s.arch.Params() {
		if err := s.opt.Dense(p, g.Params[i], lr); err != nil {
			return st, err
		}
	}
	if err := s.opt.Rows(s.arch.Table(), g.Rows, g.Table, lr); err != nil {
		return st, err
	}
	for i, doc := range b.Docs {
		copy(s.bank[int(doc)*d:(int(doc)+1)*d], g.Emb[i*d:(i+1)*d])
	}
	s.lastStep = time.Since(start)
	return st, nil
}

// Gradients computes the next training step's loss and gradients without
// updating anything (for tests: the cached and uncached paths must agree).
func (s *Service) Gradients(ctx context.Context, b sdk.Batch) (g Grads, err error) {
	defer gomlxkit.Recover(&err, "encoder "+s.name+": gradients")
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gradients(b)
}

// stepInputs is a batch laid out for the graphs: token rows shared by all
// items, padded doc/label/negative blocks and the masks.
type stepInputs struct {
	n, bc, kn, negCount int
	a                   *assembler
	u                   int
	docs, labs, negs    tokenBatch
	allow, valid, pos   []float32
	// drop are the dropout masks of docs, labels and negatives (nil
	// without dropout), drawn in that order from PCG(seed, step+1).
	drop [3][]float32
}

func (s *Service) layout(b sdk.Batch) (*stepInputs, error) {
	n := len(b.Docs)
	if n == 0 {
		return nil, fmt.Errorf("encoder %s: empty batch", s.name)
	}
	if len(b.Positives) != n || (b.Negatives != nil && len(b.Negatives) != n) {
		return nil, fmt.Errorf("encoder %s: batch has %d docs, %d positives, %d negative lists", s.name, n, len(b.Positives), len(b.Negatives))
	}
	in := &stepInputs{n: n, bc: s.cfg.BatchSize}
	if n > in.bc {
		in.bc = pow2(n, 2, 0)
	}
	bc := in.bc
	kn := 0
	for _, ns := range b.Negatives {
		kn = max(kn, len(ns))
	}
	if kn > 0 {
		kn = grow(&s.hiTrain.kn, pow2(kn, 1, 0))
	}
	in.kn = kn
	dTok, dW, dl, err := s.items(sdk.SplitTrain, b.Docs)
	if err != nil {
		return nil, err
	}
	lTok, lW, ll, err := s.items(sdk.SplitLabels, b.Positives)
	if err != nil {
		return nil, err
	}
	longest := max(dl, ll)
	var nTok [][]int32
	var nW [][]float32
	if kn > 0 {
		flat := make([]int32, 0, n*kn)
		slot := make([]int, 0, n*kn)
		for i, ns := range b.Negatives {
			for j, id := range ns {
				flat = append(flat, id)
				slot = append(slot, i*kn+j)
			}
		}
		ft, fw, nl, err := s.items(sdk.SplitLabels, flat)
		if err != nil {
			return nil, err
		}
		longest = max(longest, nl)
		nTok = make([][]int32, bc*kn)
		nW = make([][]float32, bc*kn)
		for i, sl := range slot {
			nTok[sl], nW[sl] = ft[i], fw[i]
		}
		in.negCount = len(flat)
	}
	a := &assembler{arch: s.arch, local: map[int32]int32{}, s: grow(&s.hiTrain.s, pow2(longest, 4, s.arch.MaxLen()))}
	in.docs = a.add(dTok, dW, bc)
	in.labs = a.add(lTok, lW, bc)
	if kn > 0 {
		in.negs = a.add(nTok, nW, bc*kn)
	}
	in.a = a
	in.u = grow(&s.hiTrain.u, pow2(len(a.rows), 16, 0))
	in.allow, in.valid = CandidateMask(s.ds.TrainY, s.filter, b, bc, kn)
	if s.cfg.Loss == "dsoftmax" {
		in.pos = PositiveMask(s.ds.TrainY, b, bc, kn)
	}
	if s.cfg.Dropout > 0 {
		// One generator per (seed, step): the masks need no saved RNG state.
		r := rand.New(rand.NewPCG(s.seed, uint64(s.opt.Step+1)))
		keep := float32(1 / (1 - s.cfg.Dropout))
		d := s.arch.Dim()
		mask := func(rows int) []float32 {
			m := make([]float32, rows*d)
			for i := range m {
				if r.Float64() >= s.cfg.Dropout {
					m[i] = keep
				}
			}
			return m
		}
		in.drop[0], in.drop[1] = mask(bc), mask(bc)
		if kn > 0 {
			in.drop[2] = mask(bc * kn)
		}
	}
	return in, nil
}

func (s *Service) gradients(b sdk.Batch) (Grads, error) {
	in, err := s.layout(b)
	if err != nil {
		return Grads{}, err
	}
	if ha, ok := s.hostArch(); ok {
		return s.hostGradients(in, ha)
	}
	if gc := s.cfg.GradCache; gc > 0 && in.bc > gc {
		return s.cachedGradients(in)
	}
	d := s.arch.Dim()
	bc, kn, c := in.bc, in.kn, in.bc+in.kn
	hasNeg, hasDrop := kn > 0, in.drop[0] != nil
	exec, err := s.trainExec(hasNeg, hasDrop)
	if err != nil {
		return Grads{}, err
	}
	sq := in.a.s
	args := s.paramTensors()
	args = append(args,
		tensors.FromFlatDataAndDimensions(s.gatherRows(in.a.rows, in.u), in.u, d),
		tensors.FromFlatDataAndDimensions(in.docs.idx, bc, sq), tensors.FromFlatDataAndDimensions(in.docs.w, bc, sq),
		tensors.FromFlatDataAndDimensions(in.labs.idx, bc, sq), tensors.FromFlatDataAndDimensions(in.labs.w, bc, sq))
	if hasNeg {
		args = append(args, tensors.FromFlatDataAndDimensions(in.negs.idx, bc*kn, sq), tensors.FromFlatDataAndDimensions(in.negs.w, bc*kn, sq))
	}
	args = append(args, tensors.FromFlatDataAndDimensions(in.allow, bc, c), tensors.FromFlatDataAndDimensions(in.valid, bc))
	if in.pos != nil {
		args = append(args, tensors.FromFlatDataAndDimensions(in.pos, bc, c))
	}
	if hasDrop {
		args = append(args, tensors.FromFlatDataAndDimensions(in.drop[0], bc, d), tensors.FromFlatDataAndDimensions(in.drop[1], bc, d))
		if hasNeg {
			args = append(args, tensors.FromFlatDataAndDimensions(in.drop[2], bc*kn, d))
		}
	}
	outs, err := exec.Exec(args...)
	if err != nil {
		return Grads{}, fmt.Errorf("encoder %s: train step: %w", s.name, err)
	}
	defer func() {
		for _, t := range outs {
			_ = t.FinalizeAll()
		}
	}()
	g := Grads{
		Loss:     float64(tensors.ToScalar[float32](outs[0])),
		Hardness: float64(tensors.ToScalar[float32](outs[1])),
		Items:    2*in.n + in.negCount,
		Emb:      tensors.MustCopyFlatData[float32](outs[2])[:in.n*d],
		Rows:     in.a.rows,
	}
	np := len(s.arch.Params())
	for i := range np {
		g.Params = append(g.Params, tensors.MustCopyFlatData[float32](outs[3+i]))
	}
	g.Table = tensors.MustCopyFlatData[float32](outs[3+np])[:len(in.a.rows)*d]
	return g, nil
}

func (s *Service) encodeExec() (*Exec, error) {
	if s.encode != nil {
		return s.encode, nil
	}
	np := len(s.arch.Params())
	e, err := NewExec(s.backend, func(in []*Node) *Node {
		s.compiles++
		return s.embed(in[:np], in[np], in[np+1], in[np+2])
	})
	if err != nil {
		return nil, err
	}
	e.SetMaxCache(-1)
	s.encode = e
	return e, nil
}

// CandidateMask builds the [bc, bc+kn] allow mask and the [bc] valid
// vector of a batch padded to bc rows and kn explicit negatives per row.
// Column j < bc (in-batch label of row j) is a negative for row i unless
// that label is one of doc i's positives in trainY, equals row i's own
// sampled positive (so repeated labels and the diagonal are excluded), or
// is a filtered train pair of doc i (filter: the reciprocal pairs of
// filter_labels_train.txt, a label that is the same entity as the
// document, e.g. a package and the label for that package); column bc+j
// is row i's j-th explicit negative under the same rule. Padding rows and
// columns are never allowed.
func CandidateMask(trainY *sparse.CSR, filter data.FilterSet, b sdk.Batch, bc, kn int) (allow, valid []float32) {
	n := len(b.Docs)
	c := bc + kn
	allow = make([]float32, bc*c)
	valid = make([]float32, bc)
	excluded := func(doc int32, own, lab int32) bool {
		return lab == own || trainY.Has(int(doc), lab) || filter.Has(doc, lab)
	}
	// In-batch columns by label: row i starts all allowed and then clears
	// the columns of its own positive, its doc's train labels and filtered
	// labels, so the cost is O(n·labels per doc) lookups instead of n² tests.
	cols := make(map[int32][]int32, n)
	for j, lab := range b.Positives {
		cols[lab] = append(cols[lab], int32(j))
	}
	for i := range n {
		valid[i] = 1
		doc := b.Docs[i]
		row := allow[i*c : i*c+n]
		for j := range row {
			row[j] = 1
		}
		clearLabel := func(lab int32) {
			for _, j := range cols[lab] {
				row[j] = 0
			}
		}
		clearLabel(b.Positives[i])
		ys, _ := trainY.Row(int(doc))
		for _, lab := range ys {
			clearLabel(lab)
		}
		for _, lab := range filter[doc] {
			clearLabel(lab)
		}
		if kn > 0 && b.Negatives != nil {
			for j, lab := range b.Negatives[i] {
				if !excluded(doc, b.Positives[i], lab) {
					allow[i*c+bc+j] = 1
				}
			}
		}
	}
	return allow, valid
}

// PositiveMask builds the [bc, bc+kn] mask of a row's further in-batch
// positives for the decoupled softmax: column j < n (j != i) is 1 when the
// label sampled for row j is a positive of doc i in trainY other than row
// i's own sampled label, counted once (only the first column holding that
// label). Explicit-negative and padding columns are 0.
func PositiveMask(trainY *sparse.CSR, b sdk.Batch, bc, kn int) []float32 {
	n := len(b.Docs)
	c := bc + kn
	out := make([]float32, bc*c)
	first := make(map[int32]int, n)
	for j := n - 1; j >= 0; j-- {
		first[b.Positives[j]] = j
	}
	for i := range n {
		doc := int(b.Docs[i])
		for j := range n {
			lab := b.Positives[j]
			if lab != b.Positives[i] && first[lab] == j && trainY.Has(doc, lab) {
				out[i*c+j] = 1
			}
		}
	}
	return out
}

// Encode implements sdk.Encoder.
func (s *Service) Encode(ctx context.Context, split sdk.Split, ids []int32) (m sdk.Matrix, err error) {
	defer gomlxkit.Recover(&err, "encoder "+s.name+": encode "+string(split))
	s.mu.Lock()
	defer s.mu.Unlock()
	switch split {
	case sdk.SplitTrain, sdk.SplitTest, sdk.SplitLabels:
	default:
		return m, fmt.Errorf("encoder %s: unknown split %q", s.name, split)
	}
	if ids == nil {
		ids = make([]int32, s.arch.NumItems(split))
		for i := range ids {
			ids[i] = int32(i)
		}
	}
	d := s.arch.Dim()
	out := make([]float32, len(ids)*d)
	if ha, ok := s.hostArch(); ok {
		return s.hostEncode(ctx, ha, split, ids, out)
	}
	exec, err := s.encodeExec()
	if err != nil {
		return m, err
	}
	eb := s.cfg.EncodeBatch
	for from := 0; from < len(ids); from += eb {
		if err := ctx.Err(); err != nil {
			return m, fmt.Errorf("%w: %w", sdk.ErrCanceled, err)
		}
		chunk := ids[from:min(from+eb, len(ids))]
		toks, ws, longest, err := s.items(split, chunk)
		if err != nil {
			return m, err
		}
		a := &assembler{arch: s.arch, local: map[int32]int32{}, s: grow(&s.hiEncode.s, pow2(longest, 4, s.arch.MaxLen()))}
		tb := a.add(toks, ws, eb)
		u := grow(&s.hiEncode.u, pow2(len(a.rows), 16, 0))
		args := append(s.paramTensors(),
			tensors.FromFlatDataAndDimensions(s.gatherRows(a.rows, u), u, d),
			tensors.FromFlatDataAndDimensions(tb.idx, eb, a.s), tensors.FromFlatDataAndDimensions(tb.w, eb, a.s))
		res, err := exec.Exec1(args...)
		if err != nil {
			return m, fmt.Errorf("encoder %s: encode: %w", s.name, err)
		}
		e := tensors.MustCopyFlatData[float32](res)
		_ = res.FinalizeAll()
		copy(out[from*d:], e[:len(chunk)*d])
	}
	return sdk.Matrix{Rows: len(ids), Cols: d, Data: out}, nil
}

// MemoryBank implements sdk.MemoryBanker: the training documents'
// embeddings from their latest training forward pass (zero rows for
// documents not seen yet).
func (s *Service) MemoryBank(ctx context.Context) (sdk.Matrix, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sdk.Matrix{Rows: len(s.bank) / s.arch.Dim(), Cols: s.arch.Dim(), Data: append([]float32(nil), s.bank...)}, nil
}

// Bucket exposes the shape rounding for tests.
func Bucket(n, lo, hi int) int { return pow2(n, lo, hi) }

// Dataset returns the dataset the service trains on.
func (s *Service) Dataset() *data.Dataset { return s.ds }

// Compiles returns how many graphs have been built so far: a ragged batch
// that fits the padded shapes must not add one.
func (s *Service) Compiles() int { s.mu.Lock(); defer s.mu.Unlock(); return s.compiles }
