package data

import (
	"fmt"
	"math"
)

// Hold-out validation: Options.Validation > 0 turns a dataset into a
// development split of itself. The held-out training documents become the
// test split (their labels, texts, features and filter pairs), the rest
// stay the training split, and the real test split is never read into the
// Dataset. Tuning hyperparameters on the test split would make every claim
// against a published number optimistic; this is the split to tune on.
//
// The rule is stateless so that every process and every language agrees
// on it without sharing state: training document i is held out when
// splitmix64(i) < fraction * 2^64. It does not depend on the grid's seed,
// so all cells of a tuning grid are scored on the same documents. The
// Python SDK implements the same rule (plugins/python, read_train_labels).

// MaxValidation bounds Options.Validation: holding out more than half of
// the training set leaves too little to train on to say anything about the
// full training set.
const MaxValidation = 0.5

// splitmix64 is Steele, Lea and Flood's SplitMix64 finaliser applied to
// x + golden gamma (the first output of a SplitMix64 generator seeded x).
func splitmix64(x uint64) uint64 {
	z := x + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// HeldOut lists, in increasing order, the training documents (of n) that
// a validation fraction holds out.
func HeldOut(n int, fraction float64) []int32 {
	if fraction <= 0 {
		return nil
	}
	// Compare in float64 of the top 53 bits: exact and the same in Python.
	var out []int32
	for i := 0; i < n; i++ {
		if float64(splitmix64(uint64(i))>>11)/(1<<53) < fraction {
			out = append(out, int32(i))
		}
	}
	return out
}

func checkValidation(f float64) error {
	if math.IsNaN(f) || f < 0 || f > MaxValidation {
		return fmt.Errorf("validation %v: want a fraction of the training documents in (0, %v], or 0 for the real test split", f, MaxValidation)
	}
	return nil
}

// holdOut replaces ds's test split by the held-out training documents. It
// runs before featurisation, so the vocabulary and any statistics built
// from the training texts never see the held-out documents.
func holdOut(ds *Dataset, fraction float64) error {
	n := ds.TrainY.NRows
	val := HeldOut(n, fraction)
	if len(val) == 0 || len(val) == n {
		return fmt.Errorf("data: %s: validation %v holds out %d of %d training documents; nothing would be left to train or to score", ds.Dir, fraction, len(val), n)
	}
	isVal := make([]bool, n)
	for _, i := range val {
		isVal[i] = true
	}
	trn := make([]int32, 0, n-len(val))
	newIdx := make([]int32, n) // old training index -> index in its new split
	for i := 0; i < n; i++ {
		if isVal[i] {
			continue
		}
		newIdx[i] = int32(len(trn))
		trn = append(trn, int32(i))
	}
	for j, i := range val {
		newIdx[i] = int32(j)
	}
	ds.TestY, ds.TrainY = ds.TrainY.SelectRows(val), ds.TrainY.SelectRows(trn)
	if ds.TrainX != nil {
		ds.TestX, ds.TrainX = ds.TrainX.SelectRows(val), ds.TrainX.SelectRows(trn)
	}
	if ds.TrainText != nil {
		ds.TestText, ds.TrainText = pick(ds.TrainText, val), pick(ds.TrainText, trn)
	}
	if ds.TrainTok != nil {
		ds.TestTok, ds.TrainTok = pick(ds.TrainTok, val), pick(ds.TrainTok, trn)
	}
	// newIdx is increasing within each split, so the pairs keep their order.
	var ft, fv []Pair
	for _, p := range ds.FilterTrain {
		q := Pair{Row: newIdx[p.Row], Label: p.Label}
		if isVal[p.Row] {
			fv = append(fv, q)
		} else {
			ft = append(ft, q)
		}
	}
	ds.FilterTrain, ds.FilterTest = ft, fv
	ds.Validation = fraction
	return nil
}

func pick[T any](xs []T, idx []int32) []T {
	out := make([]T, len(idx))
	for j, i := range idx {
		out[j] = xs[i]
	}
	return out
}
