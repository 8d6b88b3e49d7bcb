package tfidfknn

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/xcbench/xcbench/core/synth"
	"github.com/xcbench/xcbench/plugins/plugintest"
	"github.com/xcbench/xcbench/plugins/registry"
	"github.com/xcbench/xcbench/plugins/sdk"
)

func TestPluginMatchesModel(t *testing.T) {
	dir := t.TempDir()
	ds, err := synth.Generate(synth.Config{Labels: 60, TrainDocs: 400, TestDocs: 100, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := synth.Write(dir, ds); err != nil {
		t.Fatal(err)
	}
	f, ok := registry.Lookup(sdk.KindClassifier, PluginName)
	if !ok {
		t.Fatalf("%s not registered", PluginName)
	}
	p := f().(sdk.Classifier)
	ctx := context.Background()
	cfg := sdk.Config{Params: json.RawMessage(`{"k": 5}`), Dataset: sdk.Dataset{Dir: dir, Options: json.RawMessage(`{"cache_dir": "-"}`)}}
	if err := p.Configure(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Predict(ctx, sdk.SplitTest, sdk.Matrix{}, 5); !errors.Is(err, sdk.ErrNotConfigured) {
		t.Errorf("predict before train: %v", err)
	}
	// embeddings are ignored: an empty TrainInput is fine
	if _, err := p.Train(ctx, sdk.TrainInput{}); err != nil {
		t.Fatal(err)
	}
	pl := p.(*Plugin)
	for _, split := range []sdk.Split{sdk.SplitTest, sdk.SplitTrain} {
		got, err := p.Predict(ctx, split, sdk.Matrix{}, 7)
		if err != nil {
			t.Fatal(err)
		}
		want, err := pl.model.PredictSplit(ctx, split, 7)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Labels, want.Labels) || !slices.Equal(got.Scores, want.Scores) {
			t.Errorf("%s: plugin predictions differ from the model's", split)
		}
		wantRows := pl.ds.TestX.NRows
		if split == sdk.SplitTrain {
			wantRows = pl.ds.TrainX.NRows
		}
		if got.Rows != wantRows || got.K != 7 {
			t.Errorf("%s: %d rows x %d, want %d x 7", split, got.Rows, got.K, wantRows)
		}
	}
	if _, err := p.Predict(ctx, sdk.SplitLabels, sdk.Matrix{}, 5); err == nil {
		t.Error("labels split accepted")
	}
	if _, err := p.Predict(ctx, sdk.SplitTest, sdk.Matrix{Rows: 3, Cols: 2, Data: make([]float32, 6)}, 5); err == nil {
		t.Error("row-count mismatch accepted")
	}
}

func TestPluginStrictConfig(t *testing.T) {
	ds, err := synth.Generate(synth.Config{Labels: 10, TrainDocs: 30, TestDocs: 5, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, params, want string }{
		{"unknown key", `{"neighbours": 5}`, `"neighbours"`},
		{"bad k", `{"k": 0}`, "k"},
		{"bad idf", `{"idf": "bm25"}`, "idf"},
		{"bad power", `{"power": -1}`, "power"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := NewPlugin().ConfigureDataset(context.Background(), sdk.Config{Params: json.RawMessage(tc.params)}, ds)
			if !errors.Is(err, sdk.ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want ErrInvalidConfig naming %s", err, tc.want)
			}
		})
	}
	if err := NewPlugin().Configure(context.Background(), sdk.Config{}); !errors.Is(err, sdk.ErrInvalidConfig) {
		t.Errorf("empty dataset dir: %v", err)
	}
}

func TestPluginConformance(t *testing.T) {
	dir := t.TempDir()
	ds, err := synth.Generate(synth.Config{Labels: 40, TrainDocs: 200, TestDocs: 50, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := synth.Write(dir, ds); err != nil {
		t.Fatal(err)
	}
	cfg := sdk.Config{Seed: 3, Params: json.RawMessage(`{"k": 5}`),
		Dataset: sdk.Dataset{Dir: dir, Options: json.RawMessage(`{"cache_dir": "-"}`)}}
	plugintest.TestClassifier(t, func() sdk.Classifier { return NewPlugin() }, cfg)
}
