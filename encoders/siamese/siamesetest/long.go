package siamesetest

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// DatasetEncoder is an encoder that exposes the dataset it loaded.
type DatasetEncoder interface {
	sdk.Encoder
	Dataset() *data.Dataset
}

// LongRun is the measured encoder-only run behind the README numbers, not
// part of the suite: it runs only with XCBENCH_LONG=1 (XCBENCH_LONG_EPOCHS
// overrides epochs, XCBENCH_LONG_PARAMS the params, XCBENCH_LONG_DATASET the
// dataset folder name, default cooking) and logs encoder-only P@1 on the
// test split (nearest label by cosine, all rows as pyxclib counts) per
// epoch, training on uniformly shuffled in-batch batches.
func LongRun(t *testing.T, enc DatasetEncoder, epochs int, params string) {
	if os.Getenv("XCBENCH_LONG") == "" {
		t.Skip("set XCBENCH_LONG=1 for the long cooking run")
	}
	dir, ok := DataDir()
	if !ok {
		t.Skip("shared data folder not found")
	}
	if e, err := strconv.Atoi(os.Getenv("XCBENCH_LONG_EPOCHS")); err == nil {
		epochs = e
	}
	if p := os.Getenv("XCBENCH_LONG_PARAMS"); p != "" {
		params = p
	}
	name := os.Getenv("XCBENCH_LONG_DATASET")
	if name == "" {
		name = "cooking"
	}
	ctx := context.Background()
	if err := enc.Configure(ctx, sdk.Config{Params: json.RawMessage(params), Seed: 1,
		Dataset: sdk.Dataset{Dir: dir + "/" + name, Name: name, Options: json.RawMessage(`{"cache_dir":"-"}`)}}); err != nil {
		t.Fatal(err)
	}
	ds := enc.Dataset()
	var bsz struct {
		BatchSize int `json:"batch_size"`
	}
	_ = json.Unmarshal([]byte(params), &bsz)
	if bsz.BatchSize == 0 {
		bsz.BatchSize = 64
	}
	start := time.Now()
	for e := range epochs {
		var sum float64
		bs := Batches(ds.TrainY, bsz.BatchSize, 1, e)
		for _, b := range bs {
			st, err := enc.TrainStep(ctx, b)
			if err != nil {
				t.Fatal(err)
			}
			sum += st.Loss
		}
		p1, err := PrecisionAt1(ctx, enc, ds.TestY)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("epoch %2d  loss %.4f  P@1 %.4f  (%s)", e+1, sum/float64(len(bs)), p1, time.Since(start).Round(time.Second))
	}
	missing := 0
	for i := range ds.TestY.NRows {
		if ds.TestY.RowLen(i) == 0 {
			missing++
		}
	}
	t.Logf("test rows without labels: %d of %d", missing, ds.TestY.NRows)
}
