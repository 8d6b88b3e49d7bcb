package ova

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/xcbench/xcbench/classifiers/docknn"
	"github.com/xcbench/xcbench/classifiers/knn"
	"github.com/xcbench/xcbench/core/ann"
	"github.com/xcbench/xcbench/core/data"
)

// TestDocKNNFusion pins the doc-kNN score in the fusion: with sum fusion
// every returned label scores w·clf + (1-w)·knn + doc_weight·vote, the
// vote recomputed here by an independent docknn.Voter; with tree fusion
// the tree gets the vote as a fourth feature.
func TestDocKNNFusion(t *testing.T) {
	set := makeNoisySet(t, 2, 200, 16, 1000, 200, 0.4, 1.2, 4)
	ctx := context.Background()
	c := train(t, set, 3, `{`+fastParams+`, "fusion": "sum", "sum_weight": 0.6, "doc_neighbours": 10, "doc_weight": 0.7}`)
	tx := ann.Normalized(set.trainX.Data, set.trainX.Rows, set.trainX.Cols)
	x := ann.Normalized(set.testX.Data, set.testX.Rows, set.testX.Cols)
	v, err := docknn.NewVoter(ctx, knn.DefaultParams().IndexConfig(3), tx, 16, set.ds.TrainY, nil, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	votes, err := v.Votes(ctx, x, set.testX.Rows, nil)
	if err != nil {
		t.Fatal(err)
	}
	w, _, _ := c.Weights()
	z := ann.Normalized(set.labels.Data, set.labels.Rows, 16)
	tk := predict(t, c, set, 5)
	voted := 0
	for i := range tk.Rows {
		labs, scores := tk.Row(i)
		xi := x[i*16 : (i+1)*16]
		for j, l := range labs {
			clf, kn := dot(xi, w[int(l)*16:(int(l)+1)*16]), dot(xi, z[int(l)*16:(int(l)+1)*16])
			want := 0.6*float64(clf) + 0.4*float64(kn) + 0.7*votes[i][l]
			if math.Abs(float64(scores[j])-want) > 1e-5 {
				t.Fatalf("doc %d label %d: score %g, want %g", i, l, scores[j], want)
			}
			if votes[i][l] > 0 {
				voted++
			}
		}
	}
	if voted == 0 {
		t.Fatal("no returned label was voted by a neighbour: the test cannot tell")
	}
	base := train(t, set, 3, `{`+fastParams+`, "fusion": "tree"}`)
	withDoc := train(t, set, 3, `{`+fastParams+`, "fusion": "tree", "doc_neighbours": 10}`)
	if base.Tree().NumFeatures != 3 || withDoc.Tree().NumFeatures != 4 {
		t.Fatalf("tree features %d and %d, want 3 and 4", base.Tree().NumFeatures, withDoc.Tree().NumFeatures)
	}
	t.Logf("tree fusion P@1 %.4f without doc-kNN, %.4f with; sum fusion with doc-kNN %.4f",
		precisionAt(predict(t, base, set, 1), set.ds.TestY, 1), precisionAt(predict(t, withDoc, set, 1), set.ds.TestY, 1),
		precisionAt(tk, set.ds.TestY, 1))
}

// TestFilteredPairsNeverNegatives: a label that is the same entity as a
// document (a reciprocal train pair) is in the batch's shortlist but never
// among that document's negatives, in both shortlist modes.
func TestFilteredPairsNeverNegatives(t *testing.T) {
	set := makeNoisySet(t, 5, 30, 8, 60, 10, 0.4, 0.5, 1)
	y := set.ds.TrainY
	// Pair doc 0 with a label another batch document has and doc 0 lacks.
	var pair data.Pair
	found := false
	for d := 1; d < y.NRows && !found; d++ {
		cols, _ := y.Row(d)
		for _, l := range cols {
			if !y.Has(0, l) {
				pair, found = data.Pair{Row: 0, Label: l}, true
				break
			}
		}
	}
	if !found {
		t.Fatal("fixture: no label to pair")
	}
	x := ann.Normalized(set.trainX.Data, set.trainX.Rows, set.trainX.Cols)
	z := ann.Normalized(set.labels.Data, set.labels.Rows, set.labels.Cols)
	docs := make([]int32, y.NRows)
	for i := range docs {
		docs[i] = int32(i)
	}
	for _, shortlist := range []string{"inbatch", "ann"} {
		for _, filter := range []data.FilterSet{nil, data.NewFilterSet([]data.Pair{pair})} {
			p := DefaultParams()
			// Margin 10: every negative violates, so every one gets a gradient entry.
			p.Shortlist, p.NumNegatives, p.Dropout, p.Margin = shortlist, 30, 0, 10
			tr := newTrainer(p, 1, x, y, filter, z, 8, 1)
			if shortlist == "ann" {
				tr.short = make([][]int32, y.NRows)
				all := make([]int32, y.NCols)
				for l := range all {
					all[l] = int32(l)
				}
				tr.short[0] = all
			}
			tr.schedule(1)
			if _, err := tr.trainStep(context.Background(), docs); err != nil {
				t.Fatal(err)
			}
			j := slices.Index(tr.u, pair.Label)
			used := slices.ContainsFunc(tr.docGrad[0], func(e gradEntry) bool { return int(e.u) == j })
			if used != (filter == nil) {
				t.Errorf("%s, filter %v: label %d used for doc 0: %v", shortlist, filter != nil, pair.Label, used)
			}
		}
	}
}
