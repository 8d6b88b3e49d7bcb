package host

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/xcbench/xcbench/plugins/sdk"
)

// guard decorates a component so every error names the plugin and the call,
// a process that died mid-call yields sdk.ErrPluginCrashed, and (in-process)
// a panicking component fails the call instead of the host.
type guard struct{ p *Plugin }

func (g guard) label() string {
	if g.p.client == nil {
		return fmt.Sprintf("%s %s (in-process)", g.p.Kind, g.p.Name)
	}
	return fmt.Sprintf("%s %s (%s, pid %d)", g.p.Kind, g.p.Name, g.p.Path, g.p.PID)
}

// crashWait bounds how long a failed call waits for go-plugin to notice the
// process exit, which trails the broken connection by a few milliseconds.
const crashWait = 2 * time.Second

func (g guard) wrap(ctx context.Context, call string, err error) error {
	if err == nil {
		return nil
	}
	if g.p.client != nil && (errors.Is(err, sdk.ErrPluginCrashed) || (errors.Is(err, sdk.ErrCanceled) && ctx.Err() == nil) || g.p.client.Exited()) {
		deadline := time.Now().Add(crashWait)
		for !g.p.client.Exited() && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if g.p.client.Exited() {
			g.p.Kill() // reap and release go-plugin's resources
			detail := ""
			if last := lastUseful(g.p.StderrTail()); last != "" {
				detail = "; last stderr: " + last
			}
			return fmt.Errorf("%s: %s: %w: %s%s", g.label(), call, sdk.ErrPluginCrashed, firstLine(err.Error()), detail)
		}
	}
	return fmt.Errorf("%s: %s: %w", g.label(), call, err)
}

// lastUseful picks the panic line if there is one, else the last line.
func lastUseful(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], "panic:") || strings.HasPrefix(lines[i], "fatal error:") {
			return lines[i]
		}
	}
	if len(lines) > 0 {
		return lines[len(lines)-1]
	}
	return ""
}

// do runs f as call, recovering panics of in-process components.
func (g guard) do(ctx context.Context, call string, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: %s: panic: %v", g.label(), call, r)
		}
	}()
	return g.wrap(ctx, call, f())
}

func (g guard) Describe(ctx context.Context) (info sdk.Info, err error) {
	err = g.do(ctx, "Describe", func() (err error) { info, err = g.p.raw.Describe(ctx); return })
	return
}

func (g guard) Configure(ctx context.Context, c sdk.Config) error {
	return g.do(ctx, "Configure", func() error { return g.p.raw.Configure(ctx, c) })
}

func guardFor(kind sdk.Kind, raw sdk.Plugin, p *Plugin) (sdk.Plugin, error) {
	g := guard{p}
	switch kind {
	case sdk.KindEncoder:
		e, ok := raw.(sdk.Encoder)
		if !ok {
			break
		}
		eg := encoderGuard{g, e}
		if mb, ok := raw.(sdk.MemoryBanker); ok {
			return bankGuard{eg, mb}, nil
		}
		return eg, nil
	case sdk.KindSampler:
		if s, ok := raw.(sdk.Sampler); ok {
			return samplerGuard{g, s}, nil
		}
	case sdk.KindClassifier:
		if c, ok := raw.(sdk.Classifier); ok {
			return classifierGuard{g, c}, nil
		}
	default:
		return nil, fmt.Errorf("unknown kind %q", kind)
	}
	return nil, fmt.Errorf("%T does not implement the %s interface", raw, kind)
}

type encoderGuard struct {
	guard
	e sdk.Encoder
}

func (g encoderGuard) TrainStep(ctx context.Context, b sdk.Batch) (st sdk.StepStats, err error) {
	err = g.do(ctx, "TrainStep", func() (err error) { st, err = g.e.TrainStep(ctx, b); return })
	return
}

func (g encoderGuard) Encode(ctx context.Context, split sdk.Split, ids []int32) (m sdk.Matrix, err error) {
	err = g.do(ctx, "Encode "+string(split), func() (err error) { m, err = g.e.Encode(ctx, split, ids); return })
	return
}

func (g encoderGuard) Save(ctx context.Context, dir string) error {
	return g.do(ctx, "Save", func() error { return g.e.Save(ctx, dir) })
}

func (g encoderGuard) Load(ctx context.Context, dir string) error {
	return g.do(ctx, "Load", func() error { return g.e.Load(ctx, dir) })
}

type bankGuard struct {
	encoderGuard
	mb sdk.MemoryBanker
}

func (g bankGuard) MemoryBank(ctx context.Context) (m sdk.Matrix, err error) {
	err = g.do(ctx, "MemoryBank", func() (err error) { m, err = g.mb.MemoryBank(ctx); return })
	return
}

type samplerGuard struct {
	guard
	s sdk.Sampler
}

func (g samplerGuard) Plan(ctx context.Context, epoch int) (p sdk.RefreshPlan, err error) {
	err = g.do(ctx, fmt.Sprintf("Plan epoch %d", epoch), func() (err error) { p, err = g.s.Plan(ctx, epoch); return })
	return
}

func (g samplerGuard) Refresh(ctx context.Context, epoch int, docs, labels sdk.Matrix) (st sdk.RefreshStats, err error) {
	err = g.do(ctx, fmt.Sprintf("Refresh epoch %d", epoch), func() (err error) { st, err = g.s.Refresh(ctx, epoch, docs, labels); return })
	return
}

func (g samplerGuard) Batches(ctx context.Context, epoch, batchSize int) iter.Seq2[sdk.Batch, error] {
	call := fmt.Sprintf("Batches epoch %d", epoch)
	return func(yield func(sdk.Batch, error) bool) {
		n, inYield := 0, false
		defer func() {
			if r := recover(); r != nil {
				if inYield {
					panic(r) // the caller's loop body panicked: not ours to hide
				}
				yield(sdk.Batch{}, fmt.Errorf("%s: %s: panic after %d batches: %v", g.label(), call, n, r))
			}
		}()
		for b, err := range g.s.Batches(ctx, epoch, batchSize) {
			if err != nil {
				yield(sdk.Batch{}, g.wrap(ctx, call, fmt.Errorf("after %d batches: %w", n, err)))
				return
			}
			n++
			inYield = true
			more := yield(b, nil)
			inYield = false
			if !more {
				return
			}
		}
	}
}

type classifierGuard struct {
	guard
	c sdk.Classifier
}

func (g classifierGuard) Train(ctx context.Context, in sdk.TrainInput) (st sdk.TrainStats, err error) {
	err = g.do(ctx, "Train", func() (err error) { st, err = g.c.Train(ctx, in); return })
	return
}

func (g classifierGuard) Predict(ctx context.Context, split sdk.Split, docs sdk.Matrix, k int) (top sdk.TopK, err error) {
	err = g.do(ctx, "Predict "+string(split), func() (err error) { top, err = g.c.Predict(ctx, split, docs, k); return })
	return
}
