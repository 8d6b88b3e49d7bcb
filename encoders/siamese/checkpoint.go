package siamese

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/xcbench/xcbench/core/npy"
	"github.com/xcbench/xcbench/encoders/optim"
)

// checkpointFormat versions the on-disk layout.
const checkpointFormat = "xcbench-siamese-v1"

type tensorMeta struct {
	Name string `json:"name"`
	Dims []int  `json:"dims"`
	File string `json:"file"`
}

type manifest struct {
	Format  string       `json:"format"`
	Encoder string       `json:"encoder"`
	Step    int          `json:"step"`
	Tensors []tensorMeta `json:"tensors"`
	// RNGSeed with Step is the whole random state: dropout masks of step t
	// come from PCG(RNGSeed, t), so a resumed run draws the same masks.
	RNGSeed uint64 `json:"rng_seed"`
	// Shapes are the padded-shape high-water marks, restored so a resumed
	// run compiles the same shapes (summation order) as an uninterrupted one.
	Shapes map[string][3]int `json:"shapes,omitempty"`
}

func (s *Service) allParams() []*optim.Param {
	return append([]*optim.Param{s.arch.Table()}, s.arch.Params()...)
}

// Save writes weights, Adam moments, the step counter and the memory bank
// as .npy files plus encoder.json (written last, so a folder with an
// encoder.json is complete).
func (s *Service) Save(ctx context.Context, dir string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("encoder %s: save: %w", s.name, err)
	}
	man := manifest{Format: checkpointFormat, Encoder: s.name, Step: s.opt.Step, RNGSeed: s.seed,
		Shapes: map[string][3]int{
			"train":  {s.hiTrain.s, s.hiTrain.u, s.hiTrain.kn},
			"encode": {s.hiEncode.s, s.hiEncode.u, s.hiEncode.kn},
		}}
	for i, p := range s.allParams() {
		if err := ctx.Err(); err != nil {
			return err
		}
		file := fmt.Sprintf("t%03d", i)
		m, v := p.M, p.V
		if m == nil {
			m, v = make([]float32, len(p.Data)), make([]float32, len(p.Data))
		}
		for suffix, data := range map[string][]float32{"": p.Data, ".m": m, ".v": v} {
			if err := npy.Write(filepath.Join(dir, file+suffix+".npy"), p.Dims, data); err != nil {
				return fmt.Errorf("encoder %s: save %s: %w", s.name, p.Name, err)
			}
		}
		man.Tensors = append(man.Tensors, tensorMeta{Name: p.Name, Dims: p.Dims, File: file})
	}
	d := s.arch.Dim()
	if err := npy.Write(filepath.Join(dir, "bank.npy"), []int{len(s.bank) / d, d}, s.bank); err != nil {
		return fmt.Errorf("encoder %s: save memory bank: %w", s.name, err)
	}
	raw, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, "encoder.json.tmp")
	if err := os.WriteFile(tmp, raw, 0o644); err != nil {
		return fmt.Errorf("encoder %s: save: %w", s.name, err)
	}
	return os.Rename(tmp, filepath.Join(dir, "encoder.json"))
}

// Load restores a checkpoint written by Save into an encoder configured
// with the same architecture; every tensor's name and shape must match.
func (s *Service) Load(ctx context.Context, dir string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	path := filepath.Join(dir, "encoder.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("encoder %s: load: %w", s.name, err)
	}
	var man manifest
	if err := json.Unmarshal(raw, &man); err != nil {
		return fmt.Errorf("encoder %s: load %s: %w", s.name, path, err)
	}
	if man.Format != checkpointFormat {
		return fmt.Errorf("encoder %s: load %s: format %q, want %q", s.name, path, man.Format, checkpointFormat)
	}
	ps := s.allParams()
	if len(man.Tensors) != len(ps) {
		return fmt.Errorf("encoder %s: load %s: %d tensors, model has %d (different architecture?)", s.name, path, len(man.Tensors), len(ps))
	}
	type loaded struct{ data, m, v []float32 }
	all := make([]loaded, len(ps))
	for i, p := range ps {
		if err := ctx.Err(); err != nil {
			return err
		}
		t := man.Tensors[i]
		if t.Name != p.Name || !slices.Equal(t.Dims, p.Dims) {
			return fmt.Errorf("encoder %s: load %s: tensor %d is %s%v, model has %s%v", s.name, path, i, t.Name, t.Dims, p.Name, p.Dims)
		}
		var parts [3][]float32
		for j, suffix := range []string{"", ".m", ".v"} {
			f := filepath.Join(dir, t.File+suffix+".npy")
			data, shape, err := npy.Read[float32](f)
			if err != nil {
				return fmt.Errorf("encoder %s: load %s: %w", s.name, f, err)
			}
			if !slices.Equal(shape, p.Dims) {
				return fmt.Errorf("encoder %s: load %s: shape %v, want %v", s.name, f, shape, p.Dims)
			}
			parts[j] = data
		}
		all[i] = loaded{parts[0], parts[1], parts[2]}
	}
	bank, shape, err := npy.Read[float32](filepath.Join(dir, "bank.npy"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("encoder %s: load memory bank: %w", s.name, err)
	}
	if err == nil && (len(shape) != 2 || len(bank) != len(s.bank)) {
		return fmt.Errorf("encoder %s: load memory bank: shape %v does not match %d train docs × %d", s.name, shape, len(s.bank)/s.arch.Dim(), s.arch.Dim())
	}
	// Only now mutate, so a failed load leaves the encoder as it was.
	for i, p := range ps {
		p.Data, p.M, p.V = all[i].data, all[i].m, all[i].v
	}
	if bank != nil {
		s.bank = bank
	}
	s.opt.Step = man.Step
	s.seed = man.RNGSeed
	if m, ok := man.Shapes["train"]; ok {
		s.hiTrain = shapeMark{m[0], m[1], m[2]}
	}
	if m, ok := man.Shapes["encode"]; ok {
		s.hiEncode = shapeMark{m[0], m[1], m[2]}
	}
	return nil
}
