package plugintest_test

import (
	"encoding/json"
	"testing"

	"github.com/xcbench/xcbench/plugins/plugintest"
	"github.com/xcbench/xcbench/plugins/plugintest/toy"
	"github.com/xcbench/xcbench/plugins/sdk"
)

func TestToyEncoder(t *testing.T) {
	cfg := sdk.Config{Seed: 7, Params: json.RawMessage(`{"dim":12}`)}
	plugintest.TestEncoder(t, func() sdk.Encoder { return toy.NewEncoder().(sdk.Encoder) }, cfg,
		plugintest.EncoderOptions{NumDocs: 60, NumLabels: 24})
}

func TestToySampler(t *testing.T) {
	tests := []struct {
		name   string
		params string
	}{
		{"in-batch", `{}`},
		{"explicit negatives", `{"negatives":3,"num_docs":90}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p struct {
				NumDocs int `json:"num_docs"`
			}
			p.NumDocs = 60
			_ = json.Unmarshal([]byte(tc.params), &p)
			cfg := sdk.Config{Seed: 3, Params: json.RawMessage(tc.params)}
			plugintest.TestSampler(t, func() sdk.Sampler { return toy.NewSampler().(sdk.Sampler) }, cfg,
				plugintest.SamplerOptions{TrainY: toy.TrainY(p.NumDocs, 24), BatchSize: 5})
		})
	}
}

func TestToyClassifier(t *testing.T) {
	plugintest.TestClassifier(t, func() sdk.Classifier { return toy.NewClassifier().(sdk.Classifier) }, sdk.Config{Seed: 1},
		plugintest.ClassifierOptions{NumTrain: 30, NumTest: 40, NumLabels: 20, K: 25})
}
