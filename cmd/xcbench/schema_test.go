package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/xcbench/xcbench/core/synth"
	"github.com/xcbench/xcbench/plugins/registry"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// TestBuiltinSchemasMatchParams: for every built-in, each key its
// ConfigSchema documents is accepted by its Configure (with the documented
// default), and an undocumented key is refused as an unknown parameter.
// Both come from sdk's one params implementation, so a component that
// decodes by hand, or documents a key it does not read, shows here.
func TestBuiltinSchemasMatchParams(t *testing.T) {
	ctx := context.Background()
	ds, err := synth.Generate(synth.Config{Labels: 20, TrainDocs: 60, TestDocs: 10, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := synth.Write(dir, ds); err != nil {
		t.Fatal(err)
	}
	for _, e := range registry.All() {
		t.Run(string(e.Kind)+"/"+e.Name, func(t *testing.T) {
			info, err := e.New().Describe(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var schema map[string]struct {
				Default json.RawMessage `json:"default"`
			}
			if err := json.Unmarshal(info.ConfigSchema, &schema); err != nil {
				t.Fatalf("schema %s: %v", info.ConfigSchema, err)
			}
			cfg := sdk.Config{Seed: 1, ScratchDir: t.TempDir(), Dataset: sdk.Dataset{Dir: dir, Name: "synth"}}
			cfg.Params = json.RawMessage(`{"xcbench_undocumented": 1}`)
			if err := e.New().Configure(ctx, cfg); !errors.Is(err, sdk.ErrInvalidConfig) || !strings.Contains(err.Error(), `unknown parameter "xcbench_undocumented"`) {
				t.Fatalf("undocumented key: err %v", err)
			}
			for key, entry := range schema {
				cfg.Params, _ = json.Marshal(map[string]json.RawMessage{key: entry.Default})
				if err := e.New().Configure(ctx, cfg); err != nil && strings.Contains(err.Error(), "parameter \""+key+"\"") {
					t.Errorf("documented key %q with its default %s refused: %v", key, entry.Default, err)
				}
			}
		})
	}
}
