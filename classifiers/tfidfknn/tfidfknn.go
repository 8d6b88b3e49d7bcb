package tfidfknn

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/core/sparse"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// Config selects the variant.
type Config struct {
	// K is the number of neighbours (default 10).
	K int `json:"k"`
	// Sublinear uses 1+ln(tf) instead of tf. Default() leaves it off, as
	// scikit-learn's TfidfVectorizer does; that reproduces the cooking anchor.
	Sublinear bool `json:"sublinear"`
	// IDF is "smooth" (ln((1+N)/(1+df))+1, scikit-learn's default), "plain"
	// (ln(N/df)+1) or "none".
	IDF string `json:"idf"`
	// Power raises neighbour similarities before summing (1 = plain sum).
	Power float64 `json:"power"`
}

// Default is the variant whose numbers are reported in the package tests.
func Default() Config { return Config{K: 10, Sublinear: false, IDF: "smooth", Power: 1} }

// Model holds the normalised training vectors and their inverted index.
type Model struct {
	cfg    Config
	ds     *data.Dataset
	idf    []float32
	train  *sparse.CSR // normalised tf-idf rows
	inv    *sparse.CSR // features x train docs
	labels *sparse.CSR // train docs x labels
}

// Fit builds the model with Default() and k neighbours.
func Fit(ds *data.Dataset, k int) (*Model, error) {
	c := Default()
	c.K = k
	return FitConfig(ds, c)
}

// FitConfig builds the model from ds.TrainX and ds.TrainY.
func FitConfig(ds *data.Dataset, c Config) (*Model, error) {
	if c.K <= 0 {
		return nil, fmt.Errorf("tfidfknn: k must be positive, got %d", c.K)
	}
	if c.Power == 0 {
		c.Power = 1
	}
	if ds.TrainX == nil || ds.TrainY == nil {
		return nil, fmt.Errorf("tfidfknn: dataset %q has no training features or labels", ds.Name)
	}
	x := ds.TrainX
	df := make([]float64, x.NCols)
	for k, j := range x.Indices {
		if x.Data[k] != 0 {
			df[j]++
		}
	}
	n := float64(x.NRows)
	idf := make([]float32, x.NCols)
	for j := range idf {
		switch c.IDF {
		case "smooth", "":
			idf[j] = float32(math.Log((1+n)/(1+df[j])) + 1)
		case "plain":
			if df[j] > 0 {
				idf[j] = float32(math.Log(n/df[j]) + 1)
			}
		case "none":
			idf[j] = 1
		default:
			return nil, fmt.Errorf("tfidfknn: unknown idf %q (want smooth, plain or none)", c.IDF)
		}
	}
	m := &Model{cfg: c, ds: ds, idf: idf, labels: ds.TrainY}
	m.train = m.Transform(x)
	m.inv = m.train.Transpose()
	return m, nil
}

// Config returns the variant in use.
func (m *Model) Config() Config { return m.cfg }

// Transform turns feature rows (same columns as the training features)
// into normalised tf-idf rows.
func (m *Model) Transform(x *sparse.CSR) *sparse.CSR {
	out := &sparse.CSR{NRows: x.NRows, NCols: x.NCols, Indptr: slices.Clone(x.Indptr),
		Indices: slices.Clone(x.Indices), Data: make([]float32, len(x.Data))}
	for i := 0; i < x.NRows; i++ {
		lo, hi := x.Indptr[i], x.Indptr[i+1]
		var ss float64
		for k := lo; k < hi; k++ {
			tf := float64(x.Data[k])
			if m.cfg.Sublinear && tf > 0 {
				tf = 1 + math.Log(tf)
			}
			var w float64
			if j := x.Indices[k]; int(j) < len(m.idf) {
				w = tf * float64(m.idf[j])
			}
			out.Data[k] = float32(w)
			ss += w * w
		}
		if ss > 0 {
			inv := float32(1 / math.Sqrt(ss))
			for k := lo; k < hi; k++ {
				out.Data[k] *= inv
			}
		}
	}
	return out
}

// PredictSplit predicts the dataset's train or test documents.
func (m *Model) PredictSplit(ctx context.Context, split sdk.Split, topK int) (sdk.TopK, error) {
	switch split {
	case sdk.SplitTest:
		return m.predict(ctx, m.Transform(m.ds.TestX), topK, false)
	case sdk.SplitTrain:
		return m.predict(ctx, m.train, topK, true)
	}
	return sdk.TopK{}, fmt.Errorf("tfidfknn: cannot predict split %q", split)
}

// Predict scores arbitrary feature rows (raw tf, the training columns).
func (m *Model) Predict(ctx context.Context, x *sparse.CSR, topK int) (sdk.TopK, error) {
	if x.NCols > m.train.NCols {
		return sdk.TopK{}, fmt.Errorf("tfidfknn: %d feature columns, model has %d", x.NCols, m.train.NCols)
	}
	return m.predict(ctx, m.Transform(x), topK, false)
}

type scored struct {
	id int32
	s  float32
}

// ranksBefore is the order of every ranking here: score descending, then
// id ascending. It is total over distinct ids, so the k best under it are
// one set however they are found.
func ranksBefore(a, b scored) bool {
	if c := cmp.Compare(a.s, b.s); c != 0 {
		return c > 0
	}
	return a.id < b.id
}

// compareScored is ranksBefore as a sort comparator.
func compareScored(a, b scored) int {
	if c := cmp.Compare(b.s, a.s); c != 0 {
		return c
	}
	return cmp.Compare(a.id, b.id)
}

// bestK selects the k best of a stream of candidates (ranksBefore order)
// with a bounded heap whose root is the worst kept one, so a candidate
// costs one comparison unless it enters: O(n log k) for n candidates
// instead of sorting all n.
type bestK struct {
	k int
	h []scored
}

func (t *bestK) reset(k int) { t.k, t.h = k, t.h[:0] }

// offer considers one candidate.
func (t *bestK) offer(c scored) {
	if len(t.h) < t.k {
		t.h = append(t.h, c)
		// sift up: a parent must rank after (be worse than) its children.
		i := len(t.h) - 1
		for i > 0 {
			p := (i - 1) / 2
			if !ranksBefore(t.h[p], t.h[i]) {
				break
			}
			t.h[p], t.h[i] = t.h[i], t.h[p]
			i = p
		}
		return
	}
	if !ranksBefore(c, t.h[0]) {
		return
	}
	t.h[0] = c
	i, n := 0, len(t.h)
	for {
		w := i
		if l := 2*i + 1; l < n && ranksBefore(t.h[w], t.h[l]) {
			w = l
		}
		if r := 2*i + 2; r < n && ranksBefore(t.h[w], t.h[r]) {
			w = r
		}
		if w == i {
			return
		}
		t.h[i], t.h[w] = t.h[w], t.h[i]
		i = w
	}
}

// sorted returns the kept candidates, best first.
func (t *bestK) sorted() []scored {
	slices.SortFunc(t.h, compareScored)
	return t.h
}

// worker holds one goroutine's scratch space, reused across queries: a
// dense similarity accumulator over training documents and one over
// labels, each with the list of entries it touched so that resetting
// costs what the query touched, not the training set or label count.
type worker struct {
	sim, lscore []float32
	touched     []int32
	seenL       []int32
	nbrs, labs  bestK
}

func (m *Model) predict(ctx context.Context, q *sparse.CSR, topK int, leaveOut bool) (sdk.TopK, error) {
	if topK <= 0 {
		return sdk.TopK{}, fmt.Errorf("tfidfknn: top-k must be positive, got %d", topK)
	}
	out := sdk.TopK{Rows: q.NRows, K: topK, Labels: make([]int32, q.NRows*topK), Scores: make([]float32, q.NRows*topK)}
	const block = 256
	nblocks := (q.NRows + block - 1) / block
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Go(func() {
			wk := &worker{sim: make([]float32, m.train.NRows), lscore: make([]float32, m.labels.NCols)}
			for b := range next {
				for i := b * block; i < min(q.NRows, (b+1)*block); i++ {
					rl, rs := out.Row(i)
					m.predictRow(wk, q, i, leaveOut, topK, rl, rs)
				}
			}
		})
	}
	var err error
	for b := 0; b < nblocks; b++ {
		if err = ctx.Err(); err != nil {
			break
		}
		next <- b
	}
	close(next)
	wg.Wait()
	if err != nil {
		return sdk.TopK{}, fmt.Errorf("tfidfknn: %w", err)
	}
	return out, nil
}

// predictRow fills query i's top labels (rl, rs; -1/0 past the labels
// found). Similarities sum in the query's feature order and label scores
// in neighbour rank order, so results do not depend on the worker.
func (m *Model) predictRow(wk *worker, q *sparse.CSR, i int, leaveOut bool, topK int, rl []int32, rs []float32) {
	// Accumulate dot products through the inverted index (CSR x CSC with
	// a dense accumulator). Scanning the whole accumulator instead of the
	// touched list was slower even for queries touching most documents
	// (cooking, debdeps), so the touched list is always used.
	sim := wk.sim
	cols, vals := q.Row(i)
	postings := 0
	for _, f := range cols {
		if int(f) < m.inv.NRows {
			postings += m.inv.RowLen(int(f))
		}
	}
	// Every posting writes its document at the end of touched, and only a
	// first hit advances the end: no branch to mispredict in the hot loop.
	// A document can be listed twice if its sum returns to exactly 0; the
	// second time it reads 0 and is skipped below.
	touched := wk.touched
	if cap(touched) < postings {
		touched = make([]int32, postings)
	}
	touched = touched[:cap(touched)]
	nt := 0
	for k, f := range cols {
		if int(f) >= m.inv.NRows {
			continue
		}
		v := vals[k]
		docs, dv := m.inv.Row(int(f))
		dv = dv[:len(docs)]
		for d, doc := range docs {
			s := sim[doc]
			touched[nt] = doc
			if s == 0 {
				nt++
			}
			sim[doc] = s + v*dv[d]
		}
	}
	touched = touched[:nt]
	nb := &wk.nbrs
	nb.reset(m.cfg.K)
	for _, d := range touched {
		// s > 0 also drops NaN; a score below the worst kept one cannot
		// enter, which spares most candidates the call into the heap.
		if s := sim[d]; s > 0 && !(leaveOut && int(d) == i) && (len(nb.h) < nb.k || s >= nb.h[0].s) {
			nb.offer(scored{d, s})
		}
		sim[d] = 0
	}
	wk.touched = touched[:0]
	lscore := wk.lscore
	seenL := wk.seenL[:0]
	for _, n := range nb.sorted() {
		w := n.s
		if m.cfg.Power != 1 {
			w = float32(math.Pow(float64(w), m.cfg.Power))
		}
		ls, _ := m.labels.Row(int(n.id))
		for _, l := range ls {
			if lscore[l] == 0 {
				seenL = append(seenL, l)
			}
			lscore[l] += w
		}
	}
	lb := &wk.labs
	lb.reset(topK)
	for _, l := range seenL {
		lb.offer(scored{l, lscore[l]})
		lscore[l] = 0
	}
	wk.seenL = seenL
	labs := lb.sorted()
	for j := range rl {
		if j < len(labs) {
			rl[j], rs[j] = labs[j].id, labs[j].s
		} else {
			rl[j], rs[j] = -1, 0
		}
	}
}
