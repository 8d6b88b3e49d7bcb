package results

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

const ckptMarker = "xcbench-epoch.json"

// Checkpoint is one complete encoder checkpoint on disk.
type Checkpoint struct {
	Dir   string
	Epoch int
}

// SaveCheckpoint stores a checkpoint for epoch: save writes into a fresh
// folder, which then becomes ckpt/ while the checkpoint it replaces is kept
// as ckpt.prev/. A crash at any point leaves at least one complete
// checkpoint, and a checkpoint that turns out corrupt on resume (a
// truncated file on a full disk, say) still has an older one to fall back
// to.
func (c *CellStore) SaveCheckpoint(epoch int, save func(dir string) error) error {
	final := c.CheckpointDir()
	next := final + ".next"
	prev := final + ".prev"
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
	if _, err := os.Stat(final); err == nil {
		if err := os.RemoveAll(prev); err != nil {
			return fmt.Errorf("results: %w", err)
		}
		if err := os.Rename(final, prev); err != nil {
			return fmt.Errorf("results: %w", err)
		}
	}
	if err := os.Rename(next, final); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	// Folders of the layout before ckpt.prev existed.
	return os.RemoveAll(final + ".old")
}

// CopyCheckpoint installs a copy of another cell's checkpoint as this
// cell's ckpt/ (through ckpt.next and a rename, as SaveCheckpoint does).
func (c *CellStore) CopyCheckpoint(ck Checkpoint) error {
	return c.SaveCheckpoint(ck.Epoch, func(dir string) error {
		return filepath.WalkDir(ck.Dir, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(ck.Dir, path)
			if err != nil || rel == "." || rel == ckptMarker {
				return err
			}
			dst := filepath.Join(dir, rel)
			if d.IsDir() {
				return os.MkdirAll(dst, 0o755)
			}
			if !d.Type().IsRegular() {
				return fmt.Errorf("%s: not a regular file", path)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(dst, b, 0o644)
		})
	})
}

// Checkpoints lists the complete checkpoints, newest epoch first. A folder
// whose marker is unreadable is skipped: it is not a checkpoint.
func (c *CellStore) Checkpoints() ([]Checkpoint, error) {
	var out []Checkpoint
	seen := map[int]bool{}
	base := c.CheckpointDir()
	for _, d := range []string{base, base + ".next", base + ".prev", base + ".old"} {
		b, err := os.ReadFile(filepath.Join(d, ckptMarker))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("results: %w", err)
		}
		var m struct {
			Epoch *int `json:"epoch"`
		}
		if json.Unmarshal(b, &m) != nil || m.Epoch == nil || seen[*m.Epoch] {
			continue
		}
		seen[*m.Epoch] = true
		out = append(out, Checkpoint{Dir: d, Epoch: *m.Epoch})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Epoch > out[j].Epoch })
	return out, nil
}

// LastCheckpoint finds the newest complete checkpoint: its folder and epoch,
// or epoch -1 when there is none.
func (c *CellStore) LastCheckpoint() (string, int, error) {
	cks, err := c.Checkpoints()
	if err != nil || len(cks) == 0 {
		return "", -1, err
	}
	return cks[0].Dir, cks[0].Epoch, nil
}

// refreshPrefix names the per-epoch folders of saved refresh inputs.
const refreshPrefix = "refresh-"

// RefreshDir holds the embeddings the sampler's refresh at epoch was given,
// so a resumed cell can replay it exactly. One folder per refresh epoch:
// a refresh that ran after the last checkpoint must not replace the one
// the checkpoint's epoch trained on.
func (c *CellStore) RefreshDir(epoch int) string {
	return filepath.Join(c.Dir, fmt.Sprintf("%s%06d", refreshPrefix, epoch))
}

// Refreshes lists the epochs with a saved refresh folder, ascending.
func (c *CellStore) Refreshes() ([]int, error) {
	ents, err := os.ReadDir(c.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	var out []int
	for _, e := range ents {
		name := e.Name()
		if !e.IsDir() || !strings.HasPrefix(name, refreshPrefix) {
			continue
		}
		if n, err := strconv.Atoi(strings.TrimPrefix(name, refreshPrefix)); err == nil {
			out = append(out, n)
		}
	}
	sort.Ints(out)
	return out, nil
}

// PruneRefreshes removes the saved refreshes newer than through (they
// belong to an epoch that is being recomputed), and of those at or before
// it all but the keep newest (enough for every checkpoint still kept).
func (c *CellStore) PruneRefreshes(through, keep int) error {
	eps, err := c.Refreshes()
	if err != nil {
		return err
	}
	var old []int
	for _, e := range eps {
		if e > through {
			if err := os.RemoveAll(c.RefreshDir(e)); err != nil {
				return fmt.Errorf("results: %w", err)
			}
			continue
		}
		old = append(old, e)
	}
	for i := 0; i < len(old)-keep; i++ {
		if err := os.RemoveAll(c.RefreshDir(old[i])); err != nil {
			return fmt.Errorf("results: %w", err)
		}
	}
	return nil
}

// PruneFinished frees what only an unfinished cell needs: the previous
// and any half-written checkpoint and the saved refreshes (resume state).
// The last checkpoint stays, for a stage 2 run later on the finished
// encoder. At a million labels each checkpoint is gigabytes, and a run
// that kept two per finished cell filled the disk.
func (c *CellStore) PruneFinished() error {
	final := c.CheckpointDir()
	for _, d := range []string{final + ".prev", final + ".next", final + ".old"} {
		if err := os.RemoveAll(d); err != nil {
			return fmt.Errorf("results: %w", err)
		}
	}
	// Every saved refresh is newer than epoch -1.
	return c.PruneRefreshes(-1, 0)
}

// Reset removes a cell's records, checkpoints and status (a fresh start).
func (c *CellStore) Reset() error {
	if err := os.RemoveAll(c.Dir); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	return nil
}
