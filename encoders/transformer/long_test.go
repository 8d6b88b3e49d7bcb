package transformer

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/xcbench/xcbench/encoders/siamese/siamesetest"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// TestCookingLong is the measured run behind the README number, not part of
// the suite: XCBENCH_LONG=1 go test -run CookingLong -v ./encoders/transformer
// (XCBENCH_LONG_EPOCHS overrides the epoch count, XCBENCH_LONG_PARAMS the
// params, XCBENCH_LONG_DATASET the dataset folder name). It prints encoder-only P@1 on cooking test (nearest label by
// cosine, over all test rows as pyxclib counts) per epoch.
func TestCookingLong(t *testing.T) {
	if os.Getenv("XCBENCH_LONG") == "" {
		t.Skip("set XCBENCH_LONG=1 for the long cooking run")
	}
	dir, ok := siamesetest.DataDir()
	if !ok {
		t.Skip("shared data folder not found")
	}
	epochs := 3
	if e, err := strconv.Atoi(os.Getenv("XCBENCH_LONG_EPOCHS")); err == nil {
		epochs = e
	}
	params := os.Getenv("XCBENCH_LONG_PARAMS")
	if params == "" {
		params = `{"dim": 64, "layers": 1, "heads": 4, "ffn": 128, "max_len": 24, "batch_size": 128, "lr": 0.002, "warmup_steps": 50, "loss": "infonce", "temperature": 0.05}`
	}
	name := os.Getenv("XCBENCH_LONG_DATASET")
	if name == "" {
		name = "cooking"
	}
	ctx := context.Background()
	c := New()
	if err := c.Configure(ctx, sdk.Config{Params: json.RawMessage(params), Seed: 1,
		Dataset: sdk.Dataset{Dir: dir + "/" + name, Name: name, Options: json.RawMessage(`{"cache_dir":"-"}`)}}); err != nil {
		t.Fatal(err)
	}
	ds := c.Service().Dataset()
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
		bs := siamesetest.Batches(ds.TrainY, bsz.BatchSize, 1, e)
		for _, b := range bs {
			st, err := c.TrainStep(ctx, b)
			if err != nil {
				t.Fatal(err)
			}
			sum += st.Loss
		}
		p1, err := siamesetest.PrecisionAt1(ctx, c, ds.TestY)
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
