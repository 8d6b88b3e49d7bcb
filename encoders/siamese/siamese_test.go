package siamese

import (
	"slices"
	"testing"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/core/sparse"
	"github.com/xcbench/xcbench/plugins/sdk"
)

func TestCandidateMask(t *testing.T) {
	// doc 0: labels {0,1}; doc 1: {1}; doc 2: {2}; doc 3: {0,3}
	y, err := sparse.FromRows(5, [][]int32{{0, 1}, {1}, {2}, {0, 3}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		b         sdk.Batch
		bc, kn    int
		filter    []data.Pair
		wantAllow []float32
	}{
		{
			// Doc 0's second positive (1) is doc 1's sampled label: not a
			// negative for doc 0. Doc 1 may use doc 0's label 0 and doc 2's 2.
			name: "second_positive_of_other_row",
			b:    sdk.Batch{Docs: []int32{0, 1, 2}, Positives: []int32{0, 1, 2}},
			bc:   4,
			wantAllow: []float32{
				0, 0, 1, 0,
				1, 0, 1, 0,
				1, 1, 0, 0,
				0, 0, 0, 0,
			},
		},
		{
			// Label 0 sampled twice (docs 0 and 3): neither column is a
			// negative for either doc; doc 2 may use both.
			name: "duplicate_labels",
			b:    sdk.Batch{Docs: []int32{0, 3, 2}, Positives: []int32{0, 0, 2}},
			bc:   3,
			wantAllow: []float32{
				0, 0, 1,
				0, 0, 1,
				1, 1, 0,
			},
		},
		{
			// Explicit negatives: a positive handed as a negative is dropped,
			// padding slots stay 0.
			name: "explicit",
			b:    sdk.Batch{Docs: []int32{0, 2}, Positives: []int32{0, 2}, Negatives: [][]int32{{1, 4}, {3}}},
			bc:   2, kn: 2,
			wantAllow: []float32{
				0, 1, 0, 1,
				1, 0, 1, 0,
			},
		},
		{
			// Reciprocal pairs (doc 1, label 2) and (doc 2, label 4): the
			// same entity as the document is never its negative, neither
			// in-batch (doc 1 vs doc 2's label 2) nor explicit (label 4).
			name: "filtered_pairs",
			b:    sdk.Batch{Docs: []int32{1, 2}, Positives: []int32{1, 2}, Negatives: [][]int32{{3, 2}, {4, 3}}},
			bc:   2, kn: 2,
			filter: []data.Pair{{Row: 1, Label: 2}, {Row: 2, Label: 4}},
			wantAllow: []float32{
				0, 0, 1, 0,
				1, 0, 0, 1,
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			allow, valid := CandidateMask(y, data.NewFilterSet(tc.filter), tc.b, tc.bc, tc.kn)
			if !slices.Equal(allow, tc.wantAllow) {
				t.Fatalf("allow %v\nwant  %v", allow, tc.wantAllow)
			}
			for i, v := range valid {
				if (i < len(tc.b.Docs)) != (v == 1) {
					t.Fatalf("valid %v", valid)
				}
			}
		})
	}
}

func TestPositiveMask(t *testing.T) {
	// doc 0: labels {0,1,3}; doc 1: {1}; doc 2: {2}; doc 3: {0,3}
	y, err := sparse.FromRows(5, [][]int32{{0, 1, 3}, {1}, {2}, {0, 3}})
	if err != nil {
		t.Fatal(err)
	}
	// Rows sample labels 0, 1, 3, 3 (row 3's label 3 repeats row 2's).
	b := sdk.Batch{Docs: []int32{0, 1, 3, 0}, Positives: []int32{0, 1, 3, 3}, Negatives: [][]int32{{1}, {2}, {4}, {4}}}
	got := PositiveMask(y, b, 5, 1)
	want := []float32{
		// doc 0 (own 0): labels 1 and 3 are further positives, 3 counted once (column 2).
		0, 1, 1, 0, 0, 0,
		// doc 1 (own 1): none.
		0, 0, 0, 0, 0, 0,
		// doc 3 (own 3): label 0 (column 0); its own label 3 is not "further".
		1, 0, 0, 0, 0, 0,
		// doc 0 again (own 3): labels 0 and 1.
		1, 1, 0, 0, 0, 0,
		// padding row.
		0, 0, 0, 0, 0, 0,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("mask %v\nwant %v", got, want)
	}
}

func TestBucket(t *testing.T) {
	for _, tc := range []struct{ n, lo, hi, want int }{
		{1, 4, 0, 4}, {5, 4, 0, 8}, {8, 4, 0, 8}, {9, 4, 0, 16}, {40, 4, 32, 40}, {20, 4, 32, 32}, {0, 16, 0, 16},
	} {
		if got := Bucket(tc.n, tc.lo, tc.hi); got != tc.want {
			t.Errorf("Bucket(%d,%d,%d)=%d want %d", tc.n, tc.lo, tc.hi, got, tc.want)
		}
	}
}

func TestSchemaDrift(t *testing.T) {
	docs := map[string]string{}
	for k, v := range TrainDocs {
		docs[k] = v
	}
	if _, err := Schema(DefaultTrainConfig(), docs); err != nil {
		t.Fatal(err)
	}
	delete(docs, "lr")
	if _, err := Schema(DefaultTrainConfig(), docs); err == nil {
		t.Fatal("missing doc not reported")
	}
	docs["lr"], docs["bogus"] = "x", "y"
	if _, err := Schema(DefaultTrainConfig(), docs); err == nil {
		t.Fatal("doc for unknown param not reported")
	}
}

func TestAutoWarmup(t *testing.T) {
	tests := []struct {
		warmup, total, want int
		wantErr             bool
	}{
		{AutoWarmup, 0, 100, false},
		{AutoWarmup, 5000, 100, false},
		{AutoWarmup, 78, 7, false},
		{AutoWarmup, 5, 0, false},
		{50, 78, 50, false},
		{100, 78, 0, true},
		{-2, 0, 0, true},
	}
	for _, tc := range tests {
		c := DefaultTrainConfig()
		c.WarmupSteps, c.TotalSteps = tc.warmup, tc.total
		err := c.Validate()
		if (err != nil) != tc.wantErr {
			t.Errorf("warmup %d total %d: err %v, wantErr %v", tc.warmup, tc.total, err, tc.wantErr)
			continue
		}
		if err == nil && c.Warmup() != tc.want {
			t.Errorf("warmup %d total %d: Warmup() = %d, want %d", tc.warmup, tc.total, c.Warmup(), tc.want)
		}
	}
}
