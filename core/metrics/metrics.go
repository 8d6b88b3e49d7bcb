package metrics

import (
	"cmp"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/core/sparse"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// InvPropensity is pyxclib's compute_inv_propesity: with N train rows and
// N_l train occurrences of label l, C = (ln N − 1)(B+1)^A and
// w_l = 1 + C (N_l + B)^−A.
func InvPropensity(trainY *sparse.CSR, a, b float64) []float64 {
	n := float64(trainY.NRows)
	c := (math.Log(n) - 1) * math.Pow(b+1, a)
	freq := make([]float64, trainY.NCols)
	for k, j := range trainY.Indices {
		freq[j] += float64(trainY.Data[k])
	}
	w := make([]float64, len(freq))
	for l, f := range freq {
		w[l] = 1 + c*math.Pow(f+b, -a)
	}
	return w
}

// Result holds metric values in [0, 1]; each slice is aligned with K.
// PSP and PSnDCG are nil when no propensities were given.
type Result struct {
	K      []int
	Rows   int
	P      []float64
	NDCG   []float64
	PSP    []float64
	PSNDCG []float64
	// Recall is pyxclib's recall(): hits in top-k / |y|, rows with no true
	// labels dividing by 1 (so they count as 0), averaged over all rows.
	Recall []float64
}

// Metric names used by Get, Map and Table.
var Names = []string{"P", "nDCG", "PSP", "PSnDCG", "R"}

func (r Result) series(name string) []float64 {
	switch name {
	case "P":
		return r.P
	case "nDCG":
		return r.NDCG
	case "PSP":
		return r.PSP
	case "PSnDCG":
		return r.PSNDCG
	case "R", "Recall":
		return r.Recall
	}
	return nil
}

// Get returns metric@k, e.g. Get("PSP", 5).
func (r Result) Get(name string, k int) (float64, bool) {
	s := r.series(name)
	i := slices.Index(r.K, k)
	if s == nil || i < 0 {
		return 0, false
	}
	return s[i], true
}

// Map flattens the result to {"P@1": 0.57, ...}.
func (r Result) Map() map[string]float64 {
	m := map[string]float64{}
	for _, n := range Names {
		for i, k := range r.K {
			if s := r.series(n); s != nil {
				m[fmt.Sprintf("%s@%d", n, k)] = s[i]
			}
		}
	}
	return m
}

// Table returns a header and one row per metric, values in percent with
// two decimals, ready for tablewriter.
func (r Result) Table() (header []string, rows [][]string) {
	header = []string{"metric"}
	for _, k := range r.K {
		header = append(header, fmt.Sprintf("@%d", k))
	}
	for _, n := range Names {
		s := r.series(n)
		if s == nil {
			continue
		}
		row := []string{n}
		for _, v := range s {
			row = append(row, fmt.Sprintf("%.2f", 100*v))
		}
		rows = append(rows, row)
	}
	return header, rows
}

// String renders "P@1=57.73 P@3=35.24 ..." for logs.
func (r Result) String() string {
	var b strings.Builder
	for _, n := range Names {
		s := r.series(n)
		for i, k := range r.K {
			if s != nil {
				fmt.Fprintf(&b, "%s@%d=%.2f ", n, k, 100*s[i])
			}
		}
	}
	return strings.TrimSpace(b.String())
}

// chunk is the unit of parallel work; partial sums are combined in chunk
// order so results do not depend on the number of workers.
const chunk = 2048

// sums accumulates per-k totals over rows.
type sums struct {
	p, ndcg, psp, psIdeal, psndcg, psndcgIdeal, recall []float64
}

func newSums(n int) sums {
	return sums{make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n),
		make([]float64, n), make([]float64, n), make([]float64, n)}
}

func (s sums) add(o sums) {
	for i := range s.p {
		s.p[i] += o.p[i]
		s.ndcg[i] += o.ndcg[i]
		s.psp[i] += o.psp[i]
		s.psIdeal[i] += o.psIdeal[i]
		s.psndcg[i] += o.psndcg[i]
		s.psndcgIdeal[i] += o.psndcgIdeal[i]
		s.recall[i] += o.recall[i]
	}
}

// Evaluate scores pred against truth (rows x labels). filter lists
// reciprocal pairs to drop from the predictions; invProp (one weight per
// label, see InvPropensity) enables PSP and PSnDCG; ks are the cut-offs
// (k may exceed K or a row's length: missing ranks count as misses).
// MaxK bounds the cut-offs: evaluation holds rows x k predictions, and no
// XC metric is reported beyond a few hundred.
const MaxK = 1000

func Evaluate(pred sdk.TopK, truth *sparse.CSR, filter []data.Pair, invProp []float64, ks []int) (Result, error) {
	if pred.Rows != truth.NRows {
		return Result{}, fmt.Errorf("metrics: %d prediction rows vs %d truth rows", pred.Rows, truth.NRows)
	}
	if len(pred.Labels) != pred.Rows*pred.K || len(pred.Scores) != len(pred.Labels) {
		return Result{}, fmt.Errorf("metrics: top-k has %d labels and %d scores for %d rows x %d", len(pred.Labels), len(pred.Scores), pred.Rows, pred.K)
	}
	if invProp != nil && len(invProp) != truth.NCols {
		return Result{}, fmt.Errorf("metrics: %d propensities for %d labels", len(invProp), truth.NCols)
	}
	if len(ks) == 0 {
		return Result{}, fmt.Errorf("metrics: no k given")
	}
	kmax := 0
	for _, k := range ks {
		if k <= 0 || k > MaxK {
			return Result{}, fmt.Errorf("metrics: k must be in 1..%d, got %d", MaxK, k)
		}
		kmax = max(kmax, k)
	}
	fs := data.NewFilterSet(filter)
	// log discounts and the largest true-row size decide IDCG tables.
	disc := make([]float64, kmax)
	for r := range disc {
		disc[r] = 1 / math.Log2(float64(r)+2)
	}
	maxPos := kmax
	for i := 0; i < truth.NRows; i++ {
		maxPos = max(maxPos, truth.RowLen(i))
	}
	idcg := make([]float64, maxPos) // idcg[n-1] = Σ_{r<n} 1/log2(r+2)
	acc := 0.0
	for r := range idcg {
		acc += 1 / math.Log2(float64(r)+2)
		idcg[r] = acc
	}

	nchunks := (truth.NRows + chunk - 1) / chunk
	parts := make([]sums, nchunks)
	errs := make([]error, nchunks)
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Go(func() {
			ev := evaluator{pred: pred, truth: truth, fs: fs, w: invProp, kmax: kmax, disc: disc, idcg: idcg}
			for c := range next {
				parts[c], errs[c] = ev.rows(c*chunk, min(truth.NRows, (c+1)*chunk))
			}
		})
	}
	for c := 0; c < nchunks; c++ {
		next <- c
	}
	close(next)
	wg.Wait()
	total := newSums(kmax)
	for c := range parts {
		if errs[c] != nil {
			return Result{}, errs[c]
		}
		total.add(parts[c])
	}

	n := float64(truth.NRows)
	res := Result{K: slices.Clone(ks), Rows: truth.NRows}
	ratio := func(a, b float64) float64 {
		if b == 0 {
			return 0 // no relevant label anywhere: pyxclib would divide 0/0
		}
		return a / b
	}
	for _, k := range ks {
		i := k - 1
		if n == 0 {
			res.P, res.NDCG, res.Recall = append(res.P, 0), append(res.NDCG, 0), append(res.Recall, 0)
			continue
		}
		res.P = append(res.P, total.p[i]/n)
		res.NDCG = append(res.NDCG, total.ndcg[i]/n)
		res.Recall = append(res.Recall, total.recall[i]/n)
		if invProp != nil {
			res.PSP = append(res.PSP, ratio(total.psp[i], total.psIdeal[i]))
			res.PSNDCG = append(res.PSNDCG, ratio(total.psndcg[i], total.psndcgIdeal[i]))
		}
	}
	return res, nil
}

// Rows holds per-document scores at one cut-off k, in the terms of the
// corpus metrics: P@k and nDCG@k are means of P and NDCG over rows; PSP@k is
// sum(PSP) / sum(PSPIdeal) (pyxclib normalises by the ideal over all rows,
// so it is a ratio of sums, not a mean of ratios). PSP and PSPIdeal are
// nil without propensities. Paired comparisons resample these rows.
type Rows struct {
	P, NDCG, PSP, PSPIdeal []float64
}

// PerRow scores each row at cut-off k exactly as Evaluate does over all
// rows (same filtering, ties and discounts): mean(P) equals Evaluate's
// P@k, and so on.
func PerRow(pred sdk.TopK, truth *sparse.CSR, filter []data.Pair, invProp []float64, k int) (Rows, error) {
	if pred.Rows != truth.NRows {
		return Rows{}, fmt.Errorf("metrics: %d prediction rows vs %d truth rows", pred.Rows, truth.NRows)
	}
	if k <= 0 || k > MaxK {
		return Rows{}, fmt.Errorf("metrics: k must be in 1..%d, got %d", MaxK, k)
	}
	if invProp != nil && len(invProp) != truth.NCols {
		return Rows{}, fmt.Errorf("metrics: %d propensities for %d labels", len(invProp), truth.NCols)
	}
	disc := make([]float64, k)
	for r := range disc {
		disc[r] = 1 / math.Log2(float64(r)+2)
	}
	maxPos := k
	for i := 0; i < truth.NRows; i++ {
		maxPos = max(maxPos, truth.RowLen(i))
	}
	idcg := make([]float64, maxPos)
	acc := 0.0
	for r := range idcg {
		acc += 1 / math.Log2(float64(r)+2)
		idcg[r] = acc
	}
	ev := evaluator{pred: pred, truth: truth, fs: data.NewFilterSet(filter), w: invProp, kmax: k, disc: disc, idcg: idcg,
		flags: make([]float64, k), wflags: make([]float64, k), ideal: make([]float64, k)}
	out := Rows{P: make([]float64, truth.NRows), NDCG: make([]float64, truth.NRows)}
	if invProp != nil {
		out.PSP, out.PSPIdeal = make([]float64, truth.NRows), make([]float64, truth.NRows)
	}
	s := newSums(k)
	for i := 0; i < truth.NRows; i++ {
		for _, v := range [][]float64{s.p, s.ndcg, s.psp, s.psIdeal, s.psndcg, s.psndcgIdeal, s.recall} {
			clear(v)
		}
		if err := ev.row(i, s); err != nil {
			return Rows{}, err
		}
		out.P[i], out.NDCG[i] = s.p[k-1], s.ndcg[k-1]
		if invProp != nil {
			out.PSP[i], out.PSPIdeal[i] = s.psp[k-1], s.psIdeal[k-1]
		}
	}
	return out, nil
}

type evaluator struct {
	pred       sdk.TopK
	truth      *sparse.CSR
	fs         data.FilterSet
	w          []float64
	kmax       int
	disc, idcg []float64
	cand       []cand
	flags      []float64
	wflags     []float64
	ideal      []float64
	ws         []float64
}

type cand struct {
	l int32
	s float32
}

// rows accumulates rows [lo, hi).
func (e *evaluator) rows(lo, hi int) (sums, error) {
	s := newSums(e.kmax)
	e.flags = make([]float64, e.kmax)
	e.wflags = make([]float64, e.kmax)
	e.ideal = make([]float64, e.kmax)
	for i := lo; i < hi; i++ {
		if err := e.row(i, s); err != nil {
			return s, err
		}
	}
	return s, nil
}

func (e *evaluator) row(i int, s sums) error {
	labs, scores := e.pred.Row(i)
	e.cand = e.cand[:0]
	for j, l := range labs {
		if l < 0 {
			continue
		}
		if int(l) >= e.truth.NCols {
			return fmt.Errorf("metrics: row %d: predicted label %d >= %d labels", i, l, e.truth.NCols)
		}
		if e.fs != nil && (scores[j] == 0 || e.fs.Has(int32(i), l)) {
			continue
		}
		e.cand = append(e.cand, cand{l, scores[j]})
	}
	// Sort by label first (a CSR row's order), then stably by score.
	slices.SortFunc(e.cand, func(a, b cand) int { return int(a.l) - int(b.l) })
	for j := 1; j < len(e.cand); j++ {
		if e.cand[j].l == e.cand[j-1].l {
			return fmt.Errorf("metrics: row %d: label %d predicted twice", i, e.cand[j].l)
		}
	}
	slices.SortStableFunc(e.cand, func(a, b cand) int { return cmp.Compare(b.s, a.s) })

	tcols, tvals := e.truth.Row(i)
	npos := len(tcols)
	tsum := 0.0
	for _, v := range tvals {
		tsum += float64(v)
	}
	clear(e.flags)
	clear(e.wflags)
	for r := 0; r < e.kmax && r < len(e.cand); r++ {
		l := e.cand[r].l
		j, ok := slices.BinarySearch(tcols, l)
		if !ok {
			continue
		}
		e.flags[r] = float64(tvals[j])
		if e.w != nil {
			e.wflags[r] = e.w[l] * float64(tvals[j])
		}
	}
	// n = IDCG(|y|); for an empty row pyxclib indexes _cumsum[-1], which
	// only scales a zero DCG, so any positive value gives the same 0.
	nIdcg := e.idcg[len(e.idcg)-1]
	if npos > 0 {
		nIdcg = e.idcg[npos-1]
	}
	rdeno := 1.0
	if tsum != 0 {
		rdeno = tsum
	}
	var cum, dcg, wcum, wdcg, icum, idcgw float64
	if e.w != nil {
		clear(e.ideal)
		// Ideal ranking: true labels ordered by weighted value, best first.
		ws := e.ws[:0]
		for j, c := range tcols {
			ws = append(ws, e.w[c]*float64(tvals[j]))
		}
		e.ws = ws
		slices.SortFunc(ws, func(a, b float64) int {
			switch {
			case a > b:
				return -1
			case a < b:
				return 1
			}
			return 0
		})
		copy(e.ideal, ws)
	}
	for r := 0; r < e.kmax; r++ {
		cum += e.flags[r]
		dcg += e.flags[r] * e.disc[r]
		norm := min(nIdcg, e.idcg[r])
		s.p[r] += cum / float64(r+1)
		s.ndcg[r] += dcg / norm
		s.recall[r] += cum / rdeno
		if e.w != nil {
			wcum += e.wflags[r]
			wdcg += e.wflags[r] * e.disc[r]
			icum += e.ideal[r]
			idcgw += e.ideal[r] * e.disc[r]
			s.psp[r] += wcum / float64(r+1)
			s.psIdeal[r] += icum / float64(r+1)
			s.psndcg[r] += wdcg / norm
			s.psndcgIdeal[r] += idcgw / norm
		}
	}
	return nil
}
