package gomlxkit

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // graph DSL reads better unqualified
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// DotAxes are the axis lists of a DotGeneral node.
type DotAxes struct {
	LhsContracting, LhsBatch, RhsContracting, RhsBatch []int
}

// dotGeneralRe matches nodeInputsDotGeneral.String() in gomlx v0.26.0
// (gen_backend_ops.go). The fields are private, so the string is the only
// way to read them; TestParseDotGeneralAxes pins the format.
var dotGeneralRe = regexp.MustCompile(`DotGeneral\(lhs=\[#\d+\], lhsContractingAxes=\[([\d ]*)\], lhsBatchAxes=\[([\d ]*)\], rhs=\[#\d+\], rhsContractingAxes=\[([\d ]*)\], rhsBatchAxes=\[([\d ]*)\]\)`)

// ParseDotGeneralAxes reads the axes of a DotGeneral node from its String().
func ParseDotGeneralAxes(node *Node) (DotAxes, error) {
	s := node.String()
	m := dotGeneralRe.FindStringSubmatch(s)
	if m == nil {
		return DotAxes{}, fmt.Errorf("gomlxkit: cannot parse DotGeneral axes from %q (gomlx String() format changed?)", s)
	}
	var lists [4][]int
	for i := range lists {
		for _, f := range strings.Fields(m[i+1]) {
			v, err := strconv.Atoi(f)
			if err != nil {
				return DotAxes{}, fmt.Errorf("gomlxkit: axis %q in %q: %w", f, s, err)
			}
			lists[i] = append(lists[i], v)
		}
	}
	return DotAxes{LhsContracting: lists[0], LhsBatch: lists[1], RhsContracting: lists[2], RhsBatch: lists[3]}, nil
}

var (
	installOnce sync.Once
	stockDot    VJP
	stockDotGen VJP
)

// InstallFastMatmulGrads replaces the gradients of NodeTypeDot and
// NodeTypeDotGeneral in graph.VJPRegistration with GEMM-shaped rules. The
// stock v0.26.0 rules compute ReduceSum(Mul(broadcast v, broadcast other)),
// which XLA fuses but simplego executes literally as an M×K×N tensor
// (a [1024,128,1024] temporary for a B=1024 similarity matrix). Idempotent;
// call before building graphs (VJPRegistration is an unguarded map).
func InstallFastMatmulGrads() {
	installOnce.Do(func() {
		stockDot, stockDotGen = VJPRegistration[NodeTypeDot], VJPRegistration[NodeTypeDotGeneral]
		VJPRegistration[NodeTypeDotGeneral] = fastDotGeneralVJP
		VJPRegistration[NodeTypeDot] = fastDotVJP
	})
}

func crossAxes(rank int, contracting, batch []int) []int {
	used := make([]bool, rank)
	for _, a := range contracting {
		used[a] = true
	}
	for _, a := range batch {
		used[a] = true
	}
	var out []int
	for a := range rank {
		if !used[a] {
			out = append(out, a)
		}
	}
	return out
}

// gradOperand computes the gradient of one DotGeneral operand ("this") as a
// DotGeneral of v with the other operand, then transposes it to this's axis
// order. vThisCross/vOtherCross are the positions of each side's free axes
// in v (output layout: batch, lhs free, rhs free).
func gradOperand(v, other *Node, nb int, vOtherCross []int, otherCross, otherBatch, otherContracting,
	thisBatch, thisCross, thisContracting []int, thisRank int) *Node {
	vBatch := make([]int, nb)
	for i := range vBatch {
		vBatch[i] = i
	}
	g := DotGeneral(v, vOtherCross, vBatch, other, otherCross, otherBatch)
	// g layout: [batch..., this free (in v order = thisCross)..., other's
	// remaining axes = otherContracting sorted ascending].
	pos := make([]int, thisRank)
	for i, a := range thisBatch {
		pos[a] = i
	}
	for i, a := range thisCross {
		pos[a] = nb + i
	}
	sortedOther := slices.Clone(otherContracting)
	slices.Sort(sortedOther)
	for m, oa := range sortedOther {
		j := slices.Index(otherContracting, oa)
		pos[thisContracting[j]] = nb + len(thisCross) + m
	}
	identity := true
	for i, p := range pos {
		if i != p {
			identity = false
		}
	}
	if identity {
		return g
	}
	return TransposeAllAxes(g, pos...)
}

func fastDotGeneralVJP(node *Node, vjpOutputs []*Node, _ shapes.Shape) []*Node {
	ax, err := ParseDotGeneralAxes(node)
	if err != nil {
		panic(err)
	}
	in := node.Inputs()
	lhs, rhs := in[0], in[1]
	v := vjpOutputs[0]
	lCross := crossAxes(lhs.Rank(), ax.LhsContracting, ax.LhsBatch)
	rCross := crossAxes(rhs.Rank(), ax.RhsContracting, ax.RhsBatch)
	nb := len(ax.LhsBatch)
	vL := make([]int, len(lCross))
	for i := range vL {
		vL[i] = nb + i
	}
	vR := make([]int, len(rCross))
	for i := range vR {
		vR[i] = nb + len(lCross) + i
	}
	dL := gradOperand(v, rhs, nb, vR, rCross, ax.RhsBatch, ax.RhsContracting, ax.LhsBatch, lCross, ax.LhsContracting, lhs.Rank())
	dR := gradOperand(v, lhs, nb, vL, lCross, ax.LhsBatch, ax.LhsContracting, ax.RhsBatch, rCross, ax.RhsContracting, rhs.Rank())
	return []*Node{dL, dR}
}

func fastDotVJP(node *Node, vjpOutputs []*Node, _ shapes.Shape) []*Node {
	in := node.Inputs()
	a, b := in[0], in[1]
	v := vjpOutputs[0]
	switch {
	case a.Rank() == 1 && b.Rank() == 1:
		return []*Node{Mul(v, b), Mul(v, a)}
	case a.Rank() == 2 && b.Rank() == 1: // [i,j]·[j] -> [i]
		return []*Node{
			Mul(InsertAxes(v, -1), InsertAxes(b, 0)), // outer product, no reduction
			DotGeneral(a, []int{0}, nil, v, []int{0}, nil),
		}
	case a.Rank() == 1 && b.Rank() == 2: // [j]·[j,k] -> [k]
		return []*Node{
			DotGeneral(b, []int{1}, nil, v, []int{0}, nil),
			Mul(InsertAxes(a, -1), InsertAxes(v, 0)),
		}
	case a.Rank() == 2 && b.Rank() == 2: // [i,j]·[j,k] -> [i,k]
		return []*Node{
			DotGeneral(v, []int{1}, nil, b, []int{1}, nil),
			DotGeneral(a, []int{0}, nil, v, []int{0}, nil),
		}
	}
	panic(fmt.Errorf("gomlxkit: Dot of ranks %d and %d has no gradient rule", a.Rank(), b.Rank()))
}

// WithStockMatmulGrads runs fn (which builds graphs) with gomlx's original
// matmul gradients, so tests of whole models can compare both rules. Not
// safe to call concurrently with other graph building.
func WithStockMatmulGrads(fn func()) {
	InstallFastMatmulGrads()
	VJPRegistration[NodeTypeDot], VJPRegistration[NodeTypeDotGeneral] = stockDot, stockDotGen
	defer func() {
		VJPRegistration[NodeTypeDot], VJPRegistration[NodeTypeDotGeneral] = fastDotVJP, fastDotGeneralVJP
	}()
	fn()
}
