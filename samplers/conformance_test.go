package samplers_test

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/xcbench/xcbench/plugins/plugintest"
	"github.com/xcbench/xcbench/plugins/registry"
	"github.com/xcbench/xcbench/plugins/sdk"
	_ "github.com/xcbench/xcbench/samplers/ance"
	_ "github.com/xcbench/xcbench/samplers/ngame"
	_ "github.com/xcbench/xcbench/samplers/random"
	_ "github.com/xcbench/xcbench/samplers/tasb"
)

// TestConformance runs the plugin conformance kit against every built-in
// sampler, in-process and over gRPC, with schedules that refresh inside the
// kit's epochs so the Refresh path is exercised too.
func TestConformance(t *testing.T) {
	dir, err := filepath.Abs("batching/testdata/tiny")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, params string
	}{
		{"random", `{}`},
		{"random", `{"negatives":2}`},
		{"ngame", `{"refresh_start":1,"refresh_interval":1,"curriculum_epochs":[1,2],"lag":false}`},
		{"ngame", `{"refresh_start":1,"refresh_interval":1,"curriculum_epochs":[1],"doc_source":"fresh"}`},
		{"ance", `{"refresh_start":1,"refresh_interval":1,"negatives":2,"depth":4,"index":"exact"}`},
		{"ance", `{"refresh_start":0,"refresh_interval":1,"negatives":2,"depth":5,"index":"hnsw","stale":false,"pick":"sample"}`},
		{"ance", `{"refresh_start":1,"refresh_interval":1,"negatives":3,"depth":5,"index":"exact","uniform_fraction":0.34,"skip_top":1}`},
		{"tasb", `{}`},
		{"tasb", `{"features":"encoder","cluster_size":8}`},
	}
	for _, tc := range tests {
		t.Run(tc.name+tc.params, func(t *testing.T) {
			f, ok := registry.Lookup(sdk.KindSampler, tc.name)
			if !ok {
				t.Fatalf("sampler %q not registered", tc.name)
			}
			cfg := sdk.Config{Seed: 11, Params: json.RawMessage(tc.params),
				Dataset: sdk.Dataset{Dir: dir, Name: "tiny"}, ScratchDir: t.TempDir()}
			plugintest.TestSampler(t, func() sdk.Sampler { return f().(sdk.Sampler) }, cfg,
				plugintest.SamplerOptions{BatchSize: 4, Epochs: 3})
		})
	}
}
