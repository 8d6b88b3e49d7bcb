package loss

import (
	"math"
)

// HostOutput is a loss computed on the host (the fused engine): its value,
// hardness and gradients with respect to pos [n] and cand [n, c].
type HostOutput struct {
	Loss, Hardness float64
	DPos           []float32
	// DCand is [n, c], or with Sparse [n, K] aligned with Picks.
	DCand []float32
	// Sparse is true when the gradient reaches only a few columns per row
	// (the triplet's k picks), listed row by row in Picks (column indices,
	// -1 for a pick that carries no gradient): the backward pass then
	// visits only those instead of multiplying a dense n x c matrix.
	Sparse bool
	Picks  []int32
	K      int
}

// HostScores is the host layout of the losses' inputs for n rows, all
// valid: pos [n], cand [n, c] and allow [n, c] as in the graph versions.
// Columns holds how many candidate columns the graph version would see
// (padded batch plus explicit negatives, >= c): the losses whose value
// depends on the count of padded columns (the triplet's k is capped by it;
// a decoupled-softmax row without negatives takes the log of it) use it so
// that the host and graph results are equal.
type HostScores struct {
	N, C, Columns    int
	Pos, Cand, Allow []float32
}

// TripletOHNMHost is TripletOHNM on the host, with its exact gradient: the
// k hardest allowed candidates per row (padded with excluded picks at −10
// when a row has fewer than k allowed, as the graph's top-k then picks
// masked columns), hinge max(0, s_n − s_p + margin), weights softmax over
// the k of (s_n/τ)·1[hinge>0] (not detached), mean over rows × k.
func TripletOHNMHost(sc HostScores, k int, margin, tau float64) HostOutput {
	n, c := sc.N, sc.C
	k = min(k, sc.Columns)
	out := HostOutput{DPos: make([]float32, n), DCand: make([]float32, n*k), Sparse: true, Picks: make([]int32, n*k), K: k}
	scale := 1 / (float64(n) * float64(k))
	sn := make([]float64, k)
	cols := make([]int32, k)
	w := make([]float64, k)
	var total, hardSum, hardCnt float64
	for i := range n {
		row := sc.Cand[i*c : (i+1)*c]
		allow := sc.Allow[i*c : (i+1)*c]
		// Top-k by insertion (k is small); excluded columns score −10 and
		// are never picked before an allowed one.
		m := 0
		for j := range c {
			if allow[j] <= 0 {
				continue
			}
			v := float64(row[j])
			if m == k && v <= sn[k-1] {
				continue
			}
			p := min(m, k-1)
			for p > 0 && sn[p-1] < v {
				if p < k {
					sn[p], cols[p] = sn[p-1], cols[p-1]
				}
				p--
			}
			sn[p], cols[p] = v, int32(j)
			m = min(m+1, k)
		}
		for p := m; p < k; p++ {
			sn[p], cols[p] = excludedScore, -1
		}
		sp := float64(sc.Pos[i])
		// Softmax of z = (s_n/τ)·1[violates].
		mx := math.Inf(-1)
		for p := range k {
			z := 0.0
			if sn[p]-sp+margin > 0 {
				z = sn[p] / tau
			}
			w[p] = z
			mx = math.Max(mx, z)
		}
		var sum float64
		for p := range k {
			w[p] = math.Exp(w[p] - mx)
			sum += w[p]
		}
		var rowLoss, gw float64
		for p := range k {
			w[p] /= sum
			h := math.Max(0, sn[p]-sp+margin)
			rowLoss += h * w[p]
			gw += w[p] * h * scale // Σ w·g with g = ∂L/∂w = scale·hinge
		}
		total += rowLoss
		var dp float64
		for p := range k {
			out.Picks[i*k+p] = cols[p]
			h := sn[p] - sp + margin
			if h <= 0 || cols[p] < 0 {
				continue // no hinge gradient; z is the constant 0
			}
			dz := w[p] * (scale*h - gw)
			dsn := scale*w[p] + dz/tau
			dp -= scale * w[p]
			out.DCand[i*k+p] = float32(dsn)
		}
		out.DPos[i] = float32(dp)
		for p := range k {
			if cols[p] >= 0 {
				hardSum += sn[p]
				hardCnt++
			}
		}
	}
	out.Loss = total * scale
	out.Hardness = hardSum / math.Max(hardCnt, 1)
	return out
}

// hardnessAllowed is InfoNCE's and DSoftmax's hardness: the mean score over
// all allowed candidates.
func hardnessAllowed(sc HostScores) float64 {
	var s, cnt float64
	for i, a := range sc.Allow {
		if a > 0 {
			s += float64(sc.Cand[i])
			cnt++
		}
	}
	return s / math.Max(cnt, 1)
}

// InfoNCEHost is InfoNCE on the host with its gradient.
func InfoNCEHost(sc HostScores, t float64) HostOutput {
	n, c := sc.N, sc.C
	out := HostOutput{DPos: make([]float32, n), DCand: make([]float32, n*c)}
	scale := 1 / float64(n)
	var total float64
	for i := range n {
		row := sc.Cand[i*c : (i+1)*c]
		allow := sc.Allow[i*c : (i+1)*c]
		pl := float64(sc.Pos[i]) / t
		mx := pl
		for j, a := range allow {
			if a > 0 {
				mx = math.Max(mx, float64(row[j])/t)
			}
		}
		sum := math.Exp(pl - mx)
		for j, a := range allow {
			if a > 0 {
				sum += math.Exp(float64(row[j])/t - mx)
			}
		}
		lse := math.Log(sum) + mx
		total += lse - pl
		out.DPos[i] = float32((math.Exp(pl-lse) - 1) * scale / t)
		for j, a := range allow {
			if a > 0 {
				out.DCand[i*c+j] = float32(math.Exp(float64(row[j])/t-lse) * scale / t)
			}
		}
	}
	out.Loss = total * scale
	out.Hardness = hardnessAllowed(sc)
	return out
}

func softplus(x float64) float64 {
	if x > 30 {
		return x
	}
	return math.Log1p(math.Exp(x))
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// DSoftmaxHost is DSoftmax on the host with its gradient; posMask [n, c]
// marks the further in-batch positives of each row.
func DSoftmaxHost(sc HostScores, posMask []float32, t float64) HostOutput {
	n, c := sc.N, sc.C
	out := HostOutput{DPos: make([]float32, n), DCand: make([]float32, n*c)}
	scale := 1 / float64(n)
	var total float64
	for i := range n {
		row := sc.Cand[i*c : (i+1)*c]
		allow := sc.Allow[i*c : (i+1)*c]
		pm := posMask[i*c : (i+1)*c]
		mx, any := math.Inf(-1), false
		for j, a := range allow {
			if a > 0 {
				mx, any = math.Max(mx, float64(row[j])/t), true
			}
		}
		var lse float64
		if any {
			var sum float64
			for j, a := range allow {
				if a > 0 {
					sum += math.Exp(float64(row[j])/t - mx)
				}
			}
			lse = math.Log(sum) + mx
		} else {
			// Every column (padding included) holds −1e4/t in the graph.
			lse = -1e4/t + math.Log(float64(sc.Columns))
		}
		pl := float64(sc.Pos[i]) / t
		count := 1.0
		for _, v := range pm {
			if v > 0 {
				count++
			}
		}
		a := scale / count
		rowLoss := softplus(lse - pl)
		dlse := a * sigmoid(lse-pl)
		out.DPos[i] = float32(-a * sigmoid(lse-pl) / t)
		for j, v := range pm {
			if v > 0 {
				z := float64(row[j]) / t
				rowLoss += softplus(lse-z) * float64(v)
				g := a * sigmoid(lse-z) * float64(v)
				dlse += g
				out.DCand[i*c+j] -= float32(g / t)
			}
		}
		total += rowLoss / count
		if any {
			for j, al := range allow {
				if al > 0 {
					out.DCand[i*c+j] += float32(dlse * math.Exp(float64(row[j])/t-lse) / t)
				}
			}
		}
	}
	out.Loss = total * scale
	out.Hardness = hardnessAllowed(sc)
	return out
}
