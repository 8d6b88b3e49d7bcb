// Command gateplugin is the Slurm end-to-end test's sampler "gate": the
// random sampler, except that when XCBENCH_TEST_GATE names a file, its
// batches for epoch 1 first create <file>.waiting and then wait until
// <file> exists. The test so holds a cell mid-run, after its epoch-0
// checkpoint, for exactly as long as it needs to signal the task, with
// file hand-offs instead of timing.
package main

import (
	"context"
	"iter"
	"os"
	"time"

	"github.com/xcbench/xcbench/plugins/sdk"
	"github.com/xcbench/xcbench/plugins/wire"
	"github.com/xcbench/xcbench/samplers/random"
)

type gate struct{ *random.Sampler }

func (g gate) Describe(ctx context.Context) (sdk.Info, error) {
	info, err := g.Sampler.Describe(ctx)
	info.Name = "gate"
	return info, err
}

func (g gate) Batches(ctx context.Context, epoch, batchSize int) iter.Seq2[sdk.Batch, error] {
	file := os.Getenv("XCBENCH_TEST_GATE")
	if file == "" || epoch != 1 {
		return g.Sampler.Batches(ctx, epoch, batchSize)
	}
	return func(yield func(sdk.Batch, error) bool) {
		if err := os.WriteFile(file+".waiting", nil, 0o644); err != nil {
			yield(sdk.Batch{}, err)
			return
		}
		for {
			if _, err := os.Stat(file); err == nil {
				break
			}
			select {
			case <-ctx.Done():
				yield(sdk.Batch{}, ctx.Err())
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
		for b, err := range g.Sampler.Batches(ctx, epoch, batchSize) {
			if !yield(b, err) {
				return
			}
		}
	}
}

func main() {
	wire.Serve(sdk.Component{Kind: sdk.KindSampler, Name: "gate",
		New: func() sdk.Plugin { return gate{random.New()} }})
}
