package bow

import (
	"testing"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/encoders/siamese"
	"github.com/xcbench/xcbench/encoders/siamese/siamesetest"
)

type longEncoder struct{ *siamese.Component }

func (e longEncoder) Dataset() *data.Dataset { return e.Service().Dataset() }

// TestCookingLong is the measured run behind the README number, not part of
// the suite: XCBENCH_LONG=1 go test -run CookingLong -v ./encoders/bow
// (see siamesetest.LongRun for the other variables).
func TestCookingLong(t *testing.T) {
	siamesetest.LongRun(t, longEncoder{New()}, 20,
		`{"dim": 128, "batch_size": 256, "lr": 0.005, "warmup_steps": 50, "loss": "infonce", "temperature": 0.05}`)
}
