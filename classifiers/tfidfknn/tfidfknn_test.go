package tfidfknn

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/core/metrics"
	"github.com/xcbench/xcbench/plugins/sdk"
)

func TestRealAnchors(t *testing.T) {
	root, err := data.SharedDataDir()
	if err != nil {
		t.Skipf("real data not available: %v", err)
	}
	cases := []struct {
		name string
		p1   float64 // measured with Default(), k=10
		// golden: core/metrics/testdata/pyxclib_ref.py (independent pyxclib
		// transcription) on these predictions written with
		// XCBENCH_WRITE_PRED, A=0.55 B=1.5.
		golden map[string]float64
	}{
		// anchor (fastText tutorial tf-idf kNN): 57.73/35.24/24.47
		{"cooking", 57.77, map[string]float64{"P@1": 0.5776666667, "P@3": 0.3523333333, "P@5": 0.2448666667,
			"nDCG@3": 0.5180804995, "nDCG@5": 0.5398292028, "PSP@1": 0.4306578786, "PSP@3": 0.4488606068, "PSP@5": 0.5011923828,
			"PSnDCG@3": 0.4526204417, "PSnDCG@5": 0.4820213450, "R@1": 0.2878000000, "R@3": 0.4982666667, "R@5": 0.5656555556}},
		// anchor ~59.8, XC repository kNN 57.04
		{"bibtex", 59.92, map[string]float64{"P@1": 0.5992047714, "P@3": 0.3652750166, "P@5": 0.2669582505,
			"nDCG@3": 0.5605792425, "nDCG@5": 0.5812683770, "PSP@1": 0.4693187439, "PSP@3": 0.5019446332, "PSP@5": 0.5565648473,
			"PSnDCG@3": 0.4956359810, "PSnDCG@5": 0.5272161898, "R@1": 0.3287143991, "R@3": 0.5228760096, "R@5": 0.6089844858}},
		// anchor 60.6-64.95
		{"delicious", 61.57, map[string]float64{"P@1": 0.6156985871, "P@3": 0.5593929880, "P@5": 0.5145368917,
			"nDCG@3": 0.5735135992, "nDCG@5": 0.5403757081, "PSP@1": 0.2989174504, "PSP@3": 0.3136941867, "PSP@5": 0.3184897624,
			"PSnDCG@3": 0.3106478351, "PSnDCG@5": 0.3147929032, "R@1": 0.0371500312, "R@3": 0.0999919769, "R@5": 0.1498117188}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ds, err := data.Open(filepath.Join(root, c.name), data.Options{CacheDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			m, err := Fit(ds, 10)
			if err != nil {
				t.Fatal(err)
			}
			pred, err := m.PredictSplit(context.Background(), sdk.SplitTest, 100)
			if err != nil {
				t.Fatal(err)
			}
			res, err := metrics.Evaluate(pred, ds.TestY, ds.FilterTest, metrics.InvPropensity(ds.TrainY, ds.PropA, ds.PropB), []int{1, 3, 5})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %s", c.name, res)
			if p1, _ := res.Get("P", 1); math.Abs(100*p1-c.p1) > 0.5 {
				t.Errorf("P@1 = %.2f, measured %.2f when this test was written", 100*p1, c.p1)
			}
			got := res.Map()
			for k, v := range c.golden {
				// float32 scores, float64 sums: agreement to 1e-6
				if math.Abs(got[k]-v) > 1e-6 {
					t.Errorf("%s = %.10f, pyxclib reference %.10f", k, got[k], v)
				}
			}
			if out := os.Getenv("XCBENCH_WRITE_PRED"); out != "" {
				if err := data.WritePredictionsShape(filepath.Join(out, c.name+"_pred.txt"), pred, ds.NumLabels); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
