package loss

import (
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive
	"github.com/xcbench/xcbench/encoders/gomlxkit"
)

// Output is what a loss returns: scalar nodes.
type Output struct {
	Loss     *Node
	Hardness *Node
}

// excludedScore is what disallowed candidates are replaced by, as in NGAME's
// TripletMarginLossOHNM (-10: below any cosine, so picked only when a row
// has fewer than k real negatives, and then its hinge is 0).
const excludedScore = -10

// TripletOHNM is NGAME's TripletMarginLossOHNM with loss_agressive: the k
// hardest allowed candidates per row, hinge ℓ = max(0, s_n − s_p + margin),
// weighted by softmax over the k of (s_n/τ)·1[ℓ>0] (non-violators at logit 0,
// weights not detached), averaged over rows × k.
func TripletOHNM(pos, cand, allow, valid *Node, k int, margin, tau float64) Output {
	g := cand.Graph()
	dt := cand.DType()
	k = min(k, cand.Shape().Dimensions[1])
	allowB := GreaterThan(allow, ScalarZero(g, dt))
	masked := Where(allowB, cand, Scalar(g, dt, excludedScore))
	sn, idx := gomlxkit.TopK(masked, k) // [B,k] scores and columns
	real := StopGradient(gomlxkit.TakeAlongRows(allow, idx))
	hinge := AddScalar(Sub(sn, InsertAxes(pos, 1)), margin)
	hinge = Max(hinge, ZerosLike(hinge))
	violates := StopGradient(ConvertDType(GreaterThan(hinge, ZerosLike(hinge)), dt))
	w := Softmax(Mul(DivScalar(sn, tau), violates), 1)
	v := InsertAxes(valid, 1)
	nValid := Max(ReduceAllSum(valid), ScalarOne(g, dt))
	l := Div(ReduceAllSum(Mul(Mul(hinge, w), v)), MulScalar(nValid, float64(k)))
	rv := Mul(real, v)
	hard := Div(ReduceAllSum(Mul(StopGradient(sn), rv)), Max(ReduceAllSum(rv), ScalarOne(g, dt)))
	return Output{Loss: l, Hardness: hard}
}

// InfoNCE is the softmax cross-entropy of the positive against all allowed
// candidates at temperature t: −log(e^{s_p/t} / (e^{s_p/t} + Σ e^{s_n/t})).
// Its hardness is the mean cosine over all allowed candidates.
func InfoNCE(pos, cand, allow, valid *Node, t float64) Output {
	g := cand.Graph()
	dt := cand.DType()
	allowB := GreaterThan(allow, ScalarZero(g, dt))
	// -1e4/t underflows exp() to exactly 0 without producing -Inf·0 = NaN.
	negLogits := Where(allowB, DivScalar(cand, t), Scalar(g, dt, -1e4/t))
	posLogit := DivScalar(pos, t)
	logits := Concatenate([]*Node{InsertAxes(posLogit, 1), negLogits}, 1)
	mx := StopGradient(ReduceMax(logits, 1))
	lse := Add(Log(ReduceSum(Exp(Sub(logits, InsertAxes(mx, 1))), 1)), mx)
	perRow := Sub(lse, posLogit)
	nValid := Max(ReduceAllSum(valid), ScalarOne(g, dt))
	l := Div(ReduceAllSum(Mul(perRow, valid)), nValid)
	av := Mul(allow, InsertAxes(valid, 1))
	hard := Div(ReduceAllSum(Mul(StopGradient(cand), av)), Max(ReduceAllSum(av), ScalarOne(g, dt)))
	return Output{Loss: l, Hardness: hard}
}

// DSoftmax is DEXML's decoupled softmax (Gupta et al., ICLR 2024): every
// positive of a document gets its own softmax cross-entropy over itself and
// the document's negatives only, the document's other positives masked out
// of the denominator, so positives never compete with each other:
// ℓ_p = −log(e^{s_p/t} / (e^{s_p/t} + Σ_n e^{s_n/t})) = softplus(LSE_n(s_n/t) − s_p/t).
// The positives of row i are its own sampled label (pos) and the candidate
// columns where posMask [B,C] is 1 (in-batch labels that are further
// positives of the document, each label once); the negatives are the
// allowed candidates. A row's loss is the mean over its positives, the
// batch's the mean over valid rows (so each document weighs the same, as in
// the other losses). With posMask all zero it equals InfoNCE. Its hardness
// is the mean cosine over the allowed candidates, as InfoNCE's.
func DSoftmax(pos, cand, allow, posMask, valid *Node, t float64) Output {
	g := cand.Graph()
	dt := cand.DType()
	allowB := GreaterThan(allow, ScalarZero(g, dt))
	z := DivScalar(cand, t)
	// -1e4/t underflows exp() to 0; a row without negatives then gets
	// LSE ≈ -1e4/t and each positive a loss of ≈ 0.
	negLogits := Where(allowB, z, Scalar(g, dt, -1e4/t))
	mx := StopGradient(ReduceMax(negLogits, 1))
	lse := Add(Log(ReduceSum(Exp(Sub(negLogits, InsertAxes(mx, 1))), 1)), mx) // [B]
	own := Softplus(Sub(lse, DivScalar(pos, t)))
	posB := GreaterThan(posMask, ScalarZero(g, dt))
	// Non-positive columns are replaced before Softplus so their gradient
	// is exactly 0 (a Mul by 0 after an overflowing softplus could give NaN).
	lseB := BroadcastToDims(InsertAxes(lse, 1), z.Shape().Dimensions...)
	zp := Where(posB, z, lseB)
	extra := Mul(Softplus(Sub(lseB, zp)), posMask)
	count := AddScalar(ReduceSum(posMask, 1), 1)
	perRow := Div(Add(own, ReduceSum(extra, 1)), count)
	nValid := Max(ReduceAllSum(valid), ScalarOne(g, dt))
	l := Div(ReduceAllSum(Mul(perRow, valid)), nValid)
	av := Mul(allow, InsertAxes(valid, 1))
	hard := Div(ReduceAllSum(Mul(StopGradient(cand), av)), Max(ReduceAllSum(av), ScalarOne(g, dt)))
	return Output{Loss: l, Hardness: hard}
}

// Scores computes pos [B] and cand [B, B(+K)] from L2-normalised document
// embeddings docs [B,D], label embeddings labels [B,D] (row i = doc i's
// positive) and optional explicit negatives negs [B,K,D] (nil = none).
func Scores(docs, labels, negs *Node) (pos, cand *Node) {
	pos = ReduceSum(Mul(docs, labels), 1)
	cand = DotGeneral(docs, []int{1}, nil, labels, []int{1}, nil) // [B,B]
	if negs != nil {
		// [B,D]·[B,K,D] with B as batch axis -> [B,K].
		own := DotGeneral(docs, []int{1}, []int{0}, negs, []int{2}, []int{0})
		cand = Concatenate([]*Node{cand, own}, 1)
	}
	return pos, cand
}
