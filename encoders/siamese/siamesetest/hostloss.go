package siamesetest

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"testing"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/encoders/siamese"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// HostStep is what an in-batch training step should report, computed on
// the host from the encoder's current embeddings (Encode) and the rules
// written out independently of siamese.CandidateMask/PositiveMask.
type HostStep struct {
	// Loss is the InfoNCE or decoupled-softmax loss at the temperature.
	Loss float64
	// Hardness is the mean cosine over the allowed in-batch negatives.
	Hardness float64
	// Negatives counts the allowed (row, column) pairs.
	Negatives int
}

// HostInBatch computes HostStep for an in-batch batch b (no explicit
// negatives, dropout 0): column j is a negative for row i when its label
// differs from row i's own, is not a positive of doc i and is not a
// filtered train pair of doc i (ds.FilterTrain); for "dsoftmax" the
// further positives are the other labels of doc i in the batch, each once.
func HostInBatch(ctx context.Context, enc sdk.Encoder, ds *data.Dataset, b sdk.Batch, loss string, temperature float64) (HostStep, error) {
	var hs HostStep
	if b.Negatives != nil {
		return hs, fmt.Errorf("siamesetest: HostInBatch takes in-batch batches only")
	}
	docs, err := enc.Encode(ctx, sdk.SplitTrain, b.Docs)
	if err != nil {
		return hs, err
	}
	labs, err := enc.Encode(ctx, sdk.SplitLabels, b.Positives)
	if err != nil {
		return hs, err
	}
	filtered := map[[2]int32]bool{}
	for _, p := range ds.FilterTrain {
		filtered[[2]int32{p.Row, p.Label}] = true
	}
	cos := func(i, j int) float64 {
		var s float64
		for k, v := range docs.Row(i) {
			s += float64(v) * float64(labs.Row(j)[k])
		}
		return s
	}
	n := len(b.Docs)
	var total, hsum float64
	for i := range n {
		d := b.Docs[i]
		var negZ float64
		var positives []float64
		seen := map[int32]bool{b.Positives[i]: true}
		for j := range n {
			l := b.Positives[j]
			switch {
			case j == i:
				positives = append([]float64{cos(i, i)}, positives...)
			case l == b.Positives[i]:
			case ds.TrainY.Has(int(d), l):
				if !seen[l] {
					seen[l] = true
					positives = append(positives, cos(i, j))
				}
			case filtered[[2]int32{d, l}]:
			default:
				s := cos(i, j)
				negZ += math.Exp(s / temperature)
				hsum += s
				hs.Negatives++
			}
		}
		if loss != "dsoftmax" {
			positives = positives[:1]
		}
		var row float64
		for _, s := range positives {
			row += math.Log(math.Exp(s/temperature)+negZ) - s/temperature
		}
		total += row / float64(len(positives))
	}
	hs.Loss = total / float64(n)
	if hs.Negatives > 0 {
		hs.Hardness = hsum / float64(hs.Negatives)
	}
	return hs, nil
}

// CheckInBatchStep trains one in-batch step of a fresh encoder per case
// (newEnc builds and configures one on ds with the given JSON params) and
// compares its loss and hardness with HostInBatch, for the infonce and
// dsoftmax losses, with and without reciprocal train pairs in the dataset
// (pairs that make some in-batch labels the same entity as a document:
// they must leave the negatives). It fails when the pairs or the further
// positives change nothing, so the comparison cannot pass vacuously.
func CheckInBatchStep(t testing.TB, newEnc func(ds *data.Dataset, params string) sdk.Encoder, ds *data.Dataset, base string, batchSize int) {
	t.Helper()
	ctx := context.Background()
	b := Batches(ds.TrainY, batchSize, 5, 0)[0]
	var pairs []data.Pair
	for i := 0; i+1 < len(b.Docs); i += 2 {
		l := b.Positives[i+1]
		if l != b.Positives[i] && !ds.TrainY.Has(int(b.Docs[i]), l) {
			pairs = append(pairs, data.Pair{Row: b.Docs[i], Label: l})
		}
	}
	if len(pairs) == 0 {
		t.Fatal("siamesetest: no filterable pair in the batch")
	}
	filteredDS := *ds
	filteredDS.FilterTrain = pairs
	const temp = 0.1
	got := map[string]HostStep{}
	for _, loss := range []string{"infonce", "dsoftmax"} {
		for _, tc := range []struct {
			name string
			ds   *data.Dataset
		}{{"plain", ds}, {"filtered", &filteredDS}} {
			m := map[string]any{}
			if err := json.Unmarshal([]byte(base), &m); err != nil {
				t.Fatal(err)
			}
			m["loss"], m["temperature"], m["dropout"] = loss, temp, 0
			params, _ := json.Marshal(m)
			enc := newEnc(tc.ds, string(params))
			want, err := HostInBatch(ctx, enc, tc.ds, b, loss, temp)
			if err != nil {
				t.Fatal(err)
			}
			st, err := enc.TrainStep(ctx, b)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(st.Loss-want.Loss) > 2e-4*math.Max(1, math.Abs(want.Loss)) || math.Abs(st.Hardness-want.Hardness) > 1e-4 {
				t.Errorf("%s %s: step loss %.6f hardness %.6f, host %.6f %.6f", loss, tc.name, st.Loss, st.Hardness, want.Loss, want.Hardness)
			}
			got[loss+tc.name] = want
		}
	}
	if got["infonceplain"].Negatives <= got["infoncefiltered"].Negatives {
		t.Errorf("filter pairs removed no negative: %d vs %d", got["infonceplain"].Negatives, got["infoncefiltered"].Negatives)
	}
	if math.Abs(got["infonceplain"].Loss-got["dsoftmaxplain"].Loss) < 1e-6 {
		t.Errorf("batch has no further positive: dsoftmax equals infonce (%g)", got["infonceplain"].Loss)
	}
}

// CheckGradCache compares one step's loss and gradients with gradient
// caching (grad_cache = chunk) and without, from the same initial weights,
// for every loss, with dropout and explicit negatives: they must agree to
// float32 rounding (the cached path sums per-chunk gradients in another
// order). newSvc configures an encoder on ds with the given JSON params.
func CheckGradCache(t testing.TB, newSvc func(params string) *siamese.Service, ds *data.Dataset, base string, batchSize, chunk int) {
	t.Helper()
	ctx := context.Background()
	b := Batches(ds.TrainY, batchSize, 9, 0)[0]
	b.Negatives = make([][]int32, len(b.Docs))
	for i := range b.Docs {
		// Two labels that are not the document's own sampled positive.
		for l := int32(0); len(b.Negatives[i]) < 2; l++ {
			if l != b.Positives[i] {
				b.Negatives[i] = append(b.Negatives[i], (l*7+int32(i))%int32(ds.NumLabels))
			}
		}
	}
	for _, lossName := range []string{"triplet", "infonce", "dsoftmax"} {
		var got [2]siamese.Grads
		for k, gc := range []int{0, chunk} {
			m := map[string]any{}
			if err := json.Unmarshal([]byte(base), &m); err != nil {
				t.Fatal(err)
			}
			m["loss"], m["dropout"], m["grad_cache"] = lossName, 0.1, gc
			params, _ := json.Marshal(m)
			g, err := newSvc(string(params)).Gradients(ctx, b)
			if err != nil {
				t.Fatalf("%s grad_cache %d: %v", lossName, gc, err)
			}
			got[k] = g
		}
		a, c := got[0], got[1]
		if math.Abs(a.Loss-c.Loss) > 1e-5*math.Max(1, math.Abs(a.Loss)) || math.Abs(a.Hardness-c.Hardness) > 1e-5 {
			t.Errorf("%s: loss %g/%g hardness %g/%g", lossName, a.Loss, c.Loss, a.Hardness, c.Hardness)
		}
		if !slicesEqual(a.Rows, c.Rows) || len(a.Params) != len(c.Params) {
			t.Fatalf("%s: different rows or parameter count", lossName)
		}
		close := func(what string, x, y []float32) {
			var scale, diff float64
			for i := range x {
				scale = math.Max(scale, math.Abs(float64(x[i])))
				diff = math.Max(diff, math.Abs(float64(x[i])-float64(y[i])))
			}
			// The floor covers gradients that are 0 in exact arithmetic
			// (the attention key bias) and come out as rounding noise.
			if diff > 1e-4*scale+1e-8 || len(x) != len(y) || what == "table" && scale == 0 {
				t.Errorf("%s %s: max |diff| %g at scale %g (len %d/%d)", lossName, what, diff, scale, len(x), len(y))
			}
		}
		for i := range a.Params {
			close(fmt.Sprintf("param %d", i), a.Params[i], c.Params[i])
		}
		close("table", a.Table, c.Table)
		close("embeddings", a.Emb, c.Emb)
	}
}

func slicesEqual(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
