package ova

import (
	"encoding/json"
	"testing"

	"github.com/xcbench/xcbench/core/synth"
	"github.com/xcbench/xcbench/plugins/plugintest"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// TestConformance runs the plugin kit in process and over gRPC, with the
// dataset loaded from disk by Configure as in a real run.
func TestConformance(t *testing.T) {
	dir := t.TempDir()
	ds, err := synth.Generate(synth.Config{Labels: 40, TrainDocs: 300, TestDocs: 50, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := synth.Write(dir, ds); err != nil {
		t.Fatal(err)
	}
	for _, extra := range []string{`"fusion": "tree"`, `"fusion": "sum"`, `"fusion": "tree", "doc_neighbours": 5`} {
		t.Run(extra, func(t *testing.T) {
			cfg := sdk.Config{Seed: 3, Params: json.RawMessage(`{"batch_size": 64, "num_nbrs": 10, ` + extra + `}`),
				Dataset: sdk.Dataset{Dir: dir, Options: json.RawMessage(`{"cache_dir": "-"}`)}}
			plugintest.TestClassifier(t, func() sdk.Classifier { return New() }, cfg, plugintest.ClassifierOptions{Dim: 16, K: 12})
		})
	}
}
