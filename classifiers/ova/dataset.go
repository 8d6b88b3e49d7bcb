package ova

import (
	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/core/metrics"
)

// invPropensity is pyxclib's inverse propensity of every label from the
// training labels and the dataset's A/B (pyxclib's "others" 0.55/1.5 when
// the dataset sets none).
func invPropensity(ds *data.Dataset) []float32 {
	a, b := ds.PropA, ds.PropB
	if a == 0 && b == 0 {
		a, b = 0.55, 1.5
	}
	w := metrics.InvPropensity(ds.TrainY, a, b)
	out := make([]float32, len(w))
	for i, v := range w {
		out[i] = float32(v)
	}
	return out
}
