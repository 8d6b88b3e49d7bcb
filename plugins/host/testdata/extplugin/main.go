// Command extplugin is the host tests' external plugin. Its mode comes from
// its file name (xcbench-plugin-<mode>): "ext" serves a toy encoder,
// classifier and a sampler "crashy" whose "crash" param makes it die
// mid-Batches; "stdout" prints to stdout before the handshake; "badversion"
// speaks plugin protocol 2 only.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/go-plugin"

	"github.com/xcbench/xcbench/plugins/plugintest/toy"
	"github.com/xcbench/xcbench/plugins/sdk"
	"github.com/xcbench/xcbench/plugins/wire"
)

// crashy is the toy sampler plus a "crash" param: "exit" (os.Exit(3)),
// "panic" (an unrecovered panic on another goroutine) or "inline" (a panic
// in the call, which the SDK turns into an error), each after two batches.
type crashy struct {
	sdk.Sampler
	crash string
}

func (c *crashy) Describe(ctx context.Context) (sdk.Info, error) {
	info, err := c.Sampler.Describe(ctx)
	info.Name = "crashy"
	return info, err
}

func (c *crashy) Configure(ctx context.Context, cfg sdk.Config) error {
	m := map[string]json.RawMessage{}
	if len(cfg.Params) > 0 {
		if err := json.Unmarshal(cfg.Params, &m); err != nil {
			return fmt.Errorf("crashy: %v: %w", err, sdk.ErrInvalidConfig)
		}
	}
	if raw, ok := m["crash"]; ok {
		if err := json.Unmarshal(raw, &c.crash); err != nil {
			return fmt.Errorf("crashy: crash: %v: %w", err, sdk.ErrInvalidConfig)
		}
		delete(m, "crash")
	}
	cfg.Params, _ = json.Marshal(m)
	return c.Sampler.Configure(ctx, cfg)
}

func (c *crashy) Batches(ctx context.Context, epoch, batchSize int) iter.Seq2[sdk.Batch, error] {
	return func(yield func(sdk.Batch, error) bool) {
		n := 0
		for b, err := range c.Sampler.Batches(ctx, epoch, batchSize) {
			if n == 2 {
				switch c.crash {
				case "exit":
					os.Exit(3)
				case "panic":
					go func() { panic("crashy: boom on another goroutine") }()
					time.Sleep(10 * time.Second)
				case "inline":
					panic("crashy: inline boom")
				}
			}
			if !yield(b, err) {
				return
			}
			n++
		}
	}
}

type renamed struct {
	sdk.Sampler
	name string
}

func (r renamed) Describe(ctx context.Context) (sdk.Info, error) {
	info, err := r.Sampler.Describe(ctx)
	info.Name = r.name
	return info, err
}

func main() {
	mode := strings.TrimPrefix(filepath.Base(os.Args[0]), "xcbench-plugin-")
	serving := len(os.Args) > 1 && os.Args[1] == "serve"
	switch mode {
	case "stdout":
		if serving {
			fmt.Println("hello from a plugin that prints before the handshake")
		}
		wire.Serve(sdk.Component{Kind: sdk.KindSampler, Name: "stdout", New: func() sdk.Plugin {
			return renamed{toy.NewSampler().(sdk.Sampler), "stdout"}
		}})
	case "badversion":
		if !serving {
			wire.Serve(sdk.Component{Kind: sdk.KindSampler, Name: "badversion", New: func() sdk.Plugin {
				return renamed{toy.NewSampler().(sdk.Sampler), "badversion"}
			}})
			return
		}
		hs := wire.Handshake
		hs.ProtocolVersion = 2
		plugin.Serve(&plugin.ServeConfig{
			HandshakeConfig:  hs,
			VersionedPlugins: map[int]plugin.PluginSet{2: {"sampler": &wire.SamplerPlugin{Impl: toy.NewSampler().(sdk.Sampler)}}},
			GRPCServer:       wire.GRPCServerFactory,
		})
	case "shadow":
		// Offers a component under a built-in's name: discovery must
		// report it instead of listing or running it.
		wire.Serve(sdk.Component{Kind: sdk.KindSampler, Name: "toy", New: toy.NewSampler})
	default:
		wire.Serve(
			sdk.Component{Kind: sdk.KindSampler, Name: "crashy", New: func() sdk.Plugin {
				return &crashy{Sampler: toy.NewSampler().(sdk.Sampler)}
			}},
			sdk.Component{Kind: sdk.KindEncoder, Name: "ext", New: toy.NewEncoder},
			sdk.Component{Kind: sdk.KindClassifier, Name: "ext", New: toy.NewClassifier},
		)
	}
}
