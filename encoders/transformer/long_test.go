package transformer

import (
	"testing"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/encoders/siamese"
	"github.com/xcbench/xcbench/encoders/siamese/siamesetest"
)

type longEncoder struct{ *siamese.Component }

func (e longEncoder) Dataset() *data.Dataset { return e.Service().Dataset() }

// TestCookingLong is the measured run behind the README number, not part of
// the suite: XCBENCH_LONG=1 go test -run CookingLong -v ./encoders/transformer
// (see siamesetest.LongRun for the other variables).
func TestCookingLong(t *testing.T) {
	siamesetest.LongRun(t, longEncoder{New()}, 3,
		`{"dim": 64, "layers": 1, "heads": 4, "ffn": 128, "max_len": 24, "batch_size": 128, "lr": 0.002, "warmup_steps": 50, "loss": "infonce", "temperature": 0.05}`)
}
