package ova

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestTripletMultiGradient compares the analytic dLoss/dscore (softmax
// weights not detached, as the reference) with central differences.
func TestTripletMultiGradient(t *testing.T) {
	cases := []struct {
		name   string
		nCand  int
		nPos   int
		margin float32
	}{
		{"many violators", 12, 4, 0.5},
		{"few positives", 10, 1, 0.2},
		{"no violators", 6, 2, -5}, // negative margin: every l is 0
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(9, 9))
			var c candidates
			for i := 0; i < tc.nCand; i++ {
				c.add(int32(i), float32(rng.Float64()*2-1), i < tc.nPos)
			}
			lossAt := func() float64 {
				l, _ := tripletMulti(&c, 3, 5, tc.margin, 1, nil)
				return l
			}
			_, grads := tripletMulti(&c, 3, 5, tc.margin, 1, nil)
			analytic := make([]float64, tc.nCand)
			for _, g := range grads {
				analytic[g.u] += float64(g.coef)
			}
			const h = 1e-3
			for i := 0; i < tc.nCand; i++ {
				s0 := c.s[i]
				c.s[i] = s0 + h
				up := lossAt()
				c.s[i] = s0 - h
				down := lossAt()
				c.s[i] = s0
				num := (up - down) / (2 * h)
				if math.Abs(num-analytic[i]) > 2e-3 {
					t.Errorf("candidate %d (pos %v): analytic %.5f, numeric %.5f", i, c.isPos[i], analytic[i], num)
				}
			}
		})
	}
}

func TestTripletMultiSelection(t *testing.T) {
	var c candidates
	// positives 0..3 with scores .9 .1 .5 .3; negatives 4..10
	for i, s := range []float32{0.9, 0.1, 0.5, 0.3, 0.0, 0.8, 0.2, 0.7, 0.6, -0.5, 0.4} {
		c.add(int32(i), s, i < 4)
	}
	_, grads := tripletMulti(&c, 3, 5, 0.2, 1, nil)
	used := map[int32]bool{}
	for _, g := range grads {
		used[g.u] = true
	}
	for _, u := range []int32{1, 3, 2, 5, 7, 8, 10, 6} {
		if !used[u] {
			t.Errorf("candidate %d should be in the loss", u)
		}
	}
	for _, u := range []int32{0, 4, 9} {
		if used[u] {
			t.Errorf("candidate %d should not be in the loss", u)
		}
	}
}
