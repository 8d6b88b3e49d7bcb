package ann

import (
	"math"
	"slices"
)

// Heap keeps the k highest-scoring (id, score) pairs pushed into it. Ties on
// score prefer the smaller id so results do not depend on push order.
type Heap struct {
	k      int
	ids    []int32
	scores []float32
}

// NewHeap makes a heap keeping k entries.
func NewHeap(k int) *Heap {
	return &Heap{k: k, ids: make([]int32, 0, k), scores: make([]float32, 0, k)}
}

// Reset empties the heap for reuse with the same k.
func (h *Heap) Reset() { h.ids, h.scores = h.ids[:0], h.scores[:0] }

// Len is the number of entries held.
func (h *Heap) Len() int { return len(h.ids) }

// Min is the smallest score held, or -Inf while the heap is not full, so a
// caller can skip pushing candidates that cannot enter.
func (h *Heap) Min() float32 {
	if len(h.ids) < h.k || h.k == 0 {
		return float32(math.Inf(-1))
	}
	return h.scores[0]
}

// worse reports whether entry i ranks below entry j.
func (h *Heap) worse(i, j int) bool {
	if h.scores[i] != h.scores[j] {
		return h.scores[i] < h.scores[j]
	}
	return h.ids[i] > h.ids[j]
}

// Push offers a candidate.
func (h *Heap) Push(id int32, score float32) {
	if h.k == 0 || score != score { // NaN never enters
		return
	}
	if len(h.ids) < h.k {
		h.ids = append(h.ids, id)
		h.scores = append(h.scores, score)
		i := len(h.ids) - 1
		for i > 0 {
			p := (i - 1) / 2
			if !h.worse(i, p) {
				break
			}
			h.swap(i, p)
			i = p
		}
		return
	}
	if score < h.scores[0] || (score == h.scores[0] && id > h.ids[0]) {
		return
	}
	h.ids[0], h.scores[0] = id, score
	h.down(0)
}

func (h *Heap) swap(i, j int) {
	h.ids[i], h.ids[j] = h.ids[j], h.ids[i]
	h.scores[i], h.scores[j] = h.scores[j], h.scores[i]
}

func (h *Heap) down(i int) {
	n := len(h.ids)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h.worse(r, l) {
			m = r
		}
		if !h.worse(m, i) {
			return
		}
		h.swap(i, m)
		i = m
	}
}

// Drain writes the held entries best first into ids/scores (each of length
// at least k), pads the rest with -1/-Inf, and empties the heap.
func (h *Heap) Drain(ids []int32, scores []float32) {
	n := len(h.ids)
	for i := n - 1; i >= 0; i-- {
		ids[i], scores[i] = h.ids[0], h.scores[0]
		last := len(h.ids) - 1
		h.ids[0], h.scores[0] = h.ids[last], h.scores[last]
		h.ids, h.scores = h.ids[:last], h.scores[:last]
		h.down(0)
	}
	fillMissing(ids[n:h.k], scores[n:h.k])
}

// TopK returns the indices and values of the k largest entries of scores,
// best first (ties: smaller index first), padded with -1/-Inf when
// len(scores) < k. NaN scores are never selected.
func TopK(scores []float32, k int) ([]int32, []float32) {
	if k <= 0 {
		return nil, nil
	}
	ids := make([]int32, k)
	vals := make([]float32, k)
	if k*8 >= len(scores) {
		// Few enough to sort outright.
		idx := make([]int32, 0, len(scores))
		for i, s := range scores {
			if s == s {
				idx = append(idx, int32(i))
			}
		}
		slices.SortFunc(idx, func(a, b int32) int {
			switch {
			case scores[a] > scores[b]:
				return -1
			case scores[a] < scores[b]:
				return 1
			}
			return int(a - b)
		})
		n := min(k, len(idx))
		for i := 0; i < n; i++ {
			ids[i], vals[i] = idx[i], scores[idx[i]]
		}
		fillMissing(ids[n:], vals[n:])
		return ids, vals
	}
	h := NewHeap(k)
	for i, s := range scores {
		if s >= h.Min() {
			h.Push(int32(i), s)
		}
	}
	h.Drain(ids, vals)
	return ids, vals
}
