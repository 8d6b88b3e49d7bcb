package bow

import (
	"encoding/json"
	"testing"

	"github.com/xcbench/xcbench/core/synth"
	"github.com/xcbench/xcbench/plugins/plugintest"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// TestConformance runs the shared encoder kit in-process and over gRPC on
// a small synthetic LF-text dataset written to disk.
func TestConformance(t *testing.T) {
	ds, err := synth.Generate(synth.Config{Labels: 40, TrainDocs: 120, TestDocs: 30, NoiseWords: 200, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := synth.Write(dir, ds); err != nil {
		t.Fatal(err)
	}
	for _, params := range []string{
		`{"dim": 16, "batch_size": 8, "encode_batch": 32}`,
		`{"dim": 16, "batch_size": 8, "encode_batch": 32, "engine": "fused", "residual": true, "loss": "infonce"}`,
		`{"dim": 16, "batch_size": 8, "encode_batch": 32, "engine": "graph"}`,
		`{"dim": 16, "batch_size": 8, "encode_batch": 32, "engine": "graph", "loss": "dsoftmax", "grad_cache": 4}`,
	} {
		t.Run(params, func(t *testing.T) {
			cfg := sdk.Config{Seed: 5, Params: json.RawMessage(params),
				Dataset: sdk.Dataset{Dir: dir, Name: "synth", Options: json.RawMessage(`{"cache_dir":"-"}`)}, ScratchDir: t.TempDir()}
			plugintest.TestEncoder(t, func() sdk.Encoder { return New() }, cfg)
		})
	}
}
