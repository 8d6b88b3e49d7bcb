package ann

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/xcbench/xcbench/core/ann/vecdot"
)

// HNSW is a hierarchical navigable small-world graph (Malkov & Yashunin)
// over cosine similarity. Internal node i is the i-th non-zero input row.
type HNSW struct {
	vecs     []float32
	ids      []int32
	dim      int
	m, m0    int
	efSearch int
	threads  int

	level    []int8
	links0   []int32 // node i's layer-0 list: links0[i*m0 : i*m0+cnt0[i]]
	cnt0     []int32
	up       [][]int32 // node i's layer l>=1 list: up[i][(l-1)*m : (l-1)*m+upCnt[i][l-1]]
	upCnt    [][]int32
	entry    int32
	maxLevel int
	pool     sync.Pool // *searcher
}

// maxBatch caps the nodes inserted against one frozen graph. Measured at
// 20k x 128: recall@10 is the same with batches of 1 and of 512 (0.814 vs
// 0.818 at efSearch 64 on the hardest data), so batching costs no recall.
var maxBatch = 512

// maxHNSWLevel bounds node levels; with M >= 2 reaching it is vanishingly rare.
const maxHNSWLevel = 24

func dot(a, b []float32) float32 { return vecdot.Dot(a, b) }

// BuildHNSW indexes n row-major vectors. Node levels come from cfg.Seed and
// nodes are inserted in batches that search the graph as it stood before
// the batch (in parallel) and are then linked in a fixed order, so the graph
// is identical for a seed whatever cfg.Threads is.
func BuildHNSW(ctx context.Context, cfg Config, vecs []float32, n, dim int) (*HNSW, error) {
	cfg = cfg.withDefaults()
	if err := checkShape(vecs, n, dim, "vectors"); err != nil {
		return nil, err
	}
	if cfg.M < 2 {
		return nil, fmt.Errorf("ann: hnsw M = %d, want >= 2", cfg.M)
	}
	v, ids := normalized(vecs, n, dim)
	h := &HNSW{vecs: v, ids: ids, dim: dim, m: cfg.M, m0: 2 * cfg.M, efSearch: cfg.EfSearch, threads: cfg.Threads}
	N := len(ids)
	h.level = make([]int8, N)
	h.links0 = make([]int32, N*h.m0)
	h.cnt0 = make([]int32, N)
	h.up = make([][]int32, N)
	h.upCnt = make([][]int32, N)
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x686e7377)) // "hnsw"
	mL := 1 / math.Log(float64(cfg.M))
	for i := range N {
		u := 1 - rng.Float64() // (0, 1]
		l := min(int(-math.Log(u)*mL), maxHNSWLevel)
		h.level[i] = int8(l)
		if l > 0 {
			h.up[i] = make([]int32, l*h.m)
			h.upCnt[i] = make([]int32, l)
		}
	}
	if N == 0 {
		h.entry = -1
		return h, nil
	}
	h.entry, h.maxLevel = 0, int(h.level[0])
	b := &builder{h: h, efC: cfg.EfConstruction, threads: cfg.Threads}
	for done := 1; done < N; {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("ann: hnsw build: %w", err)
		}
		// Batches grow with the graph so that a batch is a small fraction
		// of it: nodes of one batch do not see each other while searching.
		bs := min(max(done/16, 1), maxBatch, N-done)
		b.insertBatch(done, done+bs)
		done += bs
	}
	return h, nil
}

// Len is the number of non-zero vectors indexed.
func (h *HNSW) Len() int { return len(h.ids) }

// Dim is the vector width.
func (h *HNSW) Dim() int { return h.dim }

func (h *HNSW) vec(i int32) []float32 { return h.vecs[int(i)*h.dim : (int(i)+1)*h.dim] }

func (h *HNSW) neighbors(i int32, l int) []int32 {
	if l == 0 {
		o := int(i) * h.m0
		return h.links0[o : o+int(h.cnt0[i])]
	}
	o := (l - 1) * h.m
	return h.up[i][o : o+int(h.upCnt[i][l-1])]
}

func (h *HNSW) setNeighbors(i int32, l int, nb []int32) {
	if l == 0 {
		o := int(i) * h.m0
		h.cnt0[i] = int32(copy(h.links0[o:o+h.m0], nb))
		return
	}
	o := (l - 1) * h.m
	h.upCnt[i][l-1] = int32(copy(h.up[i][o:o+h.m], nb))
}

func (h *HNSW) capacity(l int) int {
	if l == 0 {
		return h.m0
	}
	return h.m
}

// cand is a node with its similarity to the current query.
type cand struct {
	s  float32
	id int32
}

// searcher holds one goroutine's scratch space.
type searcher struct {
	visited []uint32
	gen     uint32
	cands   []cand // max-heap on s
	res     []cand // min-heap on s
	out     []cand
	eps     []cand
}

func newSearcher(n int) *searcher { return &searcher{visited: make([]uint32, n)} }

// getSearcher reuses the scratch of an earlier Search: a fresh visited
// array per call would cost an n-sized allocation and clear for callers
// that search a few queries at a time.
func (h *HNSW) getSearcher() *searcher {
	if sr, ok := h.pool.Get().(*searcher); ok {
		return sr
	}
	return newSearcher(len(h.ids))
}

func (sr *searcher) nextGen() {
	sr.gen++
	if sr.gen == 0 {
		clear(sr.visited)
		sr.gen = 1
	}
}

func pushMax(hp []cand, c cand) []cand {
	hp = append(hp, c)
	i := len(hp) - 1
	for i > 0 {
		p := (i - 1) / 2
		if hp[p].s >= hp[i].s {
			break
		}
		hp[p], hp[i] = hp[i], hp[p]
		i = p
	}
	return hp
}

func popMax(hp []cand) ([]cand, cand) {
	top := hp[0]
	last := len(hp) - 1
	hp[0] = hp[last]
	hp = hp[:last]
	for i := 0; ; {
		l := 2*i + 1
		if l >= len(hp) {
			break
		}
		m := l
		if r := l + 1; r < len(hp) && hp[r].s > hp[l].s {
			m = r
		}
		if hp[i].s >= hp[m].s {
			break
		}
		hp[i], hp[m] = hp[m], hp[i]
		i = m
	}
	return hp, top
}

func pushMin(hp []cand, c cand) []cand {
	hp = append(hp, c)
	i := len(hp) - 1
	for i > 0 {
		p := (i - 1) / 2
		if hp[p].s <= hp[i].s {
			break
		}
		hp[p], hp[i] = hp[i], hp[p]
		i = p
	}
	return hp
}

func popMin(hp []cand) []cand {
	last := len(hp) - 1
	hp[0] = hp[last]
	hp = hp[:last]
	for i := 0; ; {
		l := 2*i + 1
		if l >= len(hp) {
			break
		}
		m := l
		if r := l + 1; r < len(hp) && hp[r].s < hp[l].s {
			m = r
		}
		if hp[i].s <= hp[m].s {
			break
		}
		hp[i], hp[m] = hp[m], hp[i]
		i = m
	}
	return hp
}

// greedy walks layer l from ep to a local maximum of similarity to q.
func (h *HNSW) greedy(q []float32, ep cand, l int) cand {
	for changed := true; changed; {
		changed = false
		for _, nb := range h.neighbors(ep.id, l) {
			if s := dot(q, h.vec(nb)); s > ep.s {
				ep, changed = cand{s, nb}, true
			}
		}
	}
	return ep
}

// searchLayer is the beam search of layer l from eps; it returns up to ef
// nodes sorted best first (in sr.out, valid until the next call).
func (h *HNSW) searchLayer(sr *searcher, q []float32, eps []cand, ef, l int) []cand {
	sr.nextGen()
	sr.cands, sr.res = sr.cands[:0], sr.res[:0]
	for _, e := range eps {
		if sr.visited[e.id] == sr.gen {
			continue
		}
		sr.visited[e.id] = sr.gen
		sr.cands = pushMax(sr.cands, e)
		sr.res = pushMin(sr.res, e)
		if len(sr.res) > ef {
			sr.res = popMin(sr.res)
		}
	}
	for len(sr.cands) > 0 {
		var c cand
		sr.cands, c = popMax(sr.cands)
		if len(sr.res) >= ef && c.s < sr.res[0].s {
			break
		}
		for _, nb := range h.neighbors(c.id, l) {
			if sr.visited[nb] == sr.gen {
				continue
			}
			sr.visited[nb] = sr.gen
			s := dot(q, h.vec(nb))
			if len(sr.res) < ef || s > sr.res[0].s {
				sr.cands = pushMax(sr.cands, cand{s, nb})
				sr.res = pushMin(sr.res, cand{s, nb})
				if len(sr.res) > ef {
					sr.res = popMin(sr.res)
				}
			}
		}
	}
	sr.out = append(sr.out[:0], sr.res...)
	slices.SortFunc(sr.out, byScoreDesc)
	return sr.out
}

func byScoreDesc(a, b cand) int {
	switch {
	case a.s > b.s:
		return -1
	case a.s < b.s:
		return 1
	}
	return int(a.id - b.id)
}

// selectNeighbors is the HNSW heuristic (algorithm 4 without extension):
// keep a candidate only if it is closer to the base than to every kept one,
// which keeps links spread over directions instead of one dense clump.
// cands must be sorted best first; the result reuses dst.
func (h *HNSW) selectNeighbors(dst []int32, cands []cand, m int) []int32 {
	dst = dst[:0]
	for _, c := range cands {
		if len(dst) >= m {
			break
		}
		cv := h.vec(c.id)
		good := true
		for _, r := range dst {
			if dot(cv, h.vec(r)) > c.s {
				good = false
				break
			}
		}
		if good {
			dst = append(dst, c.id)
		}
	}
	return dst
}

// builder inserts batches of nodes.
type builder struct {
	h        *HNSW
	efC      int
	threads  int
	searcher []*searcher
	plans    [][][]int32 // per batch slot, per layer: chosen neighbours
	edges    []edge
}

type edge struct {
	to, from int32
	l        int32
}

func (b *builder) insertBatch(lo, hi int) {
	h := b.h
	for len(b.searcher) < b.threads {
		b.searcher = append(b.searcher, newSearcher(len(h.ids)))
	}
	for len(b.plans) < hi-lo {
		b.plans = append(b.plans, make([][]int32, maxHNSWLevel+1))
	}
	// Phase 1: every node of the batch searches the frozen graph.
	workers := min(b.threads, hi-lo)
	var next atomic.Int64
	next.Store(int64(lo))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sr := b.searcher[w]
			for {
				v := int(next.Add(1) - 1)
				if v >= hi {
					return
				}
				b.plan(sr, int32(v), b.plans[v-lo])
			}
		}()
	}
	wg.Wait()
	// Phase 2: own links, then reverse links grouped by target so each
	// target's list is edited by one goroutine in source order.
	b.edges = b.edges[:0]
	for v := lo; v < hi; v++ {
		top := min(int(h.level[v]), h.maxLevel)
		for l := 0; l <= top; l++ {
			nb := b.plans[v-lo][l]
			h.setNeighbors(int32(v), l, nb)
			for _, t := range nb {
				b.edges = append(b.edges, edge{to: t, from: int32(v), l: int32(l)})
			}
		}
	}
	slices.SortFunc(b.edges, func(a, c edge) int {
		if a.to != c.to {
			return int(a.to - c.to)
		}
		if a.l != c.l {
			return int(a.l - c.l)
		}
		return int(a.from - c.from)
	})
	parts := min(b.threads, len(b.edges))
	bounds := make([]int, 0, parts+1)
	bounds = append(bounds, 0)
	for p := 1; p < parts; p++ {
		i := p * len(b.edges) / parts
		for i < len(b.edges) && i > 0 && b.edges[i].to == b.edges[i-1].to {
			i++
		}
		if i > bounds[len(bounds)-1] {
			bounds = append(bounds, i)
		}
	}
	bounds = append(bounds, len(b.edges))
	for p := 0; p+1 < len(bounds); p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var scratch []cand
			var sel []int32
			for _, e := range b.edges[bounds[p]:bounds[p+1]] {
				scratch, sel = b.link(e, scratch, sel)
			}
		}()
	}
	wg.Wait()
	for v := lo; v < hi; v++ {
		if int(h.level[v]) > h.maxLevel {
			h.maxLevel, h.entry = int(h.level[v]), int32(v)
		}
	}
}

// plan finds v's neighbours on each of its layers present in the graph.
func (b *builder) plan(sr *searcher, v int32, out [][]int32) {
	h := b.h
	q := h.vec(v)
	ep := cand{dot(q, h.vec(h.entry)), h.entry}
	lv := int(h.level[v])
	for l := h.maxLevel; l > lv; l-- {
		ep = h.greedy(q, ep, l)
	}
	sr.eps = append(sr.eps[:0], ep)
	for l := min(lv, h.maxLevel); l >= 0; l-- {
		w := h.searchLayer(sr, q, sr.eps, b.efC, l)
		out[l] = h.selectNeighbors(out[l], w, h.m)
		sr.eps = append(sr.eps[:0], w...)
	}
}

// link adds e.from to e.to's layer-e.l list, re-pruning a full list.
func (b *builder) link(e edge, scratch []cand, sel []int32) ([]cand, []int32) {
	h := b.h
	l := int(e.l)
	nb := h.neighbors(e.to, l)
	if len(nb) < h.capacity(l) {
		nb = append(nb, e.from) // within the node's fixed-capacity storage
		h.setNeighbors(e.to, l, nb)
		return scratch, sel
	}
	base := h.vec(e.to)
	scratch = scratch[:0]
	for _, x := range nb {
		scratch = append(scratch, cand{dot(base, h.vec(x)), x})
	}
	scratch = append(scratch, cand{dot(base, h.vec(e.from)), e.from})
	slices.SortFunc(scratch, byScoreDesc)
	sel = h.selectNeighbors(sel, scratch, h.capacity(l))
	h.setNeighbors(e.to, l, sel)
	return scratch, sel
}

// Search runs the beam search with width max(EfSearch, k) for each query.
func (h *HNSW) Search(ctx context.Context, queries []float32, nq, k int) ([]int32, []float32, error) {
	if err := checkShape(queries, nq, h.dim, "queries"); err != nil {
		return nil, nil, err
	}
	if k < 0 {
		return nil, nil, fmt.Errorf("ann: k = %d", k)
	}
	ids := make([]int32, nq*k)
	scores := make([]float32, nq*k)
	fillMissing(ids, scores)
	if k == 0 || nq == 0 || h.entry < 0 {
		return ids, scores, nil
	}
	ef := max(h.efSearch, k)
	workers := min(h.threads, nq)
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sr := h.getSearcher()
			defer h.pool.Put(sr)
			q := make([]float32, h.dim)
			for {
				i := int(next.Add(1) - 1)
				if i >= nq {
					return
				}
				if i%256 == 0 {
					if err := ctx.Err(); err != nil {
						failed.CompareAndSwap(nil, err)
						return
					}
				}
				normalizeInto(q, queries[i*h.dim:(i+1)*h.dim])
				ep := cand{dot(q, h.vec(h.entry)), h.entry}
				for l := h.maxLevel; l > 0; l-- {
					ep = h.greedy(q, ep, l)
				}
				sr.eps = append(sr.eps[:0], ep)
				w := h.searchLayer(sr, q, sr.eps, ef, 0)
				for j := 0; j < min(k, len(w)); j++ {
					ids[i*k+j], scores[i*k+j] = h.ids[w[j].id], w[j].s
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		return nil, nil, fmt.Errorf("ann: hnsw search: %w", err)
	}
	return ids, scores, nil
}
