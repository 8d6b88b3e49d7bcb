package runner

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/xcbench/xcbench/plugins/sdk"
)

// Plugin calls, the keys of a grid's call_timeouts.
const (
	CallConfigure = "configure"
	CallPlan      = "plan"
	CallRefresh   = "refresh"
	CallBatches   = "batches"
	CallTrainStep = "train_step"
	CallEncode    = "encode"
	CallSave      = "save"
	CallLoad      = "load"
	CallTrain     = "train"
	CallPredict   = "predict"
)

// DefaultCallTimeouts bound each plugin call so a plugin that never
// answers fails its cell instead of hanging the grid. They are generous:
// hours for whole-corpus work (refresh, encode, classifier training) at
// millions of items on a CPU, minutes for one step. "batches" bounds one
// epoch's batch stream as a whole.
var DefaultCallTimeouts = map[string]time.Duration{
	CallConfigure: 30 * time.Minute,
	CallPlan:      5 * time.Minute,
	CallRefresh:   12 * time.Hour,
	CallBatches:   48 * time.Hour,
	CallTrainStep: 30 * time.Minute,
	CallEncode:    12 * time.Hour,
	CallSave:      30 * time.Minute,
	CallLoad:      30 * time.Minute,
	CallTrain:     48 * time.Hour,
	CallPredict:   12 * time.Hour,
}

// ErrCallTimeout marks a plugin call that ran past its deadline.
var ErrCallTimeout = errors.New("plugin call timed out")

// callTimeout is the grid's override for call, else the default.
func (c *cellRun) callTimeout(call string) time.Duration {
	if c.g != nil {
		if d, ok := c.g.CallTimeouts[call]; ok && d > 0 {
			return d
		}
	}
	return DefaultCallTimeouts[call]
}

// call runs fn under the call's deadline and names the plugin and call
// when it is the deadline that ended it. An interruption or cell timeout
// of the caller (ctx) is passed through as is.
func (c *cellRun) call(ctx context.Context, plugin, call string, fn func(context.Context) error) error {
	d := c.callTimeout(call)
	cctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	err := fn(cctx)
	if err != nil && ctx.Err() == nil && errors.Is(cctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("timed out after %s s in %s.%s: %w", strconv.FormatFloat(d.Seconds(), 'f', -1, 64), plugin, call, ErrCallTimeout)
	}
	return err
}

// encode is the encoder's Encode under the encode deadline.
func (c *cellRun) encode(ctx context.Context, split sdk.Split, ids []int32) (m sdk.Matrix, err error) {
	err = c.call(ctx, c.spec.Encoder.Name, CallEncode, func(ctx context.Context) error {
		m, err = c.enc.Encode(ctx, split, ids)
		return err
	})
	return m, err
}

// Fault points: where Options.Fault is called. Per-epoch points carry
// ":<epoch>" (0-based), steps ":<epoch>:<step>" (1-based).
const (
	PointLaunched       = "launched"
	PointResumed        = "resumed"
	PointRefreshed      = "refreshed"     // the sampler refreshed; its inputs not yet saved
	PointRefreshSaved   = "refresh-saved" // refresh inputs saved; no step yet
	PointStep           = "step"
	PointTrained        = "trained"
	PointEvaluated      = "evaluated"
	PointRecorded       = "recorded"     // record appended; no checkpoint yet
	PointCheckpointed   = "checkpointed" // checkpoint saved; status not yet updated
	PointCommitted      = "committed"
	PointStage2Trained  = "stage2-trained"
	PointStage2Recorded = "stage2-recorded"
)

func (r *Runner) fault(point string) {
	if r.o.Fault != nil {
		r.o.Fault(point)
	}
}
