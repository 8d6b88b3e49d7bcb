package siamese

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/encoders/gomlxkit"
	"github.com/xcbench/xcbench/plugins/sdk"
)

// Builder decodes an encoder's params (strictly; see DecodeParams) and
// builds its network for the dataset, initialised from rng.
type Builder func(raw json.RawMessage, ds *data.Dataset, rng *rand.Rand) (Arch, TrainConfig, error)

// Component adapts an Arch builder to sdk.Encoder and sdk.MemoryBanker.
type Component struct {
	Name    string
	Version string
	// Schema returns Describe's ConfigSchema.
	Schema func() (json.RawMessage, error)
	Build  Builder
	// Dataset, when set before Configure, is used instead of loading
	// c.Dataset.Dir (in-process tests and tools).
	Dataset *data.Dataset

	mu  sync.Mutex
	svc *Service
}

// NewRNG is the generator every encoder initialises from: PCG seeded from
// the run seed and a per-encoder stream so two encoders with the same seed
// still differ.
func NewRNG(seed uint64, stream string) *rand.Rand {
	var h uint64 = 1469598103934665603
	for i := range len(stream) {
		h = (h ^ uint64(stream[i])) * 1099511628211
	}
	return rand.New(rand.NewPCG(seed, h))
}

// Describe implements sdk.Plugin.
func (c *Component) Describe(ctx context.Context) (info sdk.Info, err error) {
	defer gomlxkit.Recover(&err, "encoder "+c.Name+": describe")
	schema, err := c.Schema()
	if err != nil {
		return info, fmt.Errorf("encoder %s: %w", c.Name, err)
	}
	return sdk.Info{
		Name: c.Name, Kind: sdk.KindEncoder, Version: c.Version, APIVersions: []int{sdk.APIVersion},
		Capabilities: []string{"memory_bank"}, ConfigSchema: schema,
	}, nil
}

// Configure implements sdk.Plugin.
func (c *Component) Configure(ctx context.Context, cfg sdk.Config) (err error) {
	defer gomlxkit.Recover(&err, "encoder "+c.Name+": configure")
	ds := c.Dataset
	if ds == nil {
		opts, err := data.DecodeOptions(cfg.Dataset.Options)
		if err != nil {
			return fmt.Errorf("encoder %s: %w: %w", c.Name, sdk.ErrInvalidConfig, err)
		}
		if opts.Name == "" {
			opts.Name = cfg.Dataset.Name
		}
		if ds, err = data.Open(cfg.Dataset.Dir, opts); err != nil {
			return fmt.Errorf("encoder %s: %w", c.Name, err)
		}
	}
	arch, tc, err := c.Build(cfg.Params, ds, NewRNG(cfg.Seed, c.Name))
	if err != nil {
		return fmt.Errorf("encoder %s: %w", c.Name, err)
	}
	svc, err := New(c.Name, arch, ds, tc, cfg.Seed)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.svc = svc
	c.mu.Unlock()
	return nil
}

// Service returns the configured service (nil before Configure).
func (c *Component) Service() *Service {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.svc
}

func (c *Component) get() (*Service, error) {
	if s := c.Service(); s != nil {
		return s, nil
	}
	return nil, fmt.Errorf("encoder %s: %w", c.Name, sdk.ErrNotConfigured)
}

// TrainStep implements sdk.Encoder.
func (c *Component) TrainStep(ctx context.Context, b sdk.Batch) (sdk.StepStats, error) {
	s, err := c.get()
	if err != nil {
		return sdk.StepStats{}, err
	}
	return s.TrainStep(ctx, b)
}

// Encode implements sdk.Encoder.
func (c *Component) Encode(ctx context.Context, split sdk.Split, ids []int32) (sdk.Matrix, error) {
	s, err := c.get()
	if err != nil {
		return sdk.Matrix{}, err
	}
	return s.Encode(ctx, split, ids)
}

// Save implements sdk.Encoder.
func (c *Component) Save(ctx context.Context, dir string) (err error) {
	defer gomlxkit.Recover(&err, "encoder "+c.Name+": save")
	s, err := c.get()
	if err != nil {
		return err
	}
	return s.Save(ctx, dir)
}

// Load implements sdk.Encoder.
func (c *Component) Load(ctx context.Context, dir string) (err error) {
	defer gomlxkit.Recover(&err, "encoder "+c.Name+": load")
	s, err := c.get()
	if err != nil {
		return err
	}
	return s.Load(ctx, dir)
}

// MemoryBank implements sdk.MemoryBanker.
func (c *Component) MemoryBank(ctx context.Context) (sdk.Matrix, error) {
	s, err := c.get()
	if err != nil {
		return sdk.Matrix{}, err
	}
	return s.MemoryBank(ctx)
}

var (
	_ sdk.Encoder      = (*Component)(nil)
	_ sdk.MemoryBanker = (*Component)(nil)
)
