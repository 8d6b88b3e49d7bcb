package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/xcbench/xcbench/core/grid"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/core/metrics"
	"github.com/xcbench/xcbench/core/synth"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// OpenData is the default DataFunc: data.Open with strictly decoded options.
func OpenData(_ context.Context, dir string, options json.RawMessage) (*data.Dataset, error) {
	o, err := data.DecodeOptions(options)
	if err != nil {
		return nil, err
	}
	return data.Open(dir, o)
}

// Score is the default ScoreFunc: core/metrics (pyxclib definitions) with
// the dataset's test filter and inverse propensities, on the first rows
// test documents.
func Score(pred sdk.TopK, ds *data.Dataset, rows int, ks []int) (map[string]float64, error) {
	truth, filter := ds.TestY, ds.FilterTest
	if rows < truth.NRows {
		ids := make([]int32, rows)
		for i := range ids {
			ids[i] = int32(i)
		}
		truth = truth.SelectRows(ids)
		filter = nil
		for _, p := range ds.FilterTest {
			if int(p.Row) < rows {
				filter = append(filter, p)
			}
		}
	}
	inv := metrics.InvPropensity(ds.TrainY, ds.PropA, ds.PropB)
	res, err := metrics.Evaluate(pred, truth, filter, inv, ks)
	if err != nil {
		return nil, err
	}
	return res.Map(), nil
}

// SynthConfig decodes and checks a grid's synth params strictly (unknown
// keys, fractions for counts, negative values are errors).
func SynthConfig(params map[string]any) (synth.Config, error) {
	var c synth.Config
	d, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		ErrorUnused: true, WeaklyTypedInput: true, Result: &c, DecodeHook: grid.StrictNumbers,
		MatchName: func(key, field string) bool {
			return strings.EqualFold(strings.ReplaceAll(key, "_", ""), field)
		},
	})
	if err != nil {
		return c, err
	}
	if err := d.Decode(params); err != nil {
		return c, fmt.Errorf("synth params: %w", err)
	}
	return c, c.Check()
}

// Synth is the default SynthFunc: params are synth.Config fields in
// snake_case (train_docs, labels, seed, options: {max_len: 16}, ...),
// decoded strictly.
func Synth(_ context.Context, params map[string]any, dir string) error {
	c, err := SynthConfig(params)
	if err != nil {
		return err
	}
	ds, err := synth.Generate(c)
	if err != nil {
		return err
	}
	return synth.Write(dir, ds)
}
