package results

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

const ckptMarker = "xcbench-epoch.json"

// SaveCheckpoint stores a checkpoint for epoch: save writes into a fresh
// folder, which then replaces the previous checkpoint, so a crash at any
// point leaves one complete checkpoint (old or new).
func (c *CellStore) SaveCheckpoint(epoch int, save func(dir string) error) error {
	final := c.CheckpointDir()
	next := final + ".next"
	if err := os.RemoveAll(next); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	if err := os.MkdirAll(next, 0o755); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	if err := save(next); err != nil {
		return fmt.Errorf("results: checkpoint epoch %d: %w", epoch, err)
	}
	if err := WriteJSONAtomic(filepath.Join(next, ckptMarker), map[string]int{"epoch": epoch}); err != nil {
		return err
	}
	old := final + ".old"
	os.RemoveAll(old)
	if _, err := os.Stat(final); err == nil {
		if err := os.Rename(final, old); err != nil {
			return fmt.Errorf("results: %w", err)
		}
	}
	if err := os.Rename(next, final); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	return os.RemoveAll(old)
}

// LastCheckpoint finds the newest complete checkpoint: its folder and epoch,
// or epoch -1 when there is none.
func (c *CellStore) LastCheckpoint() (string, int, error) {
	best, bestEpoch := "", -1
	for _, d := range []string{c.CheckpointDir(), c.CheckpointDir() + ".next", c.CheckpointDir() + ".old"} {
		b, err := os.ReadFile(filepath.Join(d, ckptMarker))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", -1, fmt.Errorf("results: %w", err)
		}
		var m struct{ Epoch int }
		if err := json.Unmarshal(b, &m); err != nil {
			return "", -1, fmt.Errorf("results: %s: %w", d, err)
		}
		if m.Epoch > bestEpoch {
			best, bestEpoch = d, m.Epoch
		}
	}
	return best, bestEpoch, nil
}

// Reset removes a cell's records, checkpoints and status (a fresh start).
func (c *CellStore) Reset() error {
	if err := os.RemoveAll(c.Dir); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	return nil
}
