package main

import (
	"encoding/json"
	"testing"

	"github.com/xcbench/xcbench/core/synth"
	"github.com/xcbench/xcbench/plugins/plugintest"
	"github.com/xcbench/xcbench/plugins/sdk"
)

func TestConformance(t *testing.T) {
	ds, err := synth.Generate(synth.Config{Labels: 30, TrainDocs: 120, TestDocs: 20, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := synth.Write(dir, ds); err != nil {
		t.Fatal(err)
	}
	cfg := sdk.Config{Seed: 3, Params: json.RawMessage(`{"shuffle": true}`), Dataset: sdk.Dataset{Dir: dir, Name: "synth"}}
	plugintest.TestSampler(t, func() sdk.Sampler { return &firstLabel{} }, cfg, plugintest.SamplerOptions{BatchSize: 16})
}
